// Package storetest runs a test on every database activator supports: a fresh
// SQLite file, and a throwaway PostgreSQL database when ACTIVATOR_TEST_POSTGRES
// names a server (postgres://user@host:port/db?sslmode=disable). Without that
// URL the PostgreSQL half skips and says so, except under CI, where it fails.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/activator-voip/activator/internal/store"
)

// EnvPostgres names the environment variable holding the PostgreSQL URL.
const EnvPostgres = "ACTIVATOR_TEST_POSTGRES"

// Backend is one database a test runs on.
type Backend struct {
	Name string
	// DSN opens a new, empty database for this backend each time it is called.
	DSN func(t testing.TB) string
}

// Backends lists the databases available to this test run.
func Backends(t testing.TB) []Backend {
	out := []Backend{{Name: "sqlite", DSN: SQLiteDSN}}
	if os.Getenv(EnvPostgres) != "" {
		out = append(out, Backend{Name: "postgres", DSN: PostgresDSN})
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: CI must run the PostgreSQL half of every store test", EnvPostgres)
	}
	return out
}

// ForEach runs fn as a subtest on a fresh, migrated store of every backend.
func ForEach(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, Open(t, b.DSN(t)))
		})
	}
	if os.Getenv(EnvPostgres) == "" {
		t.Logf("postgres: skipped, set %s to run it", EnvPostgres)
	}
}

// Open opens and migrates a store, closed when the test ends.
func Open(t testing.TB, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// SQLiteDSN returns the path of a new SQLite file in the test's temp folder.
func SQLiteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "activator.db")
}

// PostgresDSN creates a throwaway database on the configured server, dropped
// when the test ends, and returns its URL.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skipf("postgres: %s is not set", EnvPostgres)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "activator_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("postgres: creating throwaway database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("postgres: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("postgres: dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres: %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}
