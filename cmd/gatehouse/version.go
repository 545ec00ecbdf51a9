package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// newVersionCmd prints the module version and the VCS revision that the Go
// toolchain recorded in the binary.
func newVersionCmd(c *common, e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and VCS revision of this binary",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := buildVersion()
			if c.json() {
				return printJSON(e, v)
			}
			line := "gatehouse " + v.Version + " (" + v.Go
			if v.Revision != "" {
				line += ", revision " + v.Revision
				if v.Modified {
					line += ", modified"
				}
			}
			_, err := fmt.Fprintln(e.stdout, line+")")
			return err
		},
	}
}

// version is what `gatehouse version` prints.
type version struct {
	Version  string `json:"version"`
	Go       string `json:"go"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
}

func buildVersion() version {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version{Version: "(unknown)"}
	}
	v := version{Version: bi.Main.Version, Go: bi.GoVersion}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// requireSubcommands makes every command that only groups others (app,
// user, …) refuse an argument that names none of them, with the nearest
// match, instead of printing its help and exiting 0; with no argument it
// prints its help. The root is included, so that every level says the same.
func requireSubcommands(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		requireSubcommands(sub)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if near := nearest(cmd, args[0]); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		return fmt.Errorf("%s; run '%s --help' for the list", msg, cmd.CommandPath())
	}
}

// nearest returns the subcommand of cmd whose name is closest to arg, if
// any is close (cobra's suggestions: a prefix, or within two edits).
func nearest(cmd *cobra.Command, arg string) string {
	best, bestDist := "", -1
	for _, s := range cmd.SuggestionsFor(arg) {
		d := editDistance(strings.ToLower(arg), s)
		if bestDist < 0 || d < bestDist {
			best, bestDist = s, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
