package postgres_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestMapErr: driver errors become store sentinels by SQLSTATE (with
// errors.As, never by their text), and keep the driver error in the chain.
func TestMapErr(t *testing.T) {
	pgErr := func(code string) *pgconn.PgError {
		return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "test"}
	}
	other := errors.New("connection reset")
	tests := []struct {
		name   string
		err    error
		want   error // a sentinel, or other for "unchanged"
		pgCode string
	}{
		{"UniqueViolation", pgErr("23505"), gatehouse.ErrAlreadyExists, "23505"},
		{"WrappedUniqueViolation", fmt.Errorf("insert: %w", pgErr("23505")), gatehouse.ErrAlreadyExists, "23505"},
		{"ForeignKeyViolation", pgErr("23503"), gatehouse.ErrNotFound, "23503"},
		{"NoRows", pgx.ErrNoRows, gatehouse.ErrNotFound, ""},
		{"WrappedNoRows", fmt.Errorf("scan: %w", pgx.ErrNoRows), gatehouse.ErrNotFound, ""},
		{"CheckViolation", pgErr("23514"), other, "23514"},
		{"Other", other, other, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := postgres.MapErr(tt.err)
			if tt.want == other {
				if got != tt.err {
					t.Fatalf("MapErr changed %v into %v", tt.err, got)
				}
			} else if !errors.Is(got, tt.want) {
				t.Fatalf("MapErr(%v) = %v, want %v", tt.err, got, tt.want)
			}
			var pe *pgconn.PgError
			if tt.pgCode != "" && (!errors.As(got, &pe) || pe.Code != tt.pgCode) {
				t.Fatalf("MapErr(%v) = %v lost the PgError", tt.err, got)
			}
		})
	}
	if postgres.MapErr(nil) != nil {
		t.Fatal("MapErr(nil) is not nil")
	}
}

// TestErrorsOnTheWire: the errors of a real server map as the contract
// says, name the operation, and never carry the digest they concern.
func TestErrorsOnTheWire(t *testing.T) {
	s := pgtest.Open(t)
	ctx := t.Context()
	g := grantFixture(t, s, 1)[0]
	tok := token("tok", gatehouse.AccessToken, g, nil)
	must(t, s.CreateToken(ctx, tok))
	unknownApp := token("unknown-app", gatehouse.AccessToken, gatehouse.Grant{AppID: g.AppID + 1000}, nil)

	checks := []struct {
		name, op string
		err      error
		want     error
		pgCode   string
		secret   []byte
	}{
		{"Duplicate", "create token", s.CreateToken(ctx, tok), gatehouse.ErrAlreadyExists, "23505", tok.Digest},
		{"UnknownApp", "create token", s.CreateToken(ctx, unknownApp), gatehouse.ErrNotFound, "23503", unknownApp.Digest},
		{"Missing", "get token", second(s.GetToken(ctx, digest("missing"))), gatehouse.ErrNotFound, "", digest("missing")},
		{"ConsumeMissing", "consume code", second(s.ConsumeCode(ctx, digest("code"), t0)), gatehouse.ErrNotFound, "", digest("code")},
		{"RedeemMissing", "redeem code", second(s.RedeemCode(ctx, digest("code"), t0, nil)), gatehouse.ErrNotFound, "", digest("code")},
		{"DuplicateCredential", "create credential", credentialTwice(t, s, g.AppID), gatehouse.ErrAlreadyExists, "23505", digest("cred")},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, c.want) {
				t.Fatalf("error = %v, want %v", c.err, c.want)
			}
			var pe *pgconn.PgError
			if c.pgCode != "" && (!errors.As(c.err, &pe) || pe.Code != c.pgCode) {
				t.Fatalf("error %v does not carry SQLSTATE %s", c.err, c.pgCode)
			}
			msg := c.err.Error()
			if !strings.HasPrefix(msg, "postgres: "+c.op+": ") {
				t.Errorf("error %q does not name the operation %q", msg, c.op)
			}
			for _, enc := range []string{hex.EncodeToString(c.secret), base64.StdEncoding.EncodeToString(c.secret),
				base64.RawURLEncoding.EncodeToString(c.secret), string(c.secret)} {
				if strings.Contains(strings.ToLower(msg), strings.ToLower(enc)) {
					t.Errorf("error %q contains the digest", msg)
				}
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

// credentialTwice stores one credential digest twice and returns the
// second error.
func credentialTwice(t *testing.T, s *postgres.Store, appID int64) error {
	c := gatehouse.Credential{AppID: appID, Digest: digest("cred"), Hint: "ab", CreatedAt: t0}
	_, err := s.CreateCredential(t.Context(), c)
	must(t, err)
	_, err = s.CreateCredential(t.Context(), c)
	return err
}

// TestZeroTimeRefused: the methods that record an event refuse the zero
// time, which would read as "never".
func TestZeroTimeRefused(t *testing.T) {
	s := pgtest.Open(t)
	ctx := t.Context()
	g := grantFixture(t, s, 1)[0]
	tok := token("tok", gatehouse.RefreshToken, g, nil)
	must(t, s.CreateToken(ctx, tok))
	c, err := s.CreateCredential(ctx, gatehouse.Credential{AppID: g.AppID, Digest: digest("c"), Hint: "c", CreatedAt: t0})
	must(t, err)
	var zero time.Time
	for name, err := range map[string]error{
		"RevokeToken":        s.RevokeToken(ctx, tok.Digest, zero),
		"RevokeGrant":        s.RevokeGrant(ctx, g.ID, zero),
		"RevokeAppTokens":    second(s.RevokeAppTokens(ctx, g.AppID, zero)),
		"TouchCredential":    s.TouchCredential(ctx, c.ID, zero),
		"ConsumeCode":        second(s.ConsumeCode(ctx, digest("code"), zero)),
		"RotateRefreshToken": second(s.RotateRefreshToken(ctx, tok.Digest, zero, false, nil)),
	} {
		if err == nil {
			t.Errorf("%s accepted the zero time", name)
		}
	}
	got, err := s.GetToken(ctx, tok.Digest)
	must(t, err)
	if !got.RevokedAt.IsZero() || !got.UsedAt.IsZero() {
		t.Fatalf("token changed: %+v", got)
	}
}
