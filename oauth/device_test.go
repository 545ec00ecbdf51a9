package oauth_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/oauth"
)

// A device cookie vouches for its own account's browser until it expires,
// and never for another account, a forged cookie, or after its lifetime:
// each of those sign-ins is a stranger's again (issue 9 finding 4).
func TestDeviceCookiesAreBoundAndExpire(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ann, err := e.srv.CreateUser(ctx, "ann", "ann's long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.CreateUser(ctx, "bob", "bob's long enough password"); err != nil {
		t.Fatal(err)
	}
	_, id, err := e.srv.SignIn(ctx, ann, true)
	if err != nil {
		t.Fatal(err)
	}
	known := func(id, username string) bool {
		t.Helper()
		ok, err := e.srv.KnownDevice(ctx, id, username)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !known(id, "ann") {
		t.Fatal("ann's own device is not known")
	}
	forged := id[:len(id)-1] + string(id[len(id)-1]^1) // breaks the checksum
	for name, c := range map[string]struct{ id, user string }{
		"another account":   {id, "bob"},
		"no such account":   {id, "nobody"},
		"a forged cookie":   {forged, "ann"},
		"a session's value": {"gth_se_" + id[len("gth_dc_"):], "ann"},
	} {
		if known(c.id, c.user) {
			t.Errorf("%s is known", name)
		}
	}
	e.clock.add(oauth.DefaultDeviceTTL - time.Second)
	if !known(id, "ann") {
		t.Fatal("the device expired early")
	}
	e.clock.add(time.Second)
	if known(id, "ann") {
		t.Fatal("an expired device is still known")
	}
}
