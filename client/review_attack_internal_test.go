package client

// Attack tests of the client-review that need the keyring's backend
// (unexported). See review_attack_test.go.

import (
	"bytes"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"
)

// flakyKeyring is a keyring that keeps items and can be made unreachable
// (a locked Secret Service whose prompt was dismissed, a D-Bus hiccup).
type flakyKeyring struct {
	mu    sync.Mutex
	items map[string]string
	down  bool
}

var errDBus = errors.New("dbus: the name org.freedesktop.secrets was not provided")

func (k *flakyKeyring) Set(service, user, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.down {
		return errDBus
	}
	k.items[service+"\x00"+user] = secret
	return nil
}

func (k *flakyKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.down {
		return "", errDBus
	}
	v, ok := k.items[service+"\x00"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (k *flakyKeyring) Delete(service, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.down {
		return errDBus
	}
	delete(k.items, service+"\x00"+user)
	return nil
}

// FINDING: with WithFallback, Delete treats an unavailable keyring as
// success (useFallback swallows the error). Logout then reports that the
// tokens are gone while the keyring still holds them; once the keyring is
// reachable again, Load returns them: the user who logged out is signed in
// again (with a refresh token that is live if the revocation failed too).
func TestReview_KeyringDeleteSwallowedWithFallback(t *testing.T) {
	var logs bytes.Buffer
	fs := newTestFileStore(t, privateDir(t), testKeys(t, testKey(t)))
	s := newTestKeyringStore(t, WithFallback(fs, slog.New(slog.NewTextHandler(&logs, nil))))
	kr := &flakyKeyring{items: map[string]string{}}
	s.backend = kr
	if err := s.Save(t.Context(), alice, testToken(t)); err != nil {
		t.Fatal(err)
	}
	kr.mu.Lock()
	kr.down = true
	kr.mu.Unlock()
	if err := s.Delete(t.Context(), alice); err != nil {
		t.Logf("Delete reported %v (fine: the failure is not swallowed)", err)
	} else {
		t.Log("Delete reported success while the keyring was unreachable")
	}
	kr.mu.Lock()
	kr.down = false
	kr.mu.Unlock()
	if tok, err := s.Load(t.Context(), alice); err == nil {
		t.Fatalf("the tokens come back after a Delete that returned nil: refresh token %q", tok.RefreshToken)
	}
}
