package cli

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/activator-voip/activator/client"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// deviceFlags are the flags of the device commands.
type deviceFlags struct {
	dir      string
	verbose  bool
	insecure bool
}

func (f *deviceFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.dir, "dir", "", "directory holding this device's state: credential, configuration, pinned server")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "log each step to standard error (never a secret)")
	fs.BoolVar(&f.insecure, "insecure", false, "for development: accept a server on plain http (a device refuses one otherwise)")
}

// options builds the reference client's options.
func (f *deviceFlags) options(cmd *cobra.Command) client.Options {
	level, w := slog.LevelDebug, cmd.ErrOrStderr()
	if !f.verbose {
		w = io.Discard
	}
	return client.Options{
		Dir:       f.dir,
		Logger:    slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})),
		AllowHTTP: f.insecure,
	}
}

func newDeviceCmd(a *globals) *cobra.Command {
	return parentCmd("device", "Act as a device: activate and refresh with the reference client",
		`The device commands do what a secure VoIP client does with an activation
link, using activator's reference client: they verify the signed activation
file, pin the server's key on first use, redeem the link, and keep the
credential and the configuration in --dir, readable only by the user.

Use them to try the whole flow from a terminal, or to provision a softphone
on a desktop.`,
		`  activator device activate https://activate.example.com/a/avl_... --dir ~/.config/voip
  activator device refresh --dir ~/.config/voip`,
		newDeviceActivateCmd(a), newDeviceRefreshCmd(a), newRegisterHandlerCmd(a)) // register-handler: mimehandler.go
}

func newDeviceActivateCmd(a *globals) *cobra.Command {
	var f deviceFlags
	cmd := &cobra.Command{
		Use:   "activate URL|FILE --dir DIR",
		Short: "Activate this device from a link or an activation file",
		Long: `Activate this device from the secure link a user received (the landing page
or the activation file's URL) or from a downloaded activation file. The link
can be used once. A device activated before accepts only links from the
server it was first activated from. The server must be https; --insecure
accepts plain http, for trying activator on a development machine.

The summary never shows the SIP password; with -o json the configuration is
printed with the password replaced by "***". The full configuration is in
DIR/config.json.`,
		Example: `  activator device activate https://activate.example.com/a/avl_... --dir ./phone
  activator device activate ~/Downloads/maria.activation --dir ./phone -v
  activator device activate http://127.0.0.1:8080/a/avl_... --dir /tmp/phone --insecure`,
		Args: exactArgs("URL|FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := client.Activate(cmd.Context(), args[0], f.options(cmd))
			if err != nil {
				return err
			}
			return printDeviceResult(a.printer(cmd), res, f.dir)
		},
	}
	f.register(cmd.Flags())
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func newDeviceRefreshCmd(a *globals) *cobra.Command {
	var f deviceFlags
	cmd := &cobra.Command{
		Use:   "refresh --dir DIR",
		Short: "Fetch this device's configuration again",
		Long: `Fetch the configuration again from the server this device was activated
from, with the device credential kept in DIR, and rewrite DIR/config.json.
It fails once an operator has revoked the device's access; then the device
needs a new link.`,
		Example: `  activator device refresh --dir ./phone
  activator device refresh --dir ./phone -o json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.dir == "" {
				return errors.New("--dir is empty")
			}
			res, err := client.Refresh(cmd.Context(), f.options(cmd))
			if err != nil {
				return err
			}
			return printDeviceResult(a.printer(cmd), res, f.dir)
		},
	}
	f.register(cmd.Flags())
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

// printDeviceResult prints what the device obtained, never its SIP password.
func printDeviceResult(p *printer, res *client.Result, dir string) error {
	cfg := res.Config // a copy: the caller's result keeps its password
	cfg.Account.Password = "***"
	if p.json {
		return p.value(cfg)
	}
	lines := []kv{
		{"server", res.Server},
		{"username", cfg.Account.Username},
		{"display name", cfg.Account.DisplayName},
		{"sip domain", cfg.Account.SIPDomain},
		{"virtual number", cfg.Account.VirtualNumber},
		{"security model", string(cfg.Security.Model)},
		{"key id", res.KeyID},
	}
	if res.FirstUse {
		lines = append(lines, kv{"server key", "pinned on first use"})
	}
	lines = append(lines, kv{"configuration", filepath.Join(dir, client.FileConfig)})
	return p.block(lines)
}
