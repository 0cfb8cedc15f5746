package cli

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/activator-voip/activator/internal/app"
)

// keyFlags are the flags of the key commands: serve's, for finding the
// database and the secret key, with the same environment variables.
func keyFlags(cmd *cobra.Command, a *globals, c *app.KeyConfig) func() {
	flags := []serveFlag{
		{"data", "ACTIVATOR_DATA", "data", "data folder of the stopped server: its SQLite database and secret key", &c.DataDir},
		{"database", "ACTIVATOR_DATABASE", "", "PostgreSQL URL the server uses, instead of the SQLite database in --data", &c.Database},
		{"secret-key-file", "ACTIVATOR_SECRET_KEY_FILE", "", "the server's secret key file (default <data>/secret.key)", &c.SecretKeyFile},
	}
	for _, f := range flags {
		cmd.Flags().StringVar(f.target, f.name, f.def, f.help+" ["+f.env+"]")
	}
	return func() {
		for _, f := range flags {
			if !cmd.Flags().Changed(f.name) {
				if v := a.env.getenv(f.env); v != "" {
					*f.target = v
				}
			}
		}
	}
}

func newKeysCmd(a *globals) *cobra.Command {
	return parentCmd("keys", "Rotate the secret key and the activation signing key (server stopped)",
		`The key commands change the keys of a stopped activator: they open its
database and secret key themselves, as serve does, with serve's flags and
environment variables, instead of calling the admin API. Stop every instance
first and start them again afterwards: a running instance keeps the keys it
read at start (docs/security.md, "Keys").`,
		`  activator keys rotate --data /var/lib/activator
  ACTIVATOR_DATABASE=postgres://activator@db/activator activator keys rotate-signing`,
		newKeysRotateCmd(a), newKeysRotateSigningCmd(a))
}

func newKeysRotateCmd(a *globals) *cobra.Command {
	var c app.KeyConfig
	var quiet bool
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Make a new secret key and reseal every stored secret with it",
		Long: `Make a new secret key and reseal with it every value sealed with the old one:
SIP passwords, the activation signing key and its chain, gateway settings and
receipt keys, and the texts of queued messages and of the outbox. All of it
changes in one transaction: on any error nothing changes. Then the new key
replaces the old in the key file, and the old key is kept beside it as
<file>.<time>.old (mode 0600) until you delete it.

The new key is written to <file>.new before the transaction commits; if the
command is interrupted, run it again: it finishes a rotation that committed,
or discards one that did not. Progress goes to standard error.

Give every instance the new key file before starting them again.`,
		Example: `  activator keys rotate --data /var/lib/activator
  activator keys rotate --database postgres://activator@db/activator --secret-key-file /etc/activator/secret.key`,
		Args: cobra.NoArgs,
	}
	env := keyFlags(cmd, a, &c)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "show no progress")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		env()
		errw := cmd.ErrOrStderr()
		progress := func(column string, done, total int) {
			if !quiet {
				fmt.Fprintf(errw, "resealing %s: %d of %d\n", column, done, total)
			}
		}
		res, err := app.RotateSecretKey(cmd.Context(), c, progress, slog.New(slog.NewTextHandler(errOrDiscard(errw, quiet), nil)))
		if err != nil {
			return err
		}
		p := a.printer(cmd)
		if p.json {
			return p.value(res)
		}
		if res.Resumed {
			p.line("finished an interrupted rotation: %s holds the new key; the old key is in %s", res.KeyFile, res.Backup)
			return nil
		}
		p.line("resealed %d secrets with a new key: %s holds it; the old key is in %s", res.Resealed, res.KeyFile, res.Backup)
		return nil
	}
	return cmd
}

func newKeysRotateSigningCmd(a *globals) *cobra.Command {
	var c app.KeyConfig
	cmd := &cobra.Command{
		Use:   "rotate-signing",
		Short: "Replace the activation signing key with one the old key endorses",
		Long: `Replace the key that signs activation files with a new one. The old key signs
the new one, and activation files carry every such endorsement (their
key_chain), so a device that pinned an earlier key follows the chain and
accepts the new key, while a file from anyone else is still refused
(docs/protocol.md, section 4.5). The old key is not kept.`,
		Example: `  activator keys rotate-signing --data /var/lib/activator`,
		Args:    cobra.NoArgs,
	}
	env := keyFlags(cmd, a, &c)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		env()
		rot, err := app.RotateSigningKey(cmd.Context(), c)
		if err != nil {
			return err
		}
		p := a.printer(cmd)
		if p.json {
			return p.value(rot)
		}
		p.line("activation files are now signed by key %s, endorsed by key %s (%d endorsements in the chain)", rot.NewKeyID, rot.OldKeyID, rot.ChainLength)
		return nil
	}
	return cmd
}

func errOrDiscard(w io.Writer, quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return w
}
