package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/activator-voip/activator/internal/store"
)

func newBackupCmd(a *globals) *cobra.Command {
	var dataDir, database, configPath string
	flags := []serveFlag{
		{"data", "ACTIVATOR_DATA", "data", "the server's data folder, whose activator.db is backed up", &dataDir},
		{"database", "ACTIVATOR_DATABASE", "", "the server's PostgreSQL URL, if it has one: then use pg_dump instead", &database},
	}
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the embedded SQLite database, online, to a new file",
		Long: `Copy the server's SQLite database (<data>/activator.db) to FILE while the
server runs: the copy is consistent (it is the database as it was at one
moment; writes go on meanwhile), checked with SQLite's integrity check, and
readable by its owner only. FILE must not exist: a backup never
overwrites one. Run it on the server's host, as the user the server runs
as, with the server's --data (or ACTIVATOR_DATA, or its --config file).

The secret key (<data>/secret.key, or the server's --secret-key-file) is
not in the copy, and the sealed secrets in it (SIP passwords, gateway
credentials, the signing key) open only with it: keep a copy of the key
with your backups, stored apart from them.

With PostgreSQL (--database or ACTIVATOR_DATABASE) this command does
nothing and fails: use pg_dump, which matches your server's version and
your credentials (docs/operations.md).`,
		Example: `  activator backup /var/backups/activator/activator-$(date +%F).db
  activator backup --data /var/lib/activator backup.db`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := settle(cmd, a, flags, configPath); err != nil {
				return err
			}
			if strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://") {
				return errors.New("the server uses PostgreSQL: back it up with pg_dump (pg_dump --format=custom --file=activator.dump DATABASE_URL) and restore with pg_restore; see docs/operations.md. Keep the secret key with the dump")
			}
			if database != "" {
				return fmt.Errorf("--database %q: want a postgres:// URL, or none for the SQLite database in --data", database)
			}
			src := filepath.Join(dataDir, "activator.db")
			info, err := store.BackupSQLite(cmd.Context(), src, args[0])
			if err != nil {
				return fmt.Errorf("backing up %s: %w", src, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), `backed up %s to %s (%d bytes, schema version %d, integrity check ok)
The secret key is not in it: keep %s (or the server's --secret-key-file) with it, stored apart.
To restore: stop the server; move away %[1]s and its -wal and -shm files;
copy %[2]s to %[1]s (mode 0600, owned by the server's user); put the secret key
back; start the server (docs/operations.md).
`, src, args[0], info.Bytes, info.SchemaVersion, filepath.Join(dataDir, "secret.key"))
			return nil
		},
	}
	for _, f := range flags {
		cmd.Flags().StringVar(f.target, f.name, f.def, f.help+" ["+f.env+"]")
	}
	addConfigFlag(cmd, &configPath)
	return cmd
}
