package client_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/client"
)

// fakeXDGOpen puts an xdg-open first on PATH that records its arguments,
// one a line, and exits with status; it returns the record's path.
func fakeXDGOpen(t *testing.T, status string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("xdg-open is the opener on Linux")
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "argv")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '" + rec + "'; done\nexit " + status + "\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv("DISPLAY", ":0")
	t.Chdir(dir)
	return rec
}

// NAT-8.12-a: the default Opener hands the URL to the platform's opener
// as one argument — no shell reads it — and reports every failure as
// ErrNoBrowser, so that Login can fall back to the device flow.
func TestNAT_8_12_a_SystemBrowser(t *testing.T) {
	const hostile = "https://as.example/authorize?state=a&b=$(touch pwned);c='d'`touch pwned2`"
	t.Run("one argument, no shell", func(t *testing.T) {
		rec := fakeXDGOpen(t, "0")
		if err := client.SystemBrowser(t.Context(), hostile); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(rec)
		if err != nil || string(got) != hostile+"\n" {
			t.Errorf("xdg-open got %q (%v), want the URL as its one argument", got, err)
		}
		for _, f := range []string{"pwned", "pwned2"} {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("a shell ran the URL: %s exists", f)
			}
		}
	})
	t.Run("the opener fails", func(t *testing.T) {
		fakeXDGOpen(t, "3")
		if err := client.SystemBrowser(t.Context(), hostile); !errors.Is(err, client.ErrNoBrowser) {
			t.Errorf("exit 3: %v", err)
		}
	})
	t.Run("no opener", func(t *testing.T) {
		fakeXDGOpen(t, "0")
		t.Setenv("PATH", t.TempDir())
		if err := client.SystemBrowser(t.Context(), hostile); !errors.Is(err, client.ErrNoBrowser) {
			t.Errorf("missing xdg-open: %v", err)
		}
	})
	for name, c := range map[string]struct{ url, display string }{
		"no graphical session": {hostile, ""},
		"not a web URL":        {"file:///etc/passwd", ":0"},
	} {
		t.Run(name, func(t *testing.T) {
			rec := fakeXDGOpen(t, "0")
			t.Setenv("DISPLAY", c.display)
			t.Setenv("WAYLAND_DISPLAY", "")
			err := client.SystemBrowser(context.Background(), c.url)
			if !errors.Is(err, client.ErrNoBrowser) {
				t.Errorf("%v", err)
			}
			if _, err := os.Stat(rec); err == nil {
				t.Error("xdg-open ran")
			}
			if strings.Contains(err.Error(), "state=") {
				t.Error("the error shows the URL")
			}
		})
	}
}
