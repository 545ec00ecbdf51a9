package gatehouse_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLint keeps the tree gofmt-, vet- and staticcheck-clean. staticcheck is
// required in CI (CI=true) and skipped locally when it is not installed.
func TestLint(t *testing.T) {
	if testing.Short() {
		t.Skip("lint is not short")
	}
	statSources(t)
	out, err := exec.Command("gofmt", "-l", ".").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("gofmt -l: %v\n%s", err, out)
	}
	if out, err := exec.Command("go", "vet", "./...").CombinedOutput(); err != nil {
		t.Errorf("go vet: %v\n%s", err, out)
	}
	path, err := exec.LookPath("staticcheck")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("staticcheck is not installed; .ci/run installs it")
		}
		t.Skip("staticcheck not installed: go install honnef.co/go/tools/cmd/staticcheck@v0.8.2")
	}
	if out, err := exec.Command(path, "./...").CombinedOutput(); err != nil {
		t.Errorf("staticcheck: %v\n%s", err, out)
	}
}

// statSources stats every Go file of the tree. The tools run as separate
// processes, so go test would otherwise cache this test's result across
// changes to the files they read; a stat makes each file part of the
// test's cache key.
func statSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".sql") || strings.HasSuffix(path, ".html")) {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
