package rs

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// cache holds active introspection results, keyed by the SHA-256 of the
// token so that it never holds a token (BCP-4.9.3-a), each until the
// earlier of maxAge after it was introspected and the token's expiry
// (RFC 7662 §4, INT-4-c). The least recently used entry makes room. A nil
// *cache is off: get finds nothing and put keeps nothing.
type cache struct {
	maxAge     time.Duration
	maxEntries int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*list.Element
	order   *list.List // of *entry, the most recently used first
}

type entry struct {
	key    [sha256.Size]byte
	info   Info
	expire time.Time
}

func newCache(maxAge time.Duration, maxEntries int) *cache {
	return &cache{maxAge: maxAge, maxEntries: maxEntries,
		entries: map[[sha256.Size]byte]*list.Element{}, order: list.New()}
}

func cacheKey(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// get returns a copy of the Info cached for key, if it is still fresh at
// now; a stale entry is dropped.
func (c *cache) get(key [sha256.Size]byte, now time.Time) (Info, bool) {
	if c == nil {
		return Info{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return Info{}, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.expire) {
		c.remove(el)
		return Info{}, false
	}
	c.order.MoveToFront(el)
	return e.info.clone(), true
}

// put keeps info, introspected at now, until maxAge has passed or the
// token expires, whichever comes first.
func (c *cache) put(key [sha256.Size]byte, info Info, now time.Time) {
	if c == nil {
		return
	}
	expire := now.Add(c.maxAge)
	if !info.ExpiresAt.IsZero() && info.ExpiresAt.Before(expire) {
		expire = info.ExpiresAt // RFC 7662 §4: never beyond exp
	}
	if !now.Before(expire) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	for c.order.Len() >= c.maxEntries {
		c.remove(c.order.Back())
	}
	c.entries[key] = c.order.PushFront(&entry{key: key, info: info.clone(), expire: expire})
}

func (c *cache) remove(el *list.Element) {
	delete(c.entries, el.Value.(*entry).key)
	c.order.Remove(el)
}

// len is the number of entries, for tests.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
