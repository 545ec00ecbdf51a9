package oauth

import (
	"sync"
	"time"
)

// perKey bounds an action (an audit event, a small write) to once per
// key per interval in this process: due marks the key done until now+d
// and reports whether it was due. Past maxCached keys it starts over,
// which costs a few repeats and bounds the memory.
type perKey[K comparable] struct {
	mu    sync.Mutex
	until map[K]time.Time
}

// due reports whether key's action is due at now (never done, or its
// interval is over) and, if so, marks it done until now+d.
func (p *perKey[K]) due(key K, now time.Time, d time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.until == nil || len(p.until) >= maxCached {
		p.until = make(map[K]time.Time)
	}
	if now.Before(p.until[key]) {
		return false
	}
	p.until[key] = now.Add(d)
	return true
}

// undo clears the mark that due(key, now, d) made, when the action failed,
// so that the next call does it; a later mark stays.
func (p *perKey[K]) undo(key K, now time.Time, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.until[key].Equal(now.Add(d)) {
		delete(p.until, key)
	}
}
