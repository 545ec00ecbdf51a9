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

// testDeleteOnlyExpired checks that DeleteExpired deletes the tokens and codes
// that expire at or before its time, revoked and used or not, and keeps the
// others.
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

	n, err := f.st.DeleteExpired(f.ctx, before, 100)
	ok(t, err)
	if n != 4 {
		t.Fatalf("DeleteExpired = %d, want 4 (2 tokens, 2 codes)", n)
	}
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
// limit tokens and limit codes, and that repeating it, as the contract tells
// callers to, deletes every expired record.
func testDeleteInBatches(t *testing.T, f *fixture) {
	const limit = 2
	g := f.grant(f.user("alice"), f.app("web"))
	before := at(time.Hour)
	var tokens, codes [][]byte
	for i := range 5 {
		tok := f.newToken(fmt.Sprint("tok", i), gatehouse.RefreshToken, g)
		tok.ExpiresAt = before.Add(-time.Duration(i) * time.Minute)
		ok(t, f.st.CreateToken(f.ctx, tok))
		tokens = append(tokens, tok.Digest)
	}
	for i := range 3 {
		c := f.newCode(fmt.Sprint("code", i), g)
		c.ExpiresAt = before.Add(-time.Duration(i) * time.Minute)
		ok(t, f.st.CreateCode(f.ctx, c))
		codes = append(codes, c.Digest)
	}
	live := f.newToken("live", gatehouse.AccessToken, g)
	live.ExpiresAt = before.Add(time.Millisecond)
	ok(t, f.st.CreateToken(f.ctx, live))

	total, calls := 0, 0
	leftTokens, leftCodes := len(tokens), len(codes)
	for {
		n, err := f.st.DeleteExpired(f.ctx, before, limit)
		ok(t, err)
		total, calls = total+n, calls+1
		nowTokens, nowCodes := countTokens(t, f, tokens), countCodes(t, f, codes)
		if leftTokens-nowTokens > limit || leftCodes-nowCodes > limit {
			t.Fatalf("call %d deleted %d tokens and %d codes, limit %d", calls, leftTokens-nowTokens, leftCodes-nowCodes, limit)
		}
		if n != (leftTokens-nowTokens)+(leftCodes-nowCodes) {
			t.Fatalf("call %d returned %d, deleted %d", calls, n, (leftTokens-nowTokens)+(leftCodes-nowCodes))
		}
		leftTokens, leftCodes = nowTokens, nowCodes
		if n < limit || calls > 10 {
			break
		}
	}
	if total != 8 || leftTokens != 0 || leftCodes != 0 {
		t.Fatalf("after %d calls: deleted %d, %d tokens and %d codes left; want 8, 0, 0", calls, total, leftTokens, leftCodes)
	}
	checkTokens(t, f, live)
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
