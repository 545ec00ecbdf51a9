package client

import (
	"reflect"
	"runtime"
	"sync"
	"weak"
)

// sourceID names a PersistentSource: one per app, store and key.
type sourceID struct {
	app   App
	store TokenStore
	key   TokenKey
}

// sources holds the PersistentSources in use, weakly: an entry goes when
// nothing else holds its source.
var sources struct {
	mu sync.Mutex
	m  map[sourceID]weak.Pointer[PersistentSource]
}

// sharedSource returns the PersistentSource of (a, store, key), made on
// first use. A store whose type cannot be a map key gets a source of its
// own each time.
func sharedSource(a App, store TokenStore, key TokenKey) *PersistentSource {
	if store == nil || !reflect.TypeOf(store).Comparable() {
		return newPersistentSource(a, store, key)
	}
	id := sourceID{app: a, store: store, key: key}
	sources.mu.Lock()
	defer sources.mu.Unlock()
	if s := sources.m[id].Value(); s != nil {
		return s
	}
	s := newPersistentSource(a, store, key)
	wp := weak.Make(s)
	if sources.m == nil {
		sources.m = map[sourceID]weak.Pointer[PersistentSource]{}
	}
	sources.m[id] = wp
	runtime.AddCleanup(s, func(id sourceID) {
		sources.mu.Lock()
		defer sources.mu.Unlock()
		if sources.m[id] == wp {
			delete(sources.m, id)
		}
	}, id)
	return s
}
