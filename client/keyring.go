package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"
)

// KeyringStore keeps tokens in the operating system's keyring (the Secret
// Service on Linux and BSD, the Keychain on macOS, the Credential Manager
// on Windows), which encrypts them at rest and shows them only to the
// user: for native and command-line apps. Made by NewKeyringStore.
//
// An item's service is the one given to NewKeyringStore, its user the
// TokenKey as a JSON array, [issuer, client id, subject], and its secret the
// tokens as JSON.
//
// Every keyring call runs under a timeout (DefaultKeyringTimeout unless
// WithKeyringTimeout), as a locked Secret Service can wait forever on an
// unlock prompt; calls run one at a time, and one that does not return in
// time is left to finish in the background and reported as
// ErrKeyringUnavailable. The store never writes a token to a plain file:
// when the keyring is unavailable it fails, unless the app opted in to an
// encrypted FileStore with WithFallback.
type KeyringStore struct {
	service  string
	timeout  time.Duration
	fallback *FileStore
	logger   *slog.Logger
	warnOnce sync.Once
	calls    chan struct{} // a semaphore of one: the keyring is called by one goroutine at a time
	backend  keyringBackend
}

// keyringBackend is the part of go-keyring that the store calls; tests
// replace it with a fake that hangs.
type keyringBackend interface {
	Set(service, user, secret string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// osKeyring is go-keyring's provider of the platform (or its mock, after
// keyring.MockInit).
type osKeyring struct{}

func (osKeyring) Set(service, user, secret string) error   { return keyring.Set(service, user, secret) }
func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

var _ TokenStore = (*KeyringStore)(nil)

// DefaultKeyringTimeout bounds each keyring call, long enough for a user
// to answer an unlock prompt.
const DefaultKeyringTimeout = 10 * time.Second

// ErrKeyringUnavailable: the keyring did not answer in time or could not
// be reached (no Secret Service on the session bus, a locked keyring whose
// prompt was dismissed, an unsupported platform). It wraps the keyring's
// own error when there is one.
var ErrKeyringUnavailable = errors.New("client: the OS keyring is unavailable")

// KeyringOption configures a KeyringStore.
type KeyringOption func(*KeyringStore)

// WithKeyringTimeout bounds each keyring call by d instead of
// DefaultKeyringTimeout.
func WithKeyringTimeout(d time.Duration) KeyringOption {
	return func(s *KeyringStore) { s.timeout = d }
}

// WithFallback makes the store use fs, an encrypted FileStore, while the
// keyring is unavailable (ErrKeyringUnavailable), and log that once, as a
// warning, on logger. Without it, an unavailable keyring is an error.
//
// While a fallback record exists it is newer than the keyring's, since a
// Save to the keyring deletes it: Load returns it first, and the next Save
// that reaches the keyring moves the tokens there. Delete deletes both.
func WithFallback(fs *FileStore, logger *slog.Logger) KeyringOption {
	return func(s *KeyringStore) { s.fallback, s.logger = fs, logger }
}

// NewKeyringStore returns the store for items of service, a name of the
// app (e.g. "com.example.mycli").
func NewKeyringStore(service string, opts ...KeyringOption) (*KeyringStore, error) {
	s := &KeyringStore{service: service, timeout: DefaultKeyringTimeout, calls: make(chan struct{}, 1), backend: osKeyring{}}
	for _, o := range opts {
		o(s)
	}
	switch {
	case service == "":
		return nil, errors.New("client: NewKeyringStore: no service name")
	case s.timeout <= 0:
		return nil, errors.New("client: NewKeyringStore: the timeout must be positive")
	case s.fallback != nil && s.logger == nil:
		return nil, errors.New("client: NewKeyringStore: WithFallback needs a logger, to report the fallback")
	}
	return s, nil
}

// Load returns key's tokens or ErrNoToken; see WithFallback for where it
// looks when the app opted in to a fallback.
func (s *KeyringStore) Load(ctx context.Context, key TokenKey) (*oauth2.Token, error) {
	if s.fallback != nil {
		tok, err := s.fallback.Load(ctx, key)
		if err == nil && isTombstone(tok) {
			// A Delete could not reach the keyring: try to finish it; until
			// then the item stays hidden behind its tombstone.
			_ = s.Delete(ctx, key)
			return nil, ErrNoToken
		}
		if !errors.Is(err, ErrNoToken) {
			return tok, err
		}
	}
	secret, err := s.call(ctx, func() (string, error) { return s.backend.Get(s.service, keyringUser(key)) })
	if err != nil {
		if errors.Is(err, keyring.ErrNotFound) {
			return nil, ErrNoToken
		}
		if s.useFallback(ctx, err) {
			return nil, ErrNoToken // the fallback holds nothing either
		}
		return nil, err
	}
	var j tokenJSON
	if err := json.Unmarshal([]byte(secret), &j); err != nil {
		return nil, errors.New("client: the keyring item is not a token") // never the item itself
	}
	return j.token(), nil
}

// Save replaces key's tokens in the keyring (or, with a fallback and the
// keyring unavailable, in the fallback).
func (s *KeyringStore) Save(ctx context.Context, key TokenKey, tok *oauth2.Token) error {
	if tok == nil {
		return errors.New("client: Save of a nil token")
	}
	b, err := json.Marshal(toJSON(tok))
	if err != nil {
		return err
	}
	_, err = s.call(ctx, func() (string, error) { return "", s.backend.Set(s.service, keyringUser(key), string(b)) })
	if err != nil {
		if s.useFallback(ctx, err) {
			return s.fallback.Save(ctx, key, tok)
		}
		return err
	}
	if s.fallback != nil {
		return s.fallback.Delete(ctx, key) // the keyring holds the newest now
	}
	return nil
}

// Delete removes key's tokens from the keyring and the fallback; deleting
// what is not there is not an error. When the keyring is unavailable and
// there is a fallback, Delete leaves a tombstone in the fallback, which
// hides the keyring's item from Load until a later Delete or Load reaches
// the keyring (or a Save replaces it), and returns the keyring's error:
// the tokens are not shown again, but they are still in the keyring.
func (s *KeyringStore) Delete(ctx context.Context, key TokenKey) error {
	_, err := s.call(ctx, func() (string, error) { return "", s.backend.Delete(s.service, keyringUser(key)) })
	if errors.Is(err, keyring.ErrNotFound) {
		err = nil
	}
	if s.fallback == nil {
		return err
	}
	if err != nil {
		s.useFallback(ctx, err)
		if terr := s.fallback.Save(ctx, key, tombstone()); terr != nil {
			return errors.Join(err, fmt.Errorf("client: mark the tokens deleted in the fallback: %w", terr))
		}
		return fmt.Errorf("client: delete the tokens from the keyring (they are hidden by a tombstone in the fallback until it is reachable): %w", err)
	}
	return s.fallback.Delete(ctx, key)
}

// tombstoneType marks a fallback record that stands for a deleted item.
const tombstoneType = "gatehouse-deleted"

func tombstone() *oauth2.Token { return &oauth2.Token{TokenType: tombstoneType} }

func isTombstone(t *oauth2.Token) bool {
	return t != nil && t.TokenType == tombstoneType && t.AccessToken == "" && t.RefreshToken == ""
}

// useFallback reports whether err is the keyring's unavailability and the
// app opted in to a fallback, which it then logs, once per store.
func (s *KeyringStore) useFallback(ctx context.Context, err error) bool {
	if s.fallback == nil || !errors.Is(err, ErrKeyringUnavailable) {
		return false
	}
	s.warnOnce.Do(func() {
		s.logger.WarnContext(ctx, "the OS keyring is unavailable: tokens are kept in the encrypted fallback file store",
			"keyring_service", s.service, "error", err.Error())
	})
	return true
}

// call runs f under the store's timeout, one call at a time. It returns
// ctx's error when the caller's ctx ends first, ErrKeyringUnavailable when
// the timeout does, and f's error otherwise, ErrKeyringUnavailable added
// to any but the keyring's ErrNotFound and ErrSetDataTooBig.
func (s *KeyringStore) call(ctx context.Context, f func() (string, error)) (string, error) {
	tctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	timedOut := func() (string, error) {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		return "", fmt.Errorf("%w: no answer in %v", ErrKeyringUnavailable, s.timeout)
	}
	select {
	case s.calls <- struct{}{}:
	case <-tctx.Done():
		return timedOut()
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-s.calls }()
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && !errors.Is(r.err, keyring.ErrNotFound) && !errors.Is(r.err, keyring.ErrSetDataTooBig) {
			return "", fmt.Errorf("%w: %w", ErrKeyringUnavailable, r.err)
		}
		return r.v, r.err
	case <-tctx.Done():
		return timedOut()
	}
}

// keyringUser names key's item: [issuer, client id, subject] in JSON.
func keyringUser(key TokenKey) string {
	b, _ := json.Marshal([]string{key.Issuer, key.ClientID, key.Subject})
	return string(b)
}
