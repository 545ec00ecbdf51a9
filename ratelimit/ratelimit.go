package ratelimit

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"
)

// Limit is a token bucket: Burst failures are allowed at once, and one more
// every Every.
type Limit struct {
	Burst int
	Every time.Duration
}

// maxBuckets bounds the limiter's memory whatever the number of keys an
// attacker makes up.
const maxBuckets = 100_000

// FailureLimiter counts failures per key in token buckets. Every attempt
// reserves one token first and a success gives it back, so only failures
// count. While a key's bucket is empty every attempt of that key is refused,
// even one that would succeed: a brute-force run cannot test its last guess
// for free.
type FailureLimiter struct {
	limit Limit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter; now is the clock (time.Now if nil).
func New(l Limit, now func() time.Time) *FailureLimiter {
	if now == nil {
		now = time.Now
	}
	return &FailureLimiter{limit: l, now: now, buckets: make(map[string]*bucket)}
}

// Reserve takes one attempt from key's bucket before the attempt is made,
// so that concurrent attempts cannot all pass a check made before any of
// them failed. It reports false, and how long to wait, when the bucket is
// empty; nothing is taken then. A successful attempt gives its reservation
// back with Refund.
func (l *FailureLimiter) Reserve(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key)
	if b.tokens < 1 {
		return false, l.wait(b)
	}
	b.tokens--
	return true, 0
}

// bucket returns key's bucket, refilled to now, creating a full one for a
// new key. The caller holds l.mu.
func (l *FailureLimiter) bucket(key string) *bucket {
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.evict()
		}
		b = &bucket{tokens: float64(l.limit.Burst), at: l.now()}
		l.buckets[key] = b
	}
	l.refill(b)
	return b
}

// wait is how long until b holds one attempt again.
func (l *FailureLimiter) wait(b *bucket) time.Duration {
	return time.Duration((1 - b.tokens) * float64(l.limit.Every))
}

// Allow reports whether key may try now without taking anything; Fail then
// counts a failure. Concurrent attempts can all pass Allow before the first
// Fail: use it where a few extra guesses do not matter (256-bit client
// secrets) and legitimate traffic is concurrent; use Reserve for passwords.
func (l *FailureLimiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return true, 0
	}
	l.refill(b)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, l.wait(b)
}

// Fail counts a failure of key, and reports whether it emptied the bucket:
// key is throttled from now on (an attempt refused while throttled counts
// too, and reports false).
func (l *FailureLimiter) Fail(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key)
	was := b.tokens
	b.tokens = math.Max(b.tokens-1, 0)
	return was >= 1 && b.tokens < 1
}

// Refund returns a reservation of key: the attempt succeeded.
func (l *FailureLimiter) Refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		l.refill(b)
		b.tokens = math.Min(float64(l.limit.Burst), b.tokens+1)
	}
}

func (l *FailureLimiter) refill(b *bucket) {
	now := l.now()
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = math.Min(float64(l.limit.Burst), b.tokens+elapsed.Seconds()/l.limit.Every.Seconds())
	}
	b.at = now
}

// evict drops the buckets that have refilled completely; if that is not
// enough, it drops the fullest ones (the least throttled keys) until half
// the room is free, so that memory stays bounded under attack and the keys
// that are locked out stay locked out.
func (l *FailureLimiter) evict() {
	keys := make([]string, 0, len(l.buckets))
	for k, b := range l.buckets {
		l.refill(b)
		if b.tokens >= float64(l.limit.Burst) {
			delete(l.buckets, k)
			continue
		}
		keys = append(keys, k)
	}
	if len(l.buckets) < maxBuckets/2 {
		return
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(l.buckets[b].tokens, l.buckets[a].tokens) })
	for _, k := range keys[:len(keys)-maxBuckets/2] {
		delete(l.buckets, k)
	}
}
