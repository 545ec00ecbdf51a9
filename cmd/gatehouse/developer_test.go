package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// listedUser is a user of 'user list -o json'.
type listedUser struct {
	Username  string `json:"username"`
	Developer bool   `json:"developer"`
}

func (f *flowFixture) users(t *testing.T) map[string]listedUser {
	t.Helper()
	var users []listedUser
	if err := json.Unmarshal([]byte(f.cmd(t, "", "-o", "json", "user", "list")), &users); err != nil {
		t.Fatal(err)
	}
	out := map[string]listedUser{}
	for _, u := range users {
		out[u.Username] = u
	}
	return out
}

// refused runs a command that must fail and returns its one-line error.
func (f *flowFixture) refused(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCmd(t, f.dir, f.vars, "", args...)
	if code == 0 {
		t.Fatalf("%v succeeded: %s", args, out)
	}
	if strings.Count(strings.TrimSuffix(errOut, "\n"), "\n") > 0 || errOut == "" {
		t.Errorf("%v: the error is not one line: %q", args, errOut)
	}
	return errOut
}

// Issue 13: developers and the apps they own, from the command line, on
// both backends: 'user create|update --developer', 'app create|update
// --owner' with the profile the consent page shows, under the same
// validation on create and update; a deleted owner leaves the app working
// and ownerless.
func TestDeveloperAndAppOwner(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		if out := f.cmd(t, "dev password 1\n", "user", "create", "--username", "dev", "--password-stdin", "--developer"); !strings.Contains(out, "developer") {
			t.Errorf("user create --developer: %q", out)
		}
		if u := f.users(t); !u["dev"].Developer || u[f.user].Developer {
			t.Fatalf("user list: %+v", u)
		}
		if out := f.cmd(t, "", "user", "list"); !strings.Contains(out, "DEVELOPER") {
			t.Errorf("user list has no DEVELOPER column: %q", out)
		}

		var created createdApp
		out := f.cmd(t, "", "app", "create", "-o", "json", "--name", "Notes", "--type", "confidential", "--scope", "read",
			"--grant", "client_credentials", "--owner", "dev", "--description", "Syncs your notes.",
			"--homepage", "https://notes.example/", "--privacy-url", "https://notes.example/privacy", "--terms-url", "https://notes.example/terms")
		if err := json.Unmarshal([]byte(out), &created); err != nil || created.ClientSecret == "" {
			t.Fatalf("app create: %q (%v)", out, err)
		}
		a := showApp(t, f.dir, vars, created.ClientID)
		if a.Owner != "dev" || a.Description != "Syncs your notes." || a.HomepageURL != "https://notes.example/" ||
			a.PrivacyURL != "https://notes.example/privacy" || a.TermsURL != "https://notes.example/terms" {
			t.Fatalf("app show -o json: %+v", a)
		}
		if text := f.cmd(t, "", "app", "show", created.ClientID); !strings.Contains(text, "owner:") || !strings.Contains(text, "https://notes.example/privacy") {
			t.Errorf("app show: %q", text)
		}

		// Unsafe or malformed profiles are refused in one line, on create and
		// on update, and change nothing.
		for _, bad := range [][]string{
			{"--homepage", "http://notes.example/"},
			{"--privacy-url", "javascript:alert(1)"},
			{"--terms-url", "https://user:pw@notes.example/terms"},
			{"--homepage", "https://notes.example/#top"},
			{"--description", "two\nparagraphs"},
			{"--owner", "nobody"},
		} {
			msg := f.refused(t, append([]string{"app", "create", "--name", "Bad", "--type", "public", "--scope", "read",
				"--redirect-uri", "https://bad.example/cb"}, bad...)...)
			if strings.Contains(msg, "SQL") {
				t.Errorf("%v: %q", bad, msg)
			}
			f.refused(t, append([]string{"app", "update", created.ClientID}, bad...)...)
		}
		if got := showApp(t, f.dir, vars, created.ClientID); got.Owner != "dev" || got.HomepageURL != a.HomepageURL || got.Description != a.Description {
			t.Fatalf("a refused update changed the app: %+v", got)
		}

		// app update changes the profile and the owner; '' clears.
		var upd struct {
			Changed []string `json:"changed"`
			Owner   string   `json:"owner"`
		}
		out = f.cmd(t, "", "app", "update", "-o", "json", created.ClientID, "--owner", f.user, "--homepage", "")
		if err := json.Unmarshal([]byte(out), &upd); err != nil || upd.Owner != f.user || strings.Join(upd.Changed, ",") != "owner_id,homepage_url" {
			t.Fatalf("app update: %q (%v)", out, err)
		}
		f.cmd(t, "", "app", "update", created.ClientID, "--owner", "")
		if got := showApp(t, f.dir, vars, created.ClientID); got.Owner != "" || got.HomepageURL != "" || got.PrivacyURL == "" {
			t.Fatalf("after --owner '' --homepage '': %+v", got)
		}
		f.cmd(t, "", "app", "update", created.ClientID, "--owner", "dev")

		// user update --developer=false, and back.
		f.cmd(t, "", "user", "update", "dev", "--developer=false")
		if u := f.users(t); u["dev"].Developer {
			t.Fatal("user update --developer=false left the user a developer")
		}
		if out := f.cmd(t, "", "user", "update", "dev", "--developer=false"); !strings.Contains(out, "nothing changed") {
			t.Errorf("a second --developer=false: %q", out)
		}
		f.cmd(t, "", "user", "update", f.user, "--developer")
		if u := f.users(t); !u[f.user].Developer {
			t.Fatal("user update --developer did not make a developer")
		}
		f.refused(t, "user", "update", "dev")
		f.refused(t, "user", "update", "nobody", "--developer")

		// Deleting the owner leaves the app working, without an owner.
		f.cmd(t, "", "user", "delete", "dev", "--yes")
		if got := showApp(t, f.dir, vars, created.ClientID); got.Owner != "" || got.Description != "Syncs your notes." {
			t.Fatalf("after the owner's deletion: %+v", got)
		}
		if tok, code := f.appToken(t, created.ClientID, created.ClientSecret); tok == "" {
			t.Fatalf("the app of a deleted owner gets no token: %s", code)
		}
		if _, ok := f.users(t)["dev"]; ok {
			t.Fatal("user delete left the user")
		}
	})
}
