package store_test

import (
	"context"
	"errors"
	"fmt"
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

// Stats counts the database's failures, not the answers the domain
// expects: a unique value taken is an answer, a closed pool a failure.
func TestStatsCountDatabaseErrors(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, b.DSN(t))
			seed(t, s)
			insert := func() error {
				return s.Tx(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecRaw(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'again', 0)`)
					return err
				})
			}
			var conflict *store.ConflictError
			if err := insert(); !errors.As(err, &conflict) {
				t.Fatalf("inserting a taken version: %v, want a conflict", err)
			}
			if _, err := s.AccountByUsername(ctx, org, "no such user"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("reading a missing account: %v", err)
			}
			if n := s.Stats().Errors; n != 0 {
				t.Fatalf("after a conflict and a missing row: %d errors, want 0", n)
			}
			if _, err := s.QueueCounts(ctx); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if _, err := s.QueueCounts(ctx); err == nil {
				t.Fatal("counting messages on a closed store worked")
			}
			if err := insert(); err == nil {
				t.Fatal("a transaction on a closed store worked")
			}
			if n := s.Stats().Errors; n != 2 {
				t.Fatalf("after a failed query and a failed transaction: %d errors, want 2", n)
			}
		})
	}
}

// QueueCounts counts the queue by gateway and state with its oldest
// message; StateCounts every message by state.
func TestQueueAndStateCounts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		for i, m := range []struct {
			gateway, state string
			created        int64
		}{{"sms-main", "queued", 5000}, {"sms-main", "queued", 3000}, {"sms-main", "sending", 4000}, {"mail", "queued", 7000}, {"mail", "sent", 1000}, {"mail", "failed", 2000}} {
			err := s.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecRaw(ctx, `INSERT INTO messages (org_id, channel, kind, gateway, recipient, body, state, max_attempts, created_at, updated_at, next_attempt_at)
					VALUES ($1, 'email', 'activation', $2, 'a@example.com', 'b', $3, 8, $4, $4, $4)`, org, m.gateway, m.state, m.created)
				return err
			})
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		counts, err := s.QueueCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range counts {
			got[c.Gateway+"/"+c.State] = fmt.Sprint(c.Count, " ", c.Oldest.UnixMilli())
		}
		want := map[string]string{"sms-main/queued": "2 3000", "sms-main/sending": "1 4000", "mail/queued": "1 7000"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("QueueCounts = %v, want %v", got, want)
		}
		states, err := s.StateCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(states) != fmt.Sprint(map[string]int64{"queued": 3, "sending": 1, "sent": 1, "failed": 1}) {
			t.Errorf("StateCounts = %v", states)
		}
	})
}
