package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// confirm asks the operator, on a terminal, to type want before a
// destructive command goes on; yes (--yes) skips the question. Without a
// terminal on standard input (a pipe, a script, cron) it refuses: a
// deletion nobody confirmed does not happen.
func confirm(e env, yes bool, what, want string) error {
	if yes {
		return nil
	}
	if !isTerminal(e.stdin) {
		return errors.New(what + ": refused without --yes, since standard input is not a terminal to confirm on")
	}
	fmt.Fprintf(e.stderr, "%s.\nType %s to confirm: ", what, want)
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the confirmation: %w", err)
	}
	if strings.TrimSpace(line) != want {
		return errors.New("not confirmed: nothing was changed")
	}
	return nil
}

// isTerminal reports whether r is a character device (a terminal).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
