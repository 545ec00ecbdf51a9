package client

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// openerGrace is how long SystemBrowser waits for the platform's opener
// to fail before it takes a command still running for a browser that
// opened (xdg-open may stay until the browser exits).
const openerGrace = 3 * time.Second

// SystemBrowser is the default Opener: it asks the platform's opener to
// show url in the user's browser — open on macOS, rundll32
// url.dll,FileProtocolHandler on Windows, xdg-open elsewhere — passing the
// URL as one argument, never through a shell. It returns ErrNoBrowser when
// there is no graphical session (no DISPLAY or WAYLAND_DISPLAY on Linux
// and the BSDs: a server or an SSH session, where the device flow fits),
// when the opener is missing, or when it fails.
func SystemBrowser(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		// Only web URLs: the platform's opener would start anything else.
		return fmt.Errorf("%w: not an http(s) URL", ErrNoBrowser)
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", rawURL)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", rawURL)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return fmt.Errorf("%w: no graphical session (DISPLAY and WAYLAND_DISPLAY are unset)", ErrNoBrowser)
		}
		cmd = exec.Command("xdg-open", rawURL)
	}
	// Not exec.CommandContext: ending the login must not kill the browser
	// the opener may have become.
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: %w", ErrNoBrowser, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }() // reaps the process whenever it ends
	t := time.NewTimer(openerGrace)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrNoBrowser, cmd.Args[0], err)
		}
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrNoBrowser, context.Cause(ctx))
	}
}
