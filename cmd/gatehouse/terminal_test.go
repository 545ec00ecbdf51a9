package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// onTerminal runs gatehouse (this test binary, see TestBenchHelperProcess)
// with a terminal on its standard input, a pty made by script(1), and
// holds a dialog on it: for each step, it waits until the output shows
// prompt and then types answer. It returns the exit code and the output.
func onTerminal(t *testing.T, dir string, vars map[string]string, args []string, dialog [][2]string) (int, string) {
	t.Helper()
	scriptPath, err := exec.LookPath("script")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("script(1) (util-linux, Debian's bsdutils) is needed to give the command a terminal")
		}
		t.Skip("script(1) is not installed (Debian: bsdutils); it gives the command a terminal")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(scriptPath, "-qec", exe+" -test.run=^TestBenchHelperProcess$ -- "+strings.Join(args, " "), "/dev/null")
	cmd.Env = append(os.Environ(), benchHelperEnv+"=1", "GATEHOUSE_DATA_DIR="+dir)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(20 * time.Second)
	for _, step := range dialog {
		for !strings.Contains(out.String(), step[0]) {
			select {
			case <-done:
				t.Fatalf("%v ended before it asked %q: %s", args, step[0], out.String())
			case <-deadline:
				_ = cmd.Process.Kill()
				t.Fatalf("%v did not ask %q: %s", args, step[0], out.String())
			case <-time.After(10 * time.Millisecond):
			}
		}
		// The prompt is written just before the terminal's echo is turned
		// off: give that a moment, or the answer might be echoed by the
		// terminal itself.
		time.Sleep(100 * time.Millisecond)
		_, _ = in.Write([]byte(step[1] + "\n"))
	}
	select {
	case <-done:
	case <-deadline:
		_ = cmd.Process.Kill()
		t.Fatalf("%v on a terminal did not finish: %s", args, out.String())
	}
	_ = in.Close()
	return cmd.ProcessState.ExitCode(), out.String()
}

// TestUserSetPasswordOnATerminal: on a terminal, set-password asks twice
// without echo (the password never appears on the screen) and refuses two
// answers that differ, changing nothing; user delete asks for the
// username, and a wrong answer deletes nothing.
func TestUserSetPasswordOnATerminal(t *testing.T) {
	f := newFlowFixture(t)
	newPassword := randomHexKey(t)
	code, out := onTerminal(t, f.dir, nil, []string{"user", "set-password", f.user},
		[][2]string{{"New password for " + f.user + ": ", newPassword}, {"Again: ", newPassword + "x"}})
	if code == 0 || !strings.Contains(out, "the two passwords differ: nothing was changed") || strings.Contains(out, newPassword) {
		t.Fatalf("two different answers: exit %d, %q", code, out)
	}
	if !f.logsIn(t, f.user, f.password) {
		t.Fatal("a refused set-password changed the password")
	}
	code, out = onTerminal(t, f.dir, nil, []string{"user", "set-password", f.user},
		[][2]string{{"New password for " + f.user + ": ", newPassword}, {"Again: ", newPassword}})
	if code != 0 || !strings.Contains(out, "set the password of "+f.user) || strings.Contains(out, newPassword) {
		t.Fatalf("set-password on a terminal: exit %d, %q", code, out)
	}
	if f.logsIn(t, f.user, f.password) || !f.logsIn(t, f.user, newPassword) {
		t.Error("after set-password on a terminal: the old password works or the new one does not")
	}

	code, out = onTerminal(t, f.dir, nil, []string{"user", "delete", f.user}, [][2]string{{"Type " + f.user + " to confirm", "bob"}})
	if code == 0 || !strings.Contains(out, "nothing was changed") || !slices.Contains(usernames(t, f.dir, nil), f.user) {
		t.Fatalf("a wrong answer to user delete: exit %d, %q", code, out)
	}
	code, out = onTerminal(t, f.dir, nil, []string{"user", "delete", f.user}, [][2]string{{"Type " + f.user + " to confirm", f.user}})
	if code != 0 || !strings.Contains(out, "deleted user "+f.user) || slices.Contains(usernames(t, f.dir, nil), f.user) {
		t.Fatalf("the right answer to user delete: exit %d, %q", code, out)
	}
}
