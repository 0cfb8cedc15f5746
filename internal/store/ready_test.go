package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// Ready is the readiness probe's question: the database answers and has
// exactly this binary's migrations.
func TestReadyNamesWhatIsWrong(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.DSN(t)
			s := storetest.Open(t, dsn)
			if err := s.Ready(ctx); err != nil {
				t.Fatalf("a freshly migrated database is not ready: %v", err)
			}
			exec := func(q string) {
				t.Helper()
				if err := s.Tx(ctx, func(tx *store.Tx) error { _, err := tx.ExecRaw(ctx, q); return err }); err != nil {
					t.Fatal(err)
				}
			}
			exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99999, 'from a newer activator', 0)`)
			if err := s.Ready(ctx); !errors.Is(err, store.ErrSchemaNotCurrent) {
				t.Fatalf("with a migration this binary does not know: %v, want ErrSchemaNotCurrent", err)
			}
			exec(`DELETE FROM schema_migrations WHERE version IN (99999, 1)`)
			if err := s.Ready(ctx); !errors.Is(err, store.ErrSchemaNotCurrent) {
				t.Fatalf("with migration 1 missing: %v, want ErrSchemaNotCurrent", err)
			}
			s.Close()
			if err := s.Ready(ctx); err == nil || errors.Is(err, store.ErrSchemaNotCurrent) {
				t.Fatalf("a closed database: %v, want a connection error", err)
			}
		})
	}
}
