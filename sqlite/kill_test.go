//go:build unix

package sqlite

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gatehouse/gatehouse"
)

const killChildEnv = "GATEHOUSE_SQLITE_KILL_CHILD"

// TestCommitSurvivesSIGKILL checks the durability claim of openFile: a child
// process commits and is killed with SIGKILL at once; the commit is there.
func TestCommitSurvivesSIGKILL(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		commitAndDie(path)
		return
	}
	path := filepath.Join(t.TempDir(), "g.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCommitSurvivesSIGKILL$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v\n%s", err, out)
	}
	s := openTest(t, path)
	if _, err := s.GetScope(t.Context(), "durable"); err != nil {
		t.Fatalf("the committed scope is lost: %v", err)
	}
}

// commitAndDie commits a scope to the database at path and kills the process
// before anything closes the database.
func commitAndDie(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err == nil {
		err = s.Migrate(ctx)
	}
	if err == nil {
		err = s.CreateScope(ctx, gatehouse.Scope{Name: "durable"})
	}
	if err != nil {
		os.Exit(3)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
