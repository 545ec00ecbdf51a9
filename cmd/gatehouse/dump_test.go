package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The export file is private and never overwrites; an import of anything
// but a whole dump, or into a database that holds records, fails with one
// line and a non-zero exit, and imports nothing.
func TestExportImportCommandLine(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, nil, "--dev") // creates the key and demo data
	srv.stop()
	file := filepath.Join(t.TempDir(), "dump.jsonl")
	if code, _, errOut := runCmd(t, dir, nil, "", "export", "--file", file); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the dump file has mode %v, want 0600: it holds digests and password hashes", fi.Mode().Perm())
	}
	oneLine := func(what string, code int, errOut, want string) {
		t.Helper()
		if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, stderr %q; want one line saying %q", what, code, errOut, want)
		}
	}
	code, _, errOut := runCmd(t, dir, nil, "", "export", "--file", file)
	oneLine("export over an existing file", code, errOut, "exists")

	dump, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fresh := map[string]string{"GATEHOUSE_DB": "sqlite:" + filepath.Join(t.TempDir(), "new.db")}
	half := string(dump[:strings.LastIndexByte(string(dump[:len(dump)/2]), '\n')+1]) // whole lines
	code, _, errOut = runCmd(t, dir, fresh, string(dump[:len(dump)/2]), "import")
	oneLine("import cut inside a line", code, errOut, "dump")
	code, _, errOut = runCmd(t, dir, fresh, half, "import")
	oneLine("import of half a dump", code, errOut, "truncated")
	code, _, errOut = runCmd(t, dir, fresh, "not a dump\n", "import")
	oneLine("import of something else", code, errOut, "not a gatehouse dump")
	if code, out, _ := runCmd(t, dir, fresh, "", "app", "list", "-o", "json"); code != 0 || strings.Contains(out, "client_id") {
		t.Errorf("after refused imports the database holds apps: %s", out)
	}
	code, _, errOut = runCmd(t, dir, nil, string(dump), "import")
	oneLine("import into the database it came from", code, errOut, "not empty")
	if code, out, errOut := runCmd(t, dir, fresh, string(dump), "import"); code != 0 || !strings.Contains(out, "imported") {
		t.Fatalf("import into a new database: %d %s %s", code, out, errOut)
	}
}
