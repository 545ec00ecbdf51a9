package storetest

import (
	"testing"
	"time"
)

func attemptCases() []testCase {
	return []testCase{
		{"BurstThenRefuse", func(t *testing.T, f *fixture) {
			key := digest("alice|203.0.113.9")
			for range 3 {
				f.take(key, at(0), 10*time.Second, 3, true, 0)
			}
			f.take(key, at(0), 10*time.Second, 3, false, 10*time.Second)
			f.take(key, at(4*time.Second), 10*time.Second, 3, false, 6*time.Second)
			f.take(key, at(10*time.Second), 10*time.Second, 3, true, 0)
			f.take(key, at(10*time.Second), 10*time.Second, 3, false, 10*time.Second)
			// A long pause fills the bucket, but no more than burst.
			for range 3 {
				f.take(key, at(time.Hour), 10*time.Second, 3, true, 0)
			}
			f.take(key, at(time.Hour), 10*time.Second, 3, false, 10*time.Second)
		}},
		{"ReturnGivesBack", func(t *testing.T, f *fixture) {
			key := digest("bob")
			f.take(key, at(0), time.Minute, 2, true, 0)
			f.take(key, at(0), time.Minute, 2, true, 0)
			f.take(key, at(0), time.Minute, 2, false, time.Minute)
			ok(t, f.st.ReturnAttempt(f.ctx, key, time.Minute))
			f.take(key, at(0), time.Minute, 2, true, 0)
			f.take(key, at(0), time.Minute, 2, false, time.Minute)
			// Giving back to a bucket that does not exist does nothing.
			ok(t, f.st.ReturnAttempt(f.ctx, digest("nobody"), time.Minute))
			f.take(digest("nobody"), at(0), time.Minute, 1, true, 0)
			f.take(digest("nobody"), at(0), time.Minute, 1, false, time.Minute)
		}},
		{"KeysAreIndependent", func(t *testing.T, f *fixture) {
			f.take(digest("a"), at(0), time.Minute, 1, true, 0)
			f.take(digest("a"), at(0), time.Minute, 1, false, time.Minute)
			f.take(digest("b"), at(0), time.Minute, 1, true, 0)
		}},
		{"RefusesBadLimits", func(t *testing.T, f *fixture) {
			if _, _, err := f.st.TakeAttempt(f.ctx, digest("a"), at(0), 0, 1); err == nil {
				t.Error("every 0 accepted")
			}
			if _, _, err := f.st.TakeAttempt(f.ctx, digest("a"), at(0), time.Second, 0); err == nil {
				t.Error("burst 0 accepted")
			}
			if err := f.st.ReturnAttempt(f.ctx, digest("a"), 0); err == nil {
				t.Error("return with every 0 accepted")
			}
		}},
		{"ConcurrentTakersShareTheBurst", func(t *testing.T, f *fixture) {
			key := digest("carol")
			const n, burst = 32, 5
			taken := make([]bool, n)
			errs := make([]error, n)
			race(n, func(i int) {
				taken[i], _, errs[i] = f.st.TakeAttempt(f.ctx, key, at(0), time.Minute, burst)
			})
			count := 0
			for i := range n {
				ok(t, errs[i])
				if taken[i] {
					count++
				}
			}
			if count != burst {
				t.Fatalf("%d of %d concurrent takers got an attempt from a bucket of %d", count, n, burst)
			}
		}},
		{"DeleteExpiredRemovesFullBuckets", func(t *testing.T, f *fixture) {
			for _, name := range []string{"x", "y", "z"} {
				f.take(digest(name), at(0), time.Second, 3, true, 0) // full again at 1 s
			}
			empty := digest("empty")
			f.take(empty, at(0), time.Hour, 1, true, 0) // full again at 1 h
			n, err := f.st.DeleteExpired(f.ctx, at(time.Minute), 100)
			ok(t, err)
			if n != 3 {
				t.Fatalf("deleted %d records, want the 3 full buckets", n)
			}
			f.take(empty, at(2*time.Minute), time.Hour, 1, false, time.Hour-2*time.Minute)
			f.take(digest("x"), at(2*time.Minute), time.Second, 3, true, 0)
		}},
	}
}

// take takes an attempt and checks the outcome; when refused, the wait must
// be want within a second.
func (f *fixture) take(key []byte, now time.Time, every time.Duration, burst int, want bool, wait time.Duration) {
	f.t.Helper()
	got, w, err := f.st.TakeAttempt(f.ctx, key, now, every, burst)
	ok(f.t, err)
	if got != want {
		f.t.Fatalf("take at %v: taken = %v, want %v", now.Sub(t0), got, want)
	}
	if !want && (w <= 0 || (w-wait).Abs() > time.Second) {
		f.t.Fatalf("take at %v: wait %v, want about %v", now.Sub(t0), w, wait)
	}
	if want && w != 0 {
		f.t.Fatalf("take at %v: taken with a wait of %v", now.Sub(t0), w)
	}
}
