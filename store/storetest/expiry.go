package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func expiryCases() []testCase {
	return []testCase{
		{"Empty", func(t *testing.T, f *fixture) {
			n, err := f.st.DeleteExpired(f.ctx, at(0), 10)
			ok(t, err)
			if n != 0 {
				t.Fatalf("DeleteExpired of an empty store = %d", n)
			}
		}},
		{"OnlyExpired", testDeleteOnlyExpired},
		{"Batches", testDeleteInBatches},
	}
}

// testDeleteOnlyExpired checks that DeleteExpired deletes the tokens, codes
// and sessions that expire at or before its time, revoked and used or not,
// and keeps the others.
func testDeleteOnlyExpired(t *testing.T, f *fixture) {
	g := f.grant(f.user("alice"), f.app("web"))
	before := at(time.Hour)
	var expired, live []gatehouse.Token
	for i, exp := range []time.Time{before.Add(-time.Hour), before, before.Add(time.Second), before.Add(time.Hour)} {
		tok := f.newToken(fmt.Sprint("tok", i), gatehouse.AccessToken, g)
		tok.ExpiresAt = exp
		if i%2 == 1 {
			tok.RevokedAt = at(time.Minute)
		}
		ok(t, f.st.CreateToken(f.ctx, tok))
		if exp.After(before) {
			live = append(live, tok)
		} else {
			expired = append(expired, tok)
		}
	}
	oldCode, usedCode, liveCode := f.newCode("old", g), f.newCode("used", g), f.newCode("live", g)
	oldCode.ExpiresAt, usedCode.ExpiresAt, liveCode.ExpiresAt = before, before.Add(-time.Minute), before.Add(time.Second)
	for _, c := range []gatehouse.Code{oldCode, usedCode, liveCode} {
		ok(t, f.st.CreateCode(f.ctx, c))
	}
	_, err := f.st.ConsumeCode(f.ctx, usedCode.Digest, at(time.Second))
	ok(t, err)
	expiredSessions, liveSessions := f.sessionsExpiring(g, before)

	n, err := f.st.DeleteExpired(f.ctx, before, 100)
	ok(t, err)
	if n != 6 {
		t.Fatalf("DeleteExpired = %d, want 6 (2 tokens, 2 codes, 2 sessions)", n)
	}
	checkSessionsGone(t, f, expiredSessions...)
	checkSessions(t, f, liveSessions...)
	for _, tok := range expired {
		_, err := f.st.GetToken(f.ctx, tok.Digest)
		isErr(t, err, gatehouse.ErrNotFound)
	}
	checkTokens(t, f, live...)
	for _, c := range []gatehouse.Code{oldCode, usedCode} {
		_, err := f.st.ConsumeCode(f.ctx, c.Digest, at(2*time.Hour))
		isErr(t, err, gatehouse.ErrNotFound)
	}
	_, err = f.st.ConsumeCode(f.ctx, liveCode.Digest, at(2*time.Hour))
	ok(t, err)
}

// testDeleteInBatches checks that each DeleteExpired call deletes at most
// limit records of each kind (tokens, codes, sessions), and that repeating
// it, as the contract tells callers to, deletes every expired record.
func testDeleteInBatches(t *testing.T, f *fixture) {
	const limit = 2
	g := f.grant(f.user("alice"), f.app("web"))
	before := at(time.Hour)
	kinds := []*expiring{
		{name: "tokens", count: f.expiredTokens(g, before, 5)},
		{name: "codes", count: f.expiredCodes(g, before, 3)},
		{name: "sessions", count: f.expiredSessions(g, before, 4)},
	}
	live := f.newToken("live", gatehouse.AccessToken, g)
	live.ExpiresAt = before.Add(time.Millisecond)
	ok(t, f.st.CreateToken(f.ctx, live))
	liveSession := newSession("live", gatehouse.User{ID: g.UserID})
	liveSession.ExpiresAt = before.Add(time.Millisecond)
	ok(t, f.st.CreateSession(f.ctx, liveSession))

	total := 0
	for _, k := range kinds {
		k.left = k.count()
	}
	for calls := 1; ; calls++ {
		n, err := f.st.DeleteExpired(f.ctx, before, limit)
		ok(t, err)
		if deleted := deletedBy(t, kinds, limit, calls); n != deleted {
			t.Fatalf("call %d returned %d, deleted %d", calls, n, deleted)
		}
		total += n
		if n < limit || calls > 10 {
			break
		}
	}
	for _, k := range kinds {
		if k.left != 0 {
			t.Fatalf("%d expired %s left after repeated calls", k.left, k.name)
		}
	}
	if total != 12 {
		t.Fatalf("deleted %d records in all, want 12", total)
	}
	checkTokens(t, f, live)
	checkSessions(t, f, liveSession)
}

// expiring is one kind of record that DeleteExpired deletes: count counts
// its expired records that still exist, left is the last count.
type expiring struct {
	name  string
	count func() int
	left  int
}

// deletedBy counts the records of each kind that a call deleted, failing the
// test if it deleted more than limit of one kind, and returns their sum.
func deletedBy(t *testing.T, kinds []*expiring, limit, call int) int {
	t.Helper()
	sum := 0
	for _, k := range kinds {
		now := k.count()
		if k.left-now > limit {
			t.Fatalf("call %d deleted %d %s, limit %d", call, k.left-now, k.name, limit)
		}
		sum, k.left = sum+k.left-now, now
	}
	return sum
}

// expiredTokens stores n tokens of the grant that expire at or before
// before, and returns a counter of those that still exist.
func (f *fixture) expiredTokens(g gatehouse.Grant, before time.Time, n int) func() int {
	var digests [][]byte
	for i := range n {
		tok := f.newToken(fmt.Sprint("tok", i), gatehouse.RefreshToken, g)
		tok.ExpiresAt = before.Add(-time.Duration(i) * time.Minute)
		ok(f.t, f.st.CreateToken(f.ctx, tok))
		digests = append(digests, tok.Digest)
	}
	return func() int { return countTokens(f.t, f, digests) }
}

// expiredCodes stores n codes of the grant that expire at or before before,
// and returns a counter of those that still exist.
func (f *fixture) expiredCodes(g gatehouse.Grant, before time.Time, n int) func() int {
	var digests [][]byte
	for i := range n {
		c := f.newCode(fmt.Sprint("code", i), g)
		c.ExpiresAt = before.Add(-time.Duration(i) * time.Minute)
		ok(f.t, f.st.CreateCode(f.ctx, c))
		digests = append(digests, c.Digest)
	}
	return func() int { return countCodes(f.t, f, digests) }
}

// expiredSessions stores n sessions of the grant's user that expire at or
// before before, and returns a counter of those that still exist.
func (f *fixture) expiredSessions(g gatehouse.Grant, before time.Time, n int) func() int {
	var digests [][]byte
	for i := range n {
		s := newSession(fmt.Sprint("session", i), gatehouse.User{ID: g.UserID})
		s.ExpiresAt = before.Add(-time.Duration(i) * time.Minute)
		ok(f.t, f.st.CreateSession(f.ctx, s))
		digests = append(digests, s.Digest)
	}
	return func() int { return countSessions(f.t, f, digests) }
}

// countSessions counts the sessions among digests that still exist.
func countSessions(t *testing.T, f *fixture, digests [][]byte) int {
	t.Helper()
	n := 0
	for _, d := range digests {
		if _, err := f.st.GetSession(f.ctx, d); err == nil {
			n++
		} else {
			isErr(t, err, gatehouse.ErrNotFound)
		}
	}
	return n
}

// sessionsExpiring stores sessions of the grant's user: two that expire at or
// before before, and two that do not (one never expires).
func (f *fixture) sessionsExpiring(g gatehouse.Grant, before time.Time) (expired, live []gatehouse.Session) {
	f.t.Helper()
	u := gatehouse.User{ID: g.UserID}
	for i, exp := range []time.Time{before.Add(-time.Hour), before, before.Add(time.Millisecond), {}} {
		s := newSession(fmt.Sprint("session", i), u)
		s.ExpiresAt = exp
		ok(f.t, f.st.CreateSession(f.ctx, s))
		if exp.IsZero() || exp.After(before) {
			live = append(live, s)
		} else {
			expired = append(expired, s)
		}
	}
	return expired, live
}

// countTokens counts the tokens among digests that still exist.
func countTokens(t *testing.T, f *fixture, digests [][]byte) int {
	t.Helper()
	n := 0
	for _, d := range digests {
		if _, err := f.st.GetToken(f.ctx, d); err == nil {
			n++
		} else {
			isErr(t, err, gatehouse.ErrNotFound)
		}
	}
	return n
}

// countCodes counts the codes among digests that still exist. It consumes
// them, which marks them used but keeps them.
func countCodes(t *testing.T, f *fixture, digests [][]byte) int {
	t.Helper()
	n := 0
	for _, d := range digests {
		_, err := f.st.ConsumeCode(f.ctx, d, at(time.Second))
		if err == nil || errors.Is(err, gatehouse.ErrAlreadyUsed) {
			n++
		} else {
			isErr(t, err, gatehouse.ErrNotFound)
		}
	}
	return n
}
