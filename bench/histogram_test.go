package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	var values []uint64
	for s := range 64 {
		for _, d := range []int64{-1, 0, 1} {
			values = append(values, uint64(int64(1)<<s+d))
		}
	}
	values = append(values, math.MaxUint64, math.MaxInt64)
	for _, v := range values {
		i := bucketOf(v)
		lo, hi := bucketRange(i)
		if i < 0 || i >= numBuckets || v < lo || v > hi {
			t.Errorf("value %d: bucket %d is [%d, %d]", v, i, lo, hi)
		}
	}
	// Adjacent buckets touch: no value falls between two of them.
	for i := 1; i < numBuckets; i++ {
		_, prevHi := bucketRange(i - 1)
		lo, _ := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, bucket %d ends at %d", i, lo, i-1, prevHi)
		}
	}
}

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one value", []time.Duration{7 * time.Millisecond}, 0.99, 7 * time.Millisecond},
		{"small values are exact", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5, 5},
		{"p99 of 100 values is the 99th", seq(100, time.Microsecond), 0.99, 99 * time.Microsecond},
		{"p100 is the maximum", seq(1000, time.Millisecond), 1, 1000 * time.Millisecond},
		{"p0 is the minimum", seq(10, time.Second), 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tt.values {
				h.Record(v)
			}
			if got := h.Quantile(tt.q); !within(got, tt.want, 0.008) {
				t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

// TestQuantilesAreWithinOnePercent compares against the exact order
// statistics of a log-normal sample shaped like HTTP latencies.
func TestQuantilesAreWithinOnePercent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	exact := make([]time.Duration, 100_000)
	for i := range exact {
		exact[i] = time.Duration(math.Exp(r.NormFloat64()*0.8) * float64(500*time.Microsecond))
		h.Record(exact[i])
	}
	slices.Sort(exact)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := exact[int(math.Ceil(q*float64(len(exact))))-1]
		if got := h.Quantile(q); !within(got, want, 0.01) {
			t.Errorf("p%v = %v, exact %v", q*100, got, want)
		}
	}
	if h.Count() != uint64(len(exact)) || h.Max() != exact[len(exact)-1] {
		t.Errorf("count %d max %v, want %d %v", h.Count(), h.Max(), len(exact), exact[len(exact)-1])
	}
}

func TestMergeEqualsRecordingEverything(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i*i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var merged Histogram
	merged.Merge(&a)
	merged.Merge(&b)
	merged.Merge(&Histogram{}) // merging an empty histogram changes nothing
	for _, q := range []float64{0, 0.5, 0.99, 1} {
		if merged.Quantile(q) != all.Quantile(q) {
			t.Errorf("p%v: merged %v, all %v", q*100, merged.Quantile(q), all.Quantile(q))
		}
	}
	if merged.Count() != all.Count() || merged.Mean() != all.Mean() {
		t.Errorf("merged count %d mean %v, all %d %v", merged.Count(), merged.Mean(), all.Count(), all.Mean())
	}
}

func TestNegativeLatencyCountsAsZero(t *testing.T) {
	var h Histogram
	h.Record(-time.Second)
	if h.Quantile(0.5) != 0 || h.Count() != 1 {
		t.Errorf("got %v (count %d)", h.Quantile(0.5), h.Count())
	}
}

func seq(n int, unit time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * unit
	}
	return out
}

func within(got, want time.Duration, rel float64) bool {
	return math.Abs(float64(got-want)) <= rel*float64(want)
}
