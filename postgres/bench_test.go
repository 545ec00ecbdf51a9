package postgres_test

import (
	"crypto/sha256"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// The benchmarks mirror those of the SQLite backend, on a local server
// through a pool of pgtest.PoolSize connections.

// benchStore opens a store on a fresh schema with one app.
func benchStore(b *testing.B) (*postgres.Store, gatehouse.App) {
	s := pgtest.Open(b)
	app, err := s.CreateApp(b.Context(), gatehouse.App{ClientID: "bench", Type: gatehouse.Confidential})
	if err != nil {
		b.Fatal(err)
	}
	return s, app
}

func benchToken(app gatehouse.App, i uint64) gatehouse.Token {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], i)
	d := sha256.Sum256(n[:])
	now := time.Now()
	return gatehouse.Token{
		Digest: d[:], Kind: gatehouse.AccessToken, AppID: app.ID, Scopes: []string{"read", "write"},
		IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute),
	}
}

func BenchmarkCreateToken(b *testing.B) {
	s, app := benchStore(b)
	var i uint64
	for b.Loop() {
		i++
		if err := s.CreateToken(b.Context(), benchToken(app, i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateGrantToken stores tokens of a grant, which lock it FOR
// SHARE against a concurrent revocation.
func BenchmarkCreateGrantToken(b *testing.B) {
	s, app := benchStore(b)
	u, err := s.CreateUser(b.Context(), gatehouse.User{Username: "bench", PasswordHash: "x"})
	if err != nil {
		b.Fatal(err)
	}
	g, err := s.CreateGrant(b.Context(), gatehouse.Grant{UserID: u.ID, AppID: app.ID})
	if err != nil {
		b.Fatal(err)
	}
	var i uint64
	for b.Loop() {
		i++
		tok := benchToken(app, i)
		tok.UserID, tok.GrantID = u.ID, g.ID
		if err := s.CreateToken(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
}

// seedTokens stores n tokens and returns their digests.
func seedTokens(b *testing.B, s *postgres.Store, app gatehouse.App, n int) [][]byte {
	var digests [][]byte
	for i := range n {
		tok := benchToken(app, uint64(i))
		if err := s.CreateToken(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
		digests = append(digests, tok.Digest)
	}
	return digests
}

func BenchmarkGetToken(b *testing.B) {
	s, app := benchStore(b)
	digests := seedTokens(b, s, app, 1000)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.GetToken(b.Context(), digests[i%len(digests)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetTokenParallel(b *testing.B) {
	s, app := benchStore(b)
	digests := seedTokens(b, s, app, 1000)
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if _, err := s.GetToken(b.Context(), digests[i%int64(len(digests))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGetCredentialByDigest is the digest lookup of client
// authentication when the cache is cold.
func BenchmarkGetCredentialByDigest(b *testing.B) {
	s, app := benchStore(b)
	d := sha256.Sum256([]byte("credential"))
	if _, err := s.CreateCredential(b.Context(), gatehouse.Credential{AppID: app.ID, Digest: d[:], Hint: "abcd", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.GetCredentialByDigest(b.Context(), d[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetApp is an app lookup with its four lists when the cache is
// cold.
func BenchmarkGetApp(b *testing.B) {
	s, app := benchStore(b)
	for b.Loop() {
		if _, err := s.GetApp(b.Context(), app.ClientID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGeneration is the per-request check of the app cache.
func BenchmarkGeneration(b *testing.B) {
	s, _ := benchStore(b)
	for b.Loop() {
		if _, err := s.Generation(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRotateRefreshToken is one refresh: the exchange of a refresh
// token for a new refresh and access token.
func BenchmarkRotateRefreshToken(b *testing.B) {
	s, app := benchStore(b)
	u, err := s.CreateUser(b.Context(), gatehouse.User{Username: "bench", PasswordHash: "x"})
	if err != nil {
		b.Fatal(err)
	}
	g, err := s.CreateGrant(b.Context(), gatehouse.Grant{UserID: u.ID, AppID: app.ID})
	if err != nil {
		b.Fatal(err)
	}
	tok := func(i uint64, kind gatehouse.TokenKind, parent []byte) gatehouse.Token {
		t := benchToken(app, i)
		t.Kind, t.UserID, t.GrantID, t.Parent = kind, u.ID, g.ID, parent
		return t
	}
	old := tok(0, gatehouse.RefreshToken, nil)
	if err := s.CreateToken(b.Context(), old); err != nil {
		b.Fatal(err)
	}
	var i uint64
	for b.Loop() {
		next := []gatehouse.Token{tok(i+1, gatehouse.RefreshToken, old.Digest), tok(i+2, gatehouse.AccessToken, old.Digest)}
		i += 2
		if _, err := s.RotateRefreshToken(b.Context(), old.Digest, time.Now(), false, next); err != nil {
			b.Fatal(err)
		}
		old = next[0]
	}
}
