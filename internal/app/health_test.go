package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/store"
)

// syncBuffer is a log destination the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// /healthz says the process answers; /readyz that its database answers
// and has this binary's schema, and says in a few words what is wrong when
// not, which the log tells once, with the details.
func TestHealthzAndReadyz(t *testing.T) {
	apptest.ForEachDatabase(t, func(t *testing.T, database string) {
		var logs syncBuffer
		s := apptest.Start(t, apptest.Options{Database: database, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		ctx := context.Background()
		if code, body := get(t, s.URL+"/healthz"); code != 200 || body != "ok\n" {
			t.Fatalf("/healthz: %d %q", code, body)
		}
		if code, body := get(t, s.URL+"/readyz"); code != 200 || body != "ok\n" {
			t.Fatalf("/readyz of a ready server: %d %q", code, body)
		}
		exec := func(q string) {
			t.Helper()
			if err := s.App.Store.Tx(ctx, func(tx *store.Tx) error { _, err := tx.ExecRaw(ctx, q); return err }); err != nil {
				t.Fatal(err)
			}
		}
		// A newer activator sharing the database migrated it further.
		exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99999, 'from a newer activator', 0)`)
		for range 2 {
			if code, body := get(t, s.URL+"/readyz"); code != 503 || body != "not ready: database schema not up to date\n" {
				t.Fatalf("/readyz with a schema from a newer activator: %d %q", code, body)
			}
		}
		if code, _ := get(t, s.URL+"/healthz"); code != 200 {
			t.Fatalf("/healthz of a server that is not ready: %d, want 200: the process answers", code)
		}
		exec(`DELETE FROM schema_migrations WHERE version = 99999`)
		if code, body := get(t, s.URL+"/readyz"); code != 200 {
			t.Fatalf("/readyz once the schema is back: %d %q", code, body)
		}
		out := logs.String()
		if n := strings.Count(out, `msg="not ready"`); n != 1 || !strings.Contains(out, "migration 99999") {
			t.Fatalf("want one log line naming the migration for two failed probes, got %d in:\n%s", n, out)
		}
		if !strings.Contains(out, "ready again") {
			t.Fatalf("no log line says the server is ready again:\n%s", out)
		}
	})
}
