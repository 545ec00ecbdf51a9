package gatehouse_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLint keeps the tree gofmt-, vet- and staticcheck-clean. staticcheck is
// required in CI (CI=true) and skipped locally when it is not installed.
func TestLint(t *testing.T) {
	if testing.Short() {
		t.Skip("lint is not short")
	}
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
