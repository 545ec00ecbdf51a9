package sqlite_test

import (
	"crypto/sha256"
	"encoding/binary"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
)

// benchStore opens a file store with one app.
func benchStore(b *testing.B) (*sqlite.Store, gatehouse.App) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
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

// seedTokens stores n tokens and returns their digests.
func seedTokens(b *testing.B, s *sqlite.Store, app gatehouse.App, n int) [][]byte {
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
