package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// goroutines is how many goroutines race in each concurrency case.
const goroutines = 32

func concurrencyCases() []testCase {
	return []testCase{
		{"ConsumeCodeOnce", testConsumeRace},
		{"RedeemCodeOnce", testRedeemRace},
		{"CreateTokenSameDigest", testCreateTokenRace},
		{"CreateTokenDistinct", testCreateTokensConcurrently},
		{"RevokeTokenWhileReading", testRevokeWhileReading},
		{"TouchCredentialKeepsLatest", testTouchRace},
		{"RotateRefreshTokenOnce", testRotateRace},
		{"RetryRefreshTokenOneFamily", testRetryRace},
	}
}

// race runs fn(i) for i in [0, n) in n goroutines released at once, and
// waits for them.
func race(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// winner returns the index of the only nil error, failing the test unless
// there is exactly one and every other error is loser.
func winner(t *testing.T, errs []error, loser error) int {
	t.Helper()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("goroutines %d and %d both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, loser):
			t.Fatalf("goroutine %d: error = %v, want %v", i, err, loser)
		}
	}
	if won < 0 {
		t.Fatal("no goroutine succeeded")
	}
	return won
}

// testConsumeRace: of many goroutines redeeming one code, exactly one
// succeeds; the others get ErrAlreadyUsed with the code as the winner left it.
func testConsumeRace(t *testing.T, f *fixture) {
	want := f.code("code", f.grant(f.user("alice"), f.app("web")))
	usedAt := func(i int) time.Time { return at(time.Duration(i+1) * time.Second) }
	codes, errs := make([]gatehouse.Code, goroutines), make([]error, goroutines)
	race(goroutines, func(i int) { codes[i], errs[i] = f.st.ConsumeCode(f.ctx, want.Digest, usedAt(i)) })
	won := winner(t, errs, gatehouse.ErrAlreadyUsed)
	want.UsedAt = usedAt(won)
	for i, c := range codes {
		same(t, fmt.Sprintf("code returned to goroutine %d", i), c, want)
	}
}

// testRedeemRace: of many goroutines redeeming one code, each with tokens
// of its own, exactly one succeeds, and only its tokens are stored.
func testRedeemRace(t *testing.T, f *fixture) {
	g := f.grant(f.user("alice"), f.app("web"))
	c := f.code("code", g)
	next, errs := make([][]gatehouse.Token, goroutines), make([]error, goroutines)
	for i := range next {
		next[i] = []gatehouse.Token{f.newToken(fmt.Sprint("access", i), gatehouse.AccessToken, g), f.newToken(fmt.Sprint("refresh", i), gatehouse.RefreshToken, g)}
	}
	race(goroutines, func(i int) { _, errs[i] = f.st.RedeemCode(f.ctx, c.Digest, at(time.Second), next[i]) })
	won := winner(t, errs, gatehouse.ErrAlreadyUsed)
	for i, tokens := range next {
		for _, tok := range tokens {
			_, err := f.st.GetToken(f.ctx, tok.Digest)
			if i == won {
				ok(t, err)
			} else {
				isErr(t, err, gatehouse.ErrNotFound)
			}
		}
	}
}

// testCreateTokenRace: of many goroutines storing one digest, exactly one
// succeeds and its token is the one stored.
func testCreateTokenRace(t *testing.T, f *fixture) {
	g := f.grant(f.user("alice"), f.app("web"))
	tokens, errs := make([]gatehouse.Token, goroutines), make([]error, goroutines)
	for i := range tokens {
		tokens[i] = f.newToken("same", gatehouse.RefreshToken, g)
		tokens[i].Scopes = []string{fmt.Sprint("scope", i)}
	}
	race(goroutines, func(i int) { errs[i] = f.st.CreateToken(f.ctx, tokens[i]) })
	won := winner(t, errs, gatehouse.ErrAlreadyExists)
	checkTokens(t, f, tokens[won])
}

// testCreateTokensConcurrently: concurrent stores of distinct tokens all
// succeed and can all be read back.
func testCreateTokensConcurrently(t *testing.T, f *fixture) {
	const perGoroutine = 4
	g := f.grant(f.user("alice"), f.app("web"))
	var tokens []gatehouse.Token
	for i := range goroutines * perGoroutine {
		tokens = append(tokens, f.newToken(fmt.Sprint("token", i), gatehouse.AccessToken, g))
	}
	race(goroutines, func(i int) {
		for _, tok := range tokens[i*perGoroutine : (i+1)*perGoroutine] {
			if err := f.st.CreateToken(f.ctx, tok); err != nil {
				t.Errorf("goroutine %d: CreateToken: %v", i, err)
			}
		}
	})
	if !t.Failed() {
		checkTokens(t, f, tokens...)
	}
}

// testRevokeWhileReading: readers racing revokers of a token see it either
// unrevoked or revoked at one time that never changes afterwards, and the
// time is that of one of the revokers.
func testRevokeWhileReading(t *testing.T, f *fixture) {
	const revokers, reads = goroutines / 2, 20
	want := f.appToken("tok", f.app("web"))
	revokedAt := func(i int) time.Time { return at(time.Duration(i+1) * time.Minute) }
	seen := make([][]time.Time, goroutines-revokers)
	race(goroutines, func(i int) {
		if i < revokers {
			if err := f.st.RevokeToken(f.ctx, want.Digest, revokedAt(i)); err != nil {
				t.Errorf("revoker %d: %v", i, err)
			}
			return
		}
		for range reads {
			got, err := f.st.GetToken(f.ctx, want.Digest)
			if err != nil {
				t.Errorf("reader %d: %v", i, err)
				return
			}
			seen[i-revokers] = append(seen[i-revokers], got.RevokedAt)
		}
	})
	got, err := f.st.GetToken(f.ctx, want.Digest)
	ok(t, err)
	final := got.RevokedAt
	if !slices.ContainsFunc(revokerTimes(revokers, revokedAt), func(rt time.Time) bool { return sameTime(rt, final) }) {
		t.Fatalf("RevokedAt = %v, not one of the revokers' times", final)
	}
	want.RevokedAt = final
	same(t, "revoked token", got, want)
	for r, times := range seen {
		checkMonotonic(t, r, times, final)
	}
}

// revokerTimes returns revokedAt(i) for i in [0, n).
func revokerTimes(n int, revokedAt func(int) time.Time) []time.Time {
	var times []time.Time
	for i := range n {
		times = append(times, revokedAt(i))
	}
	return times
}

// checkMonotonic fails the test if a reader saw a revocation time other than
// final, or saw the token unrevoked after it saw it revoked.
func checkMonotonic(t *testing.T, reader int, times []time.Time, final time.Time) {
	t.Helper()
	revoked := false
	for _, rt := range times {
		switch {
		case rt.IsZero() && revoked:
			t.Fatalf("reader %d saw the token unrevoked after it saw it revoked", reader)
		case !rt.IsZero() && !sameTime(rt, final):
			t.Fatalf("reader %d saw RevokedAt %v, final %v", reader, rt, final)
		}
		revoked = revoked || !rt.IsZero()
	}
}

// testTouchRace: whatever order concurrent touches land in, the latest time
// stays.
func testTouchRace(t *testing.T, f *fixture) {
	c := f.credential("secret", f.app("web"))
	touchAt := func(i int) time.Time { return at(time.Duration((i*7)%goroutines) * time.Minute) }
	race(goroutines, func(i int) {
		if err := f.st.TouchCredential(f.ctx, c.ID, touchAt(i)); err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	})
	got, err := f.st.GetCredentialByDigest(f.ctx, c.Digest)
	ok(t, err)
	c.LastUsedAt = at((goroutines - 1) * time.Minute)
	same(t, "credential", got, c)
}

// successorsOf returns, for each of n goroutines, the distinct successors
// that it exchanges old for.
func (f *fixture) successorsOf(n int, prefix string, old gatehouse.Token) [][]gatehouse.Token {
	nexts := make([][]gatehouse.Token, n)
	for i := range nexts {
		nexts[i] = f.successors(fmt.Sprint(prefix, i), old)
	}
	return nexts
}

// testRotateRace: of many goroutines exchanging one refresh token, exactly
// one succeeds and only its successors are stored; the others get
// ErrAlreadyUsed with the token as the winner left it.
func testRotateRace(t *testing.T, f *fixture) {
	old := f.refreshToken("old")
	nexts := f.successorsOf(goroutines, "gen", old)
	usedAt := func(i int) time.Time { return at(time.Duration(i+1) * time.Second) }
	got, errs := make([]gatehouse.Token, goroutines), make([]error, goroutines)
	race(goroutines, func(i int) {
		got[i], errs[i] = f.st.RotateRefreshToken(f.ctx, old.Digest, usedAt(i), false, nexts[i])
	})
	won := winner(t, errs, gatehouse.ErrAlreadyUsed)
	old.UsedAt = usedAt(won)
	for i := range got {
		same(t, fmt.Sprintf("token returned to goroutine %d", i), got[i], old)
	}
	for i, next := range nexts {
		if i == won {
			checkTokens(t, f, next...)
		} else {
			checkMissing(t, f, next...)
		}
	}
}

// testRetryRace: however many retries of one used token race, the first
// successors are revoked and exactly one family of successors stays
// unrevoked, that of a retry that succeeded; a retry that failed stored
// nothing. (Whether every retry succeeds, as the condition of the contract
// says, or exactly one, as its last sentence says, is left open.)
func testRetryRace(t *testing.T, f *fixture) {
	old := f.refreshToken("old")
	gen0 := f.successors("gen0", old)
	f.rotate(old, at(time.Minute), false, gen0)
	nexts := f.successorsOf(goroutines, "retry", old)
	errs := make([]error, goroutines)
	race(goroutines, func(i int) {
		_, errs[i] = f.st.RotateRefreshToken(f.ctx, old.Digest, at(time.Hour+time.Duration(i)*time.Second), true, nexts[i])
	})
	if familyLive(t, f, gen0) {
		t.Fatal("no retry revoked the first successors")
	}
	live := 0
	for i, next := range nexts {
		if errs[i] != nil {
			isErr(t, errs[i], gatehouse.ErrAlreadyUsed)
			checkMissing(t, f, next...)
			continue
		}
		if familyLive(t, f, next) {
			live++
		}
	}
	if live != 1 {
		t.Fatalf("%d families of successors are unrevoked, want 1", live)
	}
}

// familyLive reports whether the tokens of one exchange are unrevoked,
// failing the test if some are and some are not.
func familyLive(t *testing.T, f *fixture, family []gatehouse.Token) bool {
	t.Helper()
	revoked := 0
	for _, w := range family {
		got, err := f.st.GetToken(f.ctx, w.Digest)
		ok(t, err)
		if !got.RevokedAt.IsZero() {
			revoked++
		}
	}
	if revoked != 0 && revoked != len(family) {
		t.Fatalf("%d of %d tokens of one exchange are revoked", revoked, len(family))
	}
	return revoked == 0
}
