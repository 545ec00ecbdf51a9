package postgres_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// Races that the conformance suite does not run, between different methods.
// They use a wider pool than pgtest's default, so that more transactions
// interleave for real.

const widePool = "12"

// openWide opens a migrated store with a pool of widePool connections.
func openWide(t *testing.T) *postgres.Store {
	t.Helper()
	return openDSN(t, pgtest.WithParam(pgtest.DSN(t), "pool_max_conns", widePool))
}

// openDSN opens and migrates a store that is closed when the test ends.
func openDSN(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)

func digest(name string) []byte {
	d := sha256.Sum256([]byte(name))
	return d[:]
}

// grantFixture stores a user, an app and n grants of the user for the app.
func grantFixture(t *testing.T, s *postgres.Store, n int) []gatehouse.Grant {
	t.Helper()
	ctx := t.Context()
	u, err := s.CreateUser(ctx, gatehouse.User{Username: "alice", PasswordHash: "x", CreatedAt: t0})
	must(t, err)
	a, err := s.CreateApp(ctx, gatehouse.App{ClientID: "web", Name: "Web", Type: gatehouse.Confidential})
	must(t, err)
	var gs []gatehouse.Grant
	for range n {
		g, err := s.CreateGrant(ctx, gatehouse.Grant{UserID: u.ID, AppID: a.ID, Scopes: []string{"read"}, CreatedAt: t0})
		must(t, err)
		gs = append(gs, g)
	}
	return gs
}

func token(name string, kind gatehouse.TokenKind, g gatehouse.Grant, parent []byte) gatehouse.Token {
	return gatehouse.Token{
		Digest: digest(name), Kind: kind, AppID: g.AppID, UserID: g.UserID, GrantID: g.ID,
		Scopes: []string{"read"}, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), Parent: parent,
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCreateTokenRacingRevokeGrant: however CreateToken and RevokeGrant
// interleave, no token lives on in a revoked grant: every CreateToken either
// fails with ErrNotFound and stores nothing, or stores a token that the
// revocation revoked.
func TestCreateTokenRacingRevokeGrant(t *testing.T) {
	const rounds, writers, perWriter = 30, 10, 6
	s := openWide(t)
	ctx := t.Context()
	for round, g := range grantFixture(t, s, rounds) {
		stored := make([][]gatehouse.Token, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				<-start
				for i := range perWriter {
					tok := token(fmt.Sprint(round, "-", w, "-", i), gatehouse.AccessToken, g, nil)
					switch err := s.CreateToken(ctx, tok); {
					case err == nil:
						stored[w] = append(stored[w], tok)
					case !errors.Is(err, gatehouse.ErrNotFound):
						t.Errorf("CreateToken: %v", err)
					}
				}
			})
		}
		wg.Go(func() {
			<-start
			time.Sleep(time.Duration(round%5) * time.Millisecond)
			if err := s.RevokeGrant(ctx, g.ID, t0.Add(time.Minute)); err != nil {
				t.Errorf("RevokeGrant: %v", err)
			}
		})
		close(start)
		wg.Wait()
		for _, toks := range stored {
			for _, tok := range toks {
				got, err := s.GetToken(ctx, tok.Digest)
				must(t, err)
				if got.RevokedAt.IsZero() {
					t.Fatalf("round %d: a token was stored unrevoked in the revoked grant", round)
				}
			}
		}
	}
}

// TestRetryRacingSuccessorExchange: a retried exchange of old and an
// exchange of old's successor exclude each other, as they would one after
// the other: exactly one of them succeeds.
func TestRetryRacingSuccessorExchange(t *testing.T) {
	const rounds = 40
	s := openWide(t)
	ctx := t.Context()
	for round, g := range grantFixture(t, s, rounds) {
		name := func(s string) string { return fmt.Sprint(round, "-", s) }
		old := token(name("old"), gatehouse.RefreshToken, g, nil)
		must(t, s.CreateToken(ctx, old))
		succ := token(name("succ"), gatehouse.RefreshToken, g, old.Digest)
		_, err := s.RotateRefreshToken(ctx, old.Digest, t0.Add(time.Second), false, []gatehouse.Token{succ})
		must(t, err)
		var retryErr, exchangeErr error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			next := []gatehouse.Token{token(name("retry"), gatehouse.RefreshToken, g, old.Digest)}
			_, retryErr = s.RotateRefreshToken(ctx, old.Digest, t0.Add(time.Minute), true, next)
		})
		wg.Go(func() {
			<-start
			next := []gatehouse.Token{token(name("next"), gatehouse.RefreshToken, g, succ.Digest)}
			_, exchangeErr = s.RotateRefreshToken(ctx, succ.Digest, t0.Add(time.Minute), false, next)
		})
		close(start)
		wg.Wait()
		for _, err := range []error{retryErr, exchangeErr} {
			if err != nil && !errors.Is(err, gatehouse.ErrAlreadyUsed) {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if (retryErr == nil) == (exchangeErr == nil) {
			t.Fatalf("round %d: retry error %v, successor exchange error %v; want exactly one to succeed", round, retryErr, exchangeErr)
		}
	}
}

// TestRotateRacingRevokeGrant: an exchange racing the revocation of its
// grant either fails, or stores successors that the revocation revoked.
func TestRotateRacingRevokeGrant(t *testing.T) {
	const rounds = 40
	s := openWide(t)
	ctx := t.Context()
	for round, g := range grantFixture(t, s, rounds) {
		old := token(fmt.Sprint(round, "-old"), gatehouse.RefreshToken, g, nil)
		must(t, s.CreateToken(ctx, old))
		next := token(fmt.Sprint(round, "-next"), gatehouse.RefreshToken, g, old.Digest)
		var rotateErr error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			_, rotateErr = s.RotateRefreshToken(ctx, old.Digest, t0.Add(time.Second), false, []gatehouse.Token{next})
		})
		wg.Go(func() {
			<-start
			if err := s.RevokeGrant(ctx, g.ID, t0.Add(time.Minute)); err != nil {
				t.Errorf("RevokeGrant: %v", err)
			}
		})
		close(start)
		wg.Wait()
		got, err := s.GetToken(ctx, next.Digest)
		switch {
		case rotateErr != nil && !errors.Is(rotateErr, gatehouse.ErrAlreadyUsed):
			t.Fatalf("round %d: %v", round, rotateErr)
		case rotateErr != nil:
			if !errors.Is(err, gatehouse.ErrNotFound) {
				t.Fatalf("round %d: a failed exchange stored its successor (%v)", round, err)
			}
		case err != nil:
			t.Fatal(err)
		case got.RevokedAt.IsZero():
			t.Fatalf("round %d: the successor lives on in the revoked grant", round)
		}
	}
}
