package bench

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the promise of doc.go: bench drives the server over HTTP
// and imports no backend, no transport and nothing of cmd/.
func TestImports(t *testing.T) {
	const module = "github.com/gatehouse/gatehouse"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := []string{module, module + "/bench", module + "/oauth", module + "/secret", "golang.org/x/sys/", "golang.org/x/crypto/"}
	for _, dep := range strings.Fields(string(out)) {
		ok := false
		for _, a := range allowed {
			ok = ok || dep == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(dep, a))
		}
		if !ok {
			t.Errorf("bench imports %s", dep)
		}
	}
}
