package main

import (
	"fmt"
	"runtime/debug"

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
