package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Attack tests of the issue 11 security review (branch sec-review). Each
// one demonstrates a finding; it fails while the finding stands.

// bearerWorks reports whether /whoami accepts tok: the token works at a
// resource. (Introspection would authenticate from the address whose
// failed client authentications, by the thief after the deletion, are
// throttled.)
func (f *flowFixture) bearerWorks(t *testing.T, tok string) bool {
	t.Helper()
	r := send(t, "GET", f.srv.URL+"/whoami", "", "", map[string]string{"Authorization": "Bearer " + tok})
	if r.status != 200 && r.status != 401 {
		t.Fatalf("whoami: %d %s", r.status, r.raw)
	}
	return r.status == 200
}

// mintWhile asks for client credentials tokens as app from workers goroutines
// until ctx ends, and returns every token the server answered 200 for.
func mintWhile(ctx context.Context, f *flowFixture, app createdApp, workers int) func() []string {
	var mu sync.Mutex
	var minted []string
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				status, body, err := sendForm(ctx, f.srv.URL+"/token", app.ClientID, app.ClientSecret,
					url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
				if err != nil || status != 200 {
					continue
				}
				mu.Lock()
				minted = append(minted, body["access_token"].(string))
				mu.Unlock()
			}
		}()
	}
	return func() []string { wg.Wait(); return minted }
}

// Finding 1 (critical, PostgreSQL): 'credential delete' leaves alive the
// client credentials tokens minted while its transaction runs. RevokeCredential
// deletes the credential (the trigger bumps the generation, uncommitted) and
// then revokes the app's tokens with one UPDATE; CreateTokenAt's
// "(SELECT value FROM generation) = $gen" reads the last committed
// generation without waiting for the row lock, so an insert that commits
// after the UPDATE's snapshot lands unrevoked. With a thief hammering the
// token endpoint with the leaked secret, hundreds of tokens survive the
// incident command that was meant to stop them (seen by hand: 628 of
// 10600, alive for the full access token lifetime).
func TestIssue11AttackCredentialDeleteRacesClientCredentials(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		leaky := createAppWith(t, f.dir, vars, "--name", "Leaky", "--type", "confidential", "--scope", "read", "--grant", "client_credentials")
		id := fmt.Sprint(f.credentials(t, leaky.ClientID)[0].ID)
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		wait := mintWhile(ctx, f, leaky, 16)
		time.Sleep(1500 * time.Millisecond) // enough tokens that the revoking UPDATE takes a while
		code, _, errOut := runCmd(t, f.dir, vars, "", "credential", "delete", "--app", leaky.ClientID, "--credential", id, "--yes")
		cancel()
		minted := wait()
		if code != 0 {
			t.Fatalf("credential delete: exit %d: %s", code, errOut)
		}
		alive := 0
		for _, tok := range minted {
			if f.bearerWorks(t, tok) {
				alive++
			}
		}
		if alive > 0 {
			t.Fatalf("%d of %d access tokens minted with the leaked secret are still active after 'credential delete' returned", alive, len(minted))
		}
	})
}

// Finding 2 (high, PostgreSQL): the same transaction revokes the app's
// tokens before its grants. A refresh that runs between the two statements
// writes its new access token into a grant that is not revoked yet (FOR
// SHARE sees it live), after the token UPDATE's snapshot: the grant ends
// up revoked and the access token alive (access tokens are not checked
// against their grant). DisconnectApp orders them right (grants first).
func TestIssue11AttackCredentialDeleteRacesRefresh(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		leaky := createAppWith(t, f.dir, vars, "--name", "Leaky", "--type", "confidential", "--scope", "read",
			"--redirect-uri", "https://leaky.example/cb", "--grant", "authorization_code,refresh_token,client_credentials")
		id := fmt.Sprint(f.credentials(t, leaky.ClientID)[0].ID)
		const chains = 12
		refresh := make([]string, chains)
		for i := range refresh {
			refresh[i] = f.grantTokens(t, leaky, "https://leaky.example/cb", "read").refresh
		}
		ctx, cancel := context.WithTimeout(t.Context(), 4*time.Second)
		defer cancel()
		// Many client credentials tokens make the token UPDATE slow, and so
		// the window between it and the grant UPDATE wide.
		waitCC := mintWhile(ctx, f, leaky, 8)
		var mu sync.Mutex
		var access []string
		var wg sync.WaitGroup
		for i := range chains {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rt := refresh[i]
				for ctx.Err() == nil {
					status, body, err := sendForm(ctx, f.srv.URL+"/token", leaky.ClientID, leaky.ClientSecret,
						url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
					if err != nil || status != 200 {
						if status == 400 {
							return // the grant ended
						}
						continue
					}
					mu.Lock()
					access = append(access, body["access_token"].(string))
					mu.Unlock()
					rt = body["refresh_token"].(string)
				}
			}()
		}
		time.Sleep(2 * time.Second)
		code, _, errOut := runCmd(t, f.dir, vars, "", "credential", "delete", "--app", leaky.ClientID, "--credential", id, "--yes")
		cancel()
		wg.Wait()
		waitCC()
		if code != 0 {
			t.Fatalf("credential delete: exit %d: %s", code, errOut)
		}
		alive := 0
		for _, tok := range access {
			if f.bearerWorks(t, tok) {
				alive++
			}
		}
		if alive > 0 {
			t.Fatalf("%d of %d access tokens minted by refresh are still active after 'credential delete' revoked their grants", alive, len(access))
		}
	})
}

// signIn walks authURL to the login page and signs in as user with its own
// cookie jar; it reports whether the sign-in succeeded. Safe in a goroutine.
func signIn(ctx context.Context, base, authURL, user, password string) (*http.Client, bool) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, "GET", authURL, nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, false
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := hidden(string(body))
	form.Set("username", user)
	form.Set("password", password)
	req, _ = http.NewRequestWithContext(ctx, "POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formCT)
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = c.Do(req)
	if err != nil {
		return nil, false
	}
	resp.Body.Close()
	return c, resp.StatusCode == http.StatusSeeOther
}

// signedIn reports whether c's session still stands: authURL answers
// without asking for a password.
func signedIn(t *testing.T, c *http.Client, authURL string) bool {
	t.Helper()
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return !strings.Contains(string(body), `name="password"`)
}

// Finding 3 (medium, both backends): the runbook's step for a taken-over
// account, 'user set-password', does not sign out an intruder who signs in
// with the old password while it runs. Login reads the hash, spends an
// argon2id verification on it, then opens a session without checking that
// the password is still the one verified; SetPasswordHash's DELETE FROM
// sessions has run by then, so the new session survives the reset. An
// intruder who scripts sign-ins keeps a session (and the device
// exemption) through the incident command.
func TestIssue11AttackSetPasswordRacesLogin(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		authURL, _ := f.authURL(f.config(f.spa, "https://spa.example/cb", "read"), "st")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var mu sync.Mutex
		var sessions []*http.Client
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					if c, ok := signIn(ctx, f.srv.URL, authURL, f.user, f.password); ok {
						mu.Lock()
						sessions = append(sessions, c)
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(700 * time.Millisecond)
		f.cmd(t, "new-"+randomHexKey(t)[:20]+"\n", "user", "set-password", f.user, "--password-stdin")
		time.Sleep(300 * time.Millisecond)
		cancel()
		wg.Wait()
		alive := 0
		for _, c := range sessions {
			if signedIn(t, c, authURL) {
				alive++
			}
		}
		if alive > 0 {
			t.Fatalf("%d of %d sessions opened with the old password are still signed in after 'user set-password'", alive, len(sessions))
		}
	})
}

// Held (kept as a regression test): a code issued before 'credential
// delete' cannot be redeemed after it, even with the app's other
// credential, and a user's deleted account leaves no live token.
func TestIssue11AttackPendingCodeAndDeletedUser(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		app := createAppWith(t, f.dir, vars, "--name", "Leaky", "--type", "confidential", "--scope", "read",
			"--redirect-uri", "https://leaky.example/cb")
		id := fmt.Sprint(f.credentials(t, app.ClientID)[0].ID)
		var spare struct {
			Secret string `json:"client_secret"`
		}
		if err := json.Unmarshal([]byte(f.cmd(t, "", "credential", "create", "--app", app.ClientID, "--name", "spare", "-o", "json")), &spare); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, f.srv.URL)
		code, verifier := f.code(t, b, f.config(app, "https://leaky.example/cb", "read"))
		f.cmd(t, "", "credential", "delete", "--app", app.ClientID, "--credential", id, "--yes")
		r := f.exchange(t, createdApp{ClientID: app.ClientID, ClientSecret: spare.Secret}, url.Values{"code": {code}, "code_verifier": {verifier}})
		if r.status == 200 {
			t.Fatalf("a code issued before 'credential delete' was redeemed after it: %s", r.raw)
		}

		tok := f.grantTokens(t, f.web, "https://client.example/cb", "read")
		f.cmd(t, "", "user", "delete", f.user, "--yes")
		if f.introspectAs(t, f.web, tok.access) {
			t.Error("an access token of a deleted user is active")
		}
		if _, r := f.refresh(t, f.web, tok.refresh, nil); r.status == 200 || r.status >= 500 {
			t.Errorf("refresh of a deleted user's grant: %d %s", r.status, r.raw)
		}
	})
}

// Probe: 'user delete' while the user signs in again and again; no sign-in
// may fail with a 5xx (DESIGN invariant 10) and no session may outlive the
// account.
func TestIssue11AttackUserDeleteRacesLogin(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		authURL, _ := f.authURL(f.config(f.spa, "https://spa.example/cb", "read"), "st")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var mu sync.Mutex
		var sessions []*http.Client
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					c, status := signInStatus(ctx, f.srv.URL, authURL, f.user, f.password)
					mu.Lock()
					statuses[status]++
					if status == http.StatusSeeOther {
						sessions = append(sessions, c)
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(700 * time.Millisecond)
		f.cmd(t, "", "user", "delete", f.user, "--yes")
		time.Sleep(300 * time.Millisecond)
		cancel()
		wg.Wait()
		for s, n := range statuses {
			if s >= 500 {
				t.Errorf("%d sign-ins answered %d while the user was deleted", n, s)
			}
		}
		alive := 0
		for _, c := range sessions {
			if signedIn(t, c, authURL) {
				alive++
			}
		}
		if alive > 0 {
			t.Errorf("%d of %d sessions are still signed in after 'user delete' (statuses %v)", alive, len(sessions), statuses)
		}
	})
}

func signInStatus(ctx context.Context, base, authURL, user, password string) (*http.Client, int) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, "GET", authURL, nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := hidden(string(body))
	form.Set("username", user)
	form.Set("password", password)
	req, _ = http.NewRequestWithContext(ctx, "POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formCT)
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = c.Do(req)
	if err != nil {
		return nil, 0
	}
	resp.Body.Close()
	return c, resp.StatusCode
}
