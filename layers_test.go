package gatehouse_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/gatehouse/gatehouse"

// TestLayers keeps the package layout of STYLE.md true: the domain imports
// only the standard library, backends and the transport never import each
// other, and only cmd/ wires concrete parts together.
func TestLayers(t *testing.T) {
	rules := []struct {
		pkg        string
		forbidden  []string // module packages it must not depend on
		stdlibOnly bool
	}{
		{pkg: module, stdlibOnly: true},
		{pkg: module + "/secret", stdlibOnly: true},
		{pkg: module + "/ratelimit", stdlibOnly: true},
		{pkg: module + "/dump", stdlibOnly: true},
		{pkg: module + "/internal/rawquery", stdlibOnly: true},
		{pkg: module + "/store/storetest", forbidden: []string{"/sqlite", "/postgres", "/oauth", "/httpapi", "/secret"}},
		{pkg: module + "/oauth", forbidden: []string{"/sqlite", "/postgres", "/httpapi", "/web", "/cmd/"}},
		{pkg: module + "/sqlite", forbidden: []string{"/oauth", "/httpapi", "/web", "/postgres", "/store/storetest"}},
		{pkg: module + "/postgres", forbidden: []string{"/oauth", "/httpapi", "/web", "/sqlite", "/store/storetest", "/cmd/"}},
		{pkg: module + "/postgres/pgtest", forbidden: []string{"/oauth", "/httpapi", "/web", "/sqlite", "/store/storetest", "/cmd/"}},
		{pkg: module + "/httpapi", forbidden: []string{"/sqlite", "/postgres", "/cmd/"}},
		{pkg: module + "/web", forbidden: []string{"/sqlite", "/postgres", "/httpapi", "/cmd/"}},
		// The client toolkit is for apps: it knows the server only by the
		// protocol, never by its code.
		{pkg: module + "/client", forbidden: []string{"/oauth", "/sqlite", "/postgres", "/httpapi", "/web", "/cmd/", "/store", "/secret", "/ratelimit", "/dump", "/bench"}},
		{pkg: module + "/client/rs", forbidden: []string{"/oauth", "/sqlite", "/postgres", "/httpapi", "/web", "/cmd/", "/store", "/secret", "/ratelimit", "/dump", "/bench"}},
		{pkg: module + "/bench", forbidden: []string{"/sqlite", "/postgres", "/httpapi", "/web", "/cmd/"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", r.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == r.pkg {
				continue
			}
			if r.stdlibOnly {
				t.Errorf("%s imports %s; it may import only the standard library", r.pkg, dep)
			}
			for _, f := range r.forbidden {
				if strings.HasPrefix(dep, module+f) {
					t.Errorf("%s imports %s", r.pkg, dep)
				}
			}
		}
	}
}
