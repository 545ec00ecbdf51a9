package web

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The portal's pages, rendered from fixed data, against golden files
// (go test ./web -update rewrites them), so that a change of their HTML
// is a visible diff.
func TestDeveloperPagesGolden(t *testing.T) {
	tmpl, err := parseTemplates(func() Brand { return Brand{Name: defaultBrand} })
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	app := gatehouse.App{ClientID: "app_golden", Name: "Notes & Co", Type: gatehouse.Confidential,
		RedirectURIs: []string{"https://notes.example/cb"}, Scopes: []string{"read", "write"}, DefaultScopes: []string{"read"},
		Grants: []string{"authorization_code", "refresh_token"}, CreatedAt: at, Description: "Syncs <your> notes.", HomepageURL: "https://notes.example"}
	for name, c := range map[string]struct {
		page string
		data any
	}{
		"developer_apps": {"developer_apps", developerAppsPage{Username: "dev", Apps: []gatehouse.App{app}, Error: "the name must be 1 to 100 characters on one line",
			Form: createAppForm{Type: "public", RedirectURI: "https://x.example/cb"}, Scopes: []scopeChoice{{Name: "read", Description: "Read your data", Checked: true}, {Name: "write"}}}},
		"developer_app": {"developer_app", appPageData{App: app, Scopes: "read write", DefaultScopes: "read", Grants: "authorization_code, refresh_token",
			Confidential: true, Done: appDone["profile"], MaxOverlapDays: 90, DefaultOverlap: 7,
			Credentials: []credentialLine{{ID: 4, Name: "ci", Hint: "x1Yz", Created: at.Format(dateFormat), Age: "3 days", LastUsed: "never", ExpiresText: "never"}}}},
		"developer_secret": {"developer_secret", secretPage{Heading: "Credential created", AppName: app.Name, ClientID: app.ClientID, CredentialName: "ci", Secret: "gth_cs_golden"}},
	} {
		var buf bytes.Buffer
		if err := tmpl[c.page].ExecuteTemplate(&buf, "layout", c.data); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join("testdata", name+".golden.html")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
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
