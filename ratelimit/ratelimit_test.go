package ratelimit

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFailureLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(Limit{Burst: 3, Every: 10 * time.Second}, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Reserve("k"); !ok {
			t.Fatalf("refused before failure %d", i+1)
		}
	}
	ok, wait := l.Reserve("k")
	if ok || wait <= 0 || wait > 10*time.Second {
		t.Fatalf("after the burst: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.Reserve("other"); !ok {
		t.Fatal("another key is throttled too")
	}
	now = now.Add(10 * time.Second)
	if ok, _ := l.Reserve("k"); !ok {
		t.Fatal("still refused after one interval")
	}
	if ok, _ := l.Reserve("k"); ok {
		t.Fatal("one interval refills one attempt, not more")
	}
}

// Successes give their reservation back: only failures count.
func TestFailureLimiterRefund(t *testing.T) {
	l := New(Limit{Burst: 2, Every: time.Hour}, nil)
	for range 10 {
		if ok, _ := l.Reserve("k"); !ok {
			t.Fatal("successful attempts were throttled")
		}
		l.Refund("k")
	}
}

// Concurrent attempts cannot all pass a check made before any of them
// failed: exactly Burst of them get through.
func TestFailureLimiterConcurrentReservations(t *testing.T) {
	l := New(Limit{Burst: 5, Every: time.Hour}, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 100 {
		wg.Go(func() {
			if ok, _ := l.Reserve("k"); ok {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if passed != 5 {
		t.Fatalf("%d of 100 concurrent attempts passed, want 5", passed)
	}
}

func TestFailureLimiterMemoryIsBounded(t *testing.T) {
	l := New(Limit{Burst: 1, Every: time.Hour}, nil)
	for i := range maxBuckets + 10 {
		l.Reserve(strings.Repeat("x", i%7) + string(rune(i)))
	}
	if n := len(l.buckets); n > maxBuckets {
		t.Fatalf("%d buckets kept", n)
	}
}

// Allow and Fail: only failures count, and a refused key waits.
func TestFailureLimiterAllowFail(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(Limit{Burst: 2, Every: 10 * time.Second}, func() time.Time { return now })
	for range 5 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatal("refused without failures")
		}
	}
	l.Fail("k")
	l.Fail("k")
	if ok, wait := l.Allow("k"); ok || wait <= 0 {
		t.Fatalf("after the burst: ok=%v wait=%v", ok, wait)
	}
	now = now.Add(10 * time.Second)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("still refused after one interval")
	}
}

// Eviction under a flood of new keys keeps the keys that are locked out
// (with random eviction, all 50 surviving would have odds of 2^-50).
func TestEvictionKeepsLockedOutKeys(t *testing.T) {
	l := New(Limit{Burst: 3, Every: time.Hour}, nil)
	for a := range 50 {
		for range 3 {
			l.Fail("attacker" + strconv.Itoa(a))
		}
	}
	for i := range maxBuckets + 10 {
		l.Fail(strconv.Itoa(i)) // one failure each: less throttled than the attackers
	}
	for a := range 50 {
		if ok, _ := l.Allow("attacker" + strconv.Itoa(a)); ok {
			t.Fatalf("a flood of new keys evicted locked-out key %d", a)
		}
	}
}
