package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestFailureLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(Limit{Burst: 3, Every: 10 * time.Second}, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatalf("refused before failure %d", i+1)
		}
		l.Fail("k")
	}
	ok, wait := l.Allow("k")
	if ok || wait <= 0 || wait > 10*time.Second {
		t.Fatalf("after the burst: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Fatal("another key is throttled too")
	}
	now = now.Add(10 * time.Second)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("still refused after one interval")
	}
	l.Fail("k")
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("one interval refills one attempt, not more")
	}
}

func TestFailureLimiterMemoryIsBounded(t *testing.T) {
	l := New(Limit{Burst: 1, Every: time.Hour}, nil)
	for i := range maxBuckets + 10 {
		l.Fail(strings.Repeat("x", i%7) + string(rune(i)))
	}
	if n := len(l.buckets); n > maxBuckets {
		t.Fatalf("%d buckets kept", n)
	}
}
