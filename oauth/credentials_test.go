package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/secret"
)

// lookupCounter counts the credential reads of client authentication.
type lookupCounter struct {
	gatehouse.Store
	byDigest, lists atomic.Int64
}

func (l *lookupCounter) GetCredentialByDigest(ctx context.Context, d []byte) (gatehouse.Credential, error) {
	l.byDigest.Add(1)
	return l.Store.GetCredentialByDigest(ctx, d)
}

func (l *lookupCounter) ListCredentials(ctx context.Context, appID int64) ([]gatehouse.Credential, error) {
	l.lists.Add(1)
	return l.Store.ListCredentials(ctx, appID)
}

// Issue 11 item 1: verifying a wrong secret is one keyed-digest lookup
// however many credentials the app holds — never a walk over them — and
// the right secret (the positive control) one lookup too.
func TestWrongSecretIsOneLookupHoweverManyCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	lc := &lookupCounter{Store: e.store}
	srv, err := oauth.NewServer(lc, serverKey, oauth.Config{Issuer: "https://as.example"}, oauth.Options{Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= gatehouse.MaxCredentials; n++ {
		if n > 1 {
			if _, _, err := srv.CreateCredential(ctx, e.app, fmt.Sprint("c", n), time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range []struct {
			name   string
			secret string
			ok     bool
		}{
			{"wrong", secret.New(secret.ClientSecret), false},
			{"right", e.sec, true},
		} {
			lc.byDigest.Store(0)
			lc.lists.Store(0)
			// A fresh server: no credential is cached.
			fresh, err := oauth.NewServer(lc, serverKey, oauth.Config{Issuer: "https://as.example"}, oauth.Options{Now: e.clock.now})
			if err != nil {
				t.Fatal(err)
			}
			_, err = fresh.AuthenticateClient(ctx, oauth.ClientAuth{Method: oauth.AuthBasic, ClientID: e.app.ClientID, Secret: tt.secret})
			if (err == nil) != tt.ok {
				t.Fatalf("%d credentials, %s secret: %v", n, tt.name, err)
			}
			if lc.byDigest.Load() != 1 || lc.lists.Load() != 0 {
				t.Errorf("%d credentials, %s secret: %d digest lookups and %d listings, want 1 and 0", n, tt.name, lc.byDigest.Load(), lc.lists.Load())
			}
		}
	}
}

// Issue 11 item 1: an expired credential is refused exactly as a wrong one
// (invalid_client, the same answer), and the audit log says which: one
// expired_credential_used event an hour, however often the client tries.
func TestExpiredCredentialRefusedLikeAWrongOneAndAudited(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sec, _, err := e.srv.CreateCredential(ctx, e.app, "short", e.clock.now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	auth := func(s string) error {
		_, err := e.srv.AuthenticateClient(ctx, oauth.ClientAuth{Method: oauth.AuthBasic, ClientID: e.app.ClientID, Secret: s})
		return err
	}
	if err := auth(sec); err != nil {
		t.Fatalf("the credential before its expiry: %v", err)
	}
	e.clock.add(time.Minute)
	expired, wrong := auth(sec), auth(secret.New(secret.ClientSecret))
	var fe, fw *oauth.AuthFailure
	if !errors.As(expired, &fe) || !errors.As(wrong, &fw) || !errors.Is(expired, oauth.ErrInvalidClient) || !errors.Is(wrong, oauth.ErrInvalidClient) {
		t.Fatalf("expired: %v, wrong: %v; want both invalid_client", expired, wrong)
	}
	if fe.Reason != "expired secret" || fw.Reason != "wrong secret" {
		t.Errorf("reasons %q and %q: the log cannot tell them apart", fe.Reason, fw.Reason)
	}
	if err := auth(e.sec); err != nil {
		t.Fatalf("the app's other credential: %v", err)
	}
	countEvents := func() int {
		es, err := e.store.ListEvents(ctx, gatehouse.EventFilter{AppID: e.app.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range es {
			if ev.Kind == gatehouse.EventExpiredCredentialUsed {
				n++
			}
		}
		return n
	}
	for range 5 {
		_ = auth(sec)
	}
	if n := countEvents(); n != 1 {
		t.Fatalf("%d expired_credential_used events after 6 attempts in a minute, want 1", n)
	}
	e.clock.add(time.Hour)
	_ = auth(sec)
	if n := countEvents(); n != 2 {
		t.Fatalf("%d expired_credential_used events an hour later, want 2", n)
	}
}
