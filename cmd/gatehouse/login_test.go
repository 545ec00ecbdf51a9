package main

import (
	"net/url"
	"sync"
	"testing"
)

// O21-2.4.1-a for users: concurrent wrong passwords cannot all be tried
// before the first failure counts; the limit holds under a burst.
func TestLoginThrottleHoldsUnderConcurrency(t *testing.T) {
	f := newFlowFixture(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for range 30 {
		wg.Go(func() {
			b := newBrowser(t, f.srv.URL)
			p := b.post("/login", url.Values{"username": {f.user}, "password": {"wrong password " + f.password}})
			mu.Lock()
			counts[p.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts[401] > 5 || counts[429]+counts[503] < 25 || counts[401]+counts[429]+counts[503] != 30 {
		t.Fatalf("30 concurrent wrong passwords: %v; want at most 5 tried (401), the rest refused", counts)
	}
}
