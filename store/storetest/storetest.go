package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Run runs the conformance suite against the stores newStore returns. Every
// case calls newStore once and expects a fresh, migrated, empty store; newStore
// registers its own cleanup (t.Cleanup) and fails t if it cannot open one.
func Run(t *testing.T, newStore func(t *testing.T) gatehouse.Store) {
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Schema", schemaCases()},
		{"Scopes", scopeCases()},
		{"Users", userCases()},
		{"Apps", appCases()},
		{"DeleteApp", deleteAppCases()},
		{"UpdateApp", updateAppCases()},
		{"DeleteScope", deleteScopeCases()},
		{"DeleteUser", deleteUserCases()},
		{"Portal", portalCases()},
		{"SetPasswordHash", setPasswordCases()},
		{"Credentials", credentialCases()},
		{"ScopeUse", scopeUseCases()},
		{"Grants", grantCases()},
		{"Consents", consentCases()},
		{"Disconnect", append(disconnectCases(), lastTokenCases()...)},
		{"Codes", codeCases()},
		{"DeviceCodes", deviceCodeCases()},
		{"Tokens", tokenCases()},
		{"Rotation", rotationCases()},
		{"IdleRefreshTokens", idleRefreshCases()},
		{"Sessions", sessionCases()},
		{"Events", eventCases()},
		{"Attempts", attemptCases()},
		{"DeleteExpired", expiryCases()},
		{"Transactions", atomicCases()},
		{"Generation", generationCases()},
		{"Concurrency", concurrencyCases()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					c.run(t, &fixture{t: t, ctx: t.Context(), st: newStore(t)})
				})
			}
		})
	}
}

// testCase is one subtest; it gets a fixture on a store of its own.
type testCase struct {
	name string
	run  func(t *testing.T, f *fixture)
}

func schemaCases() []testCase {
	return []testCase{
		{"MigrateIsIdempotent", func(t *testing.T, f *fixture) {
			ok(t, f.st.Migrate(f.ctx))
			ok(t, f.st.Migrate(f.ctx))
			sc := f.scope("openid")
			got, err := f.st.GetScope(f.ctx, sc.Name)
			ok(t, err)
			same(t, "scope after migrating again", got, sc)
		}},
		{"Ping", func(t *testing.T, f *fixture) { ok(t, f.st.Ping(f.ctx)) }},
	}
}

// t0 is the suite's clock. It has a sub-millisecond part, which backends may
// drop: times are compared with millisecond precision.
var t0 = time.Date(2031, time.March, 4, 5, 6, 7, 891_234_567, time.UTC)

// at returns t0 moved by d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// digest returns a distinct 32-byte digest for each name.
func digest(name string) []byte {
	d := sha256.Sum256([]byte(name))
	return d[:]
}

// fixture builds the records a case needs, failing the test on any error.
type fixture struct {
	t   *testing.T
	ctx context.Context
	st  gatehouse.Store
}

// scope registers a scope, unless one of that name exists, and returns it.
func (f *fixture) scope(name string) gatehouse.Scope {
	f.t.Helper()
	if sc, err := f.st.GetScope(f.ctx, name); err == nil {
		return sc
	}
	sc := gatehouse.Scope{Name: name, Description: "Allows " + name, CreatedAt: at(0)}
	ok(f.t, f.st.CreateScope(f.ctx, sc))
	return sc
}

// newApp returns an unsaved app with every field set; its scopes are
// registered.
func (f *fixture) newApp(clientID string) gatehouse.App {
	f.t.Helper()
	for _, name := range []string{"write", "read", "admin"} {
		f.scope(name)
	}
	return appRecord(clientID)
}

// appRecord returns an unsaved app with every field set, whose scopes are
// write, read and admin.
func appRecord(clientID string) gatehouse.App {
	return gatehouse.App{
		ClientID:       clientID,
		Name:           "App " + clientID,
		Type:           gatehouse.Confidential,
		RedirectURIs:   []string{"https://" + clientID + ".example/cb", "http://127.0.0.1/cb", "https://a.example/"},
		Scopes:         []string{"write", "read", "admin"},
		DefaultScopes:  []string{"read", "write"},
		Grants:         []string{gatehouse.GrantRefreshToken, gatehouse.GrantAuthorizationCode},
		ResourceServer: true,
		CreatedAt:      at(time.Minute),
	}
}

// app stores newApp(clientID).
func (f *fixture) app(clientID string) gatehouse.App {
	f.t.Helper()
	a, err := f.st.CreateApp(f.ctx, f.newApp(clientID))
	ok(f.t, err)
	return a
}

func (f *fixture) user(username string) gatehouse.User {
	f.t.Helper()
	u, err := f.st.CreateUser(f.ctx, gatehouse.User{
		Username: username, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: at(time.Second),
	})
	ok(f.t, err)
	return u
}

func (f *fixture) grant(u gatehouse.User, a gatehouse.App) gatehouse.Grant {
	f.t.Helper()
	g, err := f.st.CreateGrant(f.ctx, gatehouse.Grant{
		UserID: u.ID, AppID: a.ID, Scopes: []string{"read", "write"}, CreatedAt: at(2 * time.Second),
	})
	ok(f.t, err)
	return g
}

// newCode returns an unsaved code of the grant, expiring at t0+1m.
func (f *fixture) newCode(name string, g gatehouse.Grant) gatehouse.Code {
	return gatehouse.Code{
		Digest: digest(name), AppID: g.AppID, UserID: g.UserID, GrantID: g.ID,
		RedirectURI: "https://client.example/cb?state=" + name, Scopes: []string{"write", "read"},
		Challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CreatedAt: at(0), ExpiresAt: at(time.Minute),
	}
}

func (f *fixture) code(name string, g gatehouse.Grant) gatehouse.Code {
	f.t.Helper()
	c := f.newCode(name, g)
	ok(f.t, f.st.CreateCode(f.ctx, c))
	return c
}

// newToken returns an unsaved token of the grant, expiring at t0+1h.
func (f *fixture) newToken(name string, kind gatehouse.TokenKind, g gatehouse.Grant) gatehouse.Token {
	return gatehouse.Token{
		Digest: digest(name), Kind: kind, AppID: g.AppID, UserID: g.UserID, GrantID: g.ID,
		Scopes: []string{"read", "write"}, IssuedAt: at(0), ExpiresAt: at(time.Hour),
	}
}

// token stores a token of the grant.
func (f *fixture) token(name string, kind gatehouse.TokenKind, g gatehouse.Grant) gatehouse.Token {
	f.t.Helper()
	tok := f.newToken(name, kind, g)
	ok(f.t, f.st.CreateToken(f.ctx, tok))
	return tok
}

// appToken stores a client credentials token of the app: no user, no grant.
func (f *fixture) appToken(name string, a gatehouse.App) gatehouse.Token {
	f.t.Helper()
	return f.token(name, gatehouse.AccessToken, gatehouse.Grant{AppID: a.ID})
}

// ok fails the test if err is not nil.
func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// isErr fails the test unless errors.Is(err, want).
func isErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

// same fails the test if two records of the same struct type differ: times
// by a millisecond or more (or in being zero), string lists in their items
// (nil and empty are the same), other fields in value.
func same[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if d := diff(got, want); len(d) > 0 {
		t.Fatalf("%s differs:\n%s", what, d)
	}
}

// sameList is same for lists of records, in order.
func sameList[T any](t testing.TB, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d records, want %d", what, len(got), len(want))
	}
	for i := range got {
		same(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
	}
}

func diff(got, want any) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	var out string
	for i := range g.NumField() {
		if !fieldEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			out += fmt.Sprintf("\t%s = %v, want %v\n", g.Type().Field(i).Name, g.Field(i), w.Field(i))
		}
	}
	return out
}

func fieldEqual(got, want any) bool {
	switch g := got.(type) {
	case time.Time:
		return sameTime(g, want.(time.Time))
	case []string:
		return slices.Equal(g, want.([]string))
	}
	return reflect.DeepEqual(got, want)
}

// sameTime reports whether two times are equal with millisecond precision.
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.Sub(b).Abs() < time.Millisecond
}
