package cli

import (
	"runtime"

	"github.com/spf13/cobra"
)

func newVersionCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print activator's version",
		Long:    "Print the version of this activator binary and the Go release it was built with.",
		Example: "  activator version\n  activator version -o json",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := a.printer(cmd)
			if p.json {
				return p.value(struct {
					Version string `json:"version"`
					Go      string `json:"go"`
				}{a.version(), runtime.Version()})
			}
			p.line("activator %s (%s)", a.version(), runtime.Version())
			return nil
		},
	}
}
