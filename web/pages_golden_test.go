package web

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Every other page, rendered from fixed data, against golden files (go
// test ./web -update rewrites them): a change of a page's HTML is a
// visible diff in review. The portal's pages are in
// developer_golden_test.go.
func TestPagesGolden(t *testing.T) {
	tmpl, err := parseTemplates(func() Brand { return Brand{Name: defaultBrand} })
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	params := url.Values{"client_id": {"app_golden"}, "response_type": {"code"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}, "state": {"st"}, "redirect_uri": {"https://notes.example/cb"}}
	scopes := []scopeLine{{Name: "read", Description: "Read your data"}, {Name: "write", Description: "Change your data", New: true}}
	for name, c := range map[string]struct {
		page string
		data any
	}{
		"login":              {"login", loginPage{AppName: "Notes & Co", Params: params}},
		"login_failed":       {"login", loginPage{AppName: "Notes & Co", Username: "alice", Error: "The username or password is wrong.", Params: params}},
		"login_return":       {"login", loginPage{ReturnTo: accountAppsPath}},
		"consent":            {"consent", consentPage{AppName: "Notes & Co", Username: "alice", RedirectHost: "https://notes.example", Scopes: scopes, Params: params}},
		"consent_publisher":  {"consent", consentPage{AppName: "Notes & Co", Username: "alice", RedirectHost: "https://notes.example", Publisher: "carol", Description: "Syncs <your> notes.", HomepageURL: "https://notes.example/", PrivacyURL: "https://notes.example/privacy", TermsURL: "https://notes.example/terms", Scopes: scopes, Params: params}},
		"error":              {"error", errorPage{Title: "This link cannot be used", Message: "The app is not registered.", Note: appNote}},
		"not_found":          {"error", errorPage{Title: "Page not found", Message: "There is no page at this address."}},
		"home":               {"home", homePage{}},
		"home_developer":     {"home", homePage{Username: "dev", Developer: true}},
		"logged_out":         {"logged_out", nil},
		"dev_callback":       {"dev_callback", devCallbackPage{Code: "gth_ac_golden", State: "st", Iss: "http://127.0.0.1:8080", Issuer: "http://127.0.0.1:8080", RedirectURI: "http://127.0.0.1:8080/dev/callback", IssOK: true}},
		"dev_callback_error": {"dev_callback", devCallbackPage{Error: "access_denied", ErrorDescription: "the user denied", State: "st", Iss: "https://evil.example", Issuer: "http://127.0.0.1:8080"}},
		"dev_callback_empty": {"dev_callback", devCallbackPage{Issuer: "http://127.0.0.1:8080", Empty: true}},
		"account_apps":       {"account_apps", connectedAppsPage{Username: "alice", Apps: []connectedApp{{ID: 7, Name: "Notes & Co", Scopes: scopes, First: at, Last: at, Grants: 1, FirstText: "1 March 2026", LastText: "1 March 2026", Used: at, UsedText: "1 March 2026", Publisher: "carol", HomepageURL: "https://notes.example/"}}, Done: doneMessages["one"]}},
		"account_apps_empty": {"account_apps", connectedAppsPage{Username: "alice"}},
		"device_entry":       {"device", devicePage{Username: "alice"}},
		"device_wrong":       {"device", devicePage{Username: "alice", Typed: "BBBB-<b>", Error: userCodeMessage(400)}},
		"device_confirm":     {"device", devicePage{Username: "alice", UserCode: "BCDF-GHJK", AppName: "Living Room TV", Publisher: "carol", Description: "Watch <your> photos.", HomepageURL: "https://tv.example/", Scopes: scopes}},
		"device_approved":    {"device", devicePage{Username: "alice", Approved: true}},
		"device_denied":      {"device", devicePage{Username: "alice", Denied: true}},
	} {
		var buf bytes.Buffer
		if err := tmpl[c.page].ExecuteTemplate(&buf, "layout", c.data); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join("testdata", name+".golden.html")
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test ./web -update)", name, err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s differs from %s (go test ./web -update rewrites it):\n%s", name, path, buf.String())
		}
	}
}
