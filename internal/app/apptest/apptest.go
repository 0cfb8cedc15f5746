// Package apptest starts a whole activator in the test process, built by
// app.New from a Config and served by App.Run as `activator serve` does,
// and stops it when the test ends. Every in-process test of a whole server
// starts it here; only internal/app's tests of New itself call app.New
// (guard_test.go). Tests of the built binary are in e2e.
package apptest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/store/storetest"
	"github.com/activator-voip/activator/internal/web"
)

// readyTimeout bounds how long Start waits for the server to be serving.
const readyTimeout = 15 * time.Second

// Options is what a test sets of the server it starts. The zero value is a
// fresh data folder with SQLite in it, HTTP on a loopback port the system
// picks, SIP off and a log that goes nowhere.
type Options struct {
	// Database is a PostgreSQL URL (storetest.PostgresDSN, or the database
	// ForEachDatabase passes); empty: SQLite in the data folder.
	Database string
	// DataDir is the data folder (secret key, admin token, SQLite); empty:
	// a new temporary folder. Instances that share a PostgreSQL database
	// share it too, as production needs one secret key for all of them.
	DataDir string
	// SIP is the embedded registrar's listeners, such as "127.0.0.1:0".
	SIP app.SIPConfig
	// TLSCert and TLSKey are PEM files: with both, the server speaks HTTPS.
	TLSCert, TLSKey string
	// ACME gets the HTTPS certificate from an ACME CA instead.
	ACME app.ACMEConfig
	// Listen is the HTTP listener's address; empty: a loopback port the
	// system picks.
	Listen string
	// ReadyFile is where the server writes its bound addresses; empty: a
	// file in a temporary folder of its own. Start waits for it either way.
	ReadyFile string
	// Logger receives the server's log; nil: discarded.
	Logger *slog.Logger
	// Version is what the server reports itself as; empty: "test".
	Version string
	// Limits are the per-address rate limits; zero: the server's defaults
	// as app.Config's zero says.
	Limits web.Limits
	// MetricsListen is the operations listener's address (app.Config);
	// empty: none. Its bound address is App.Listening().Metrics.
	MetricsListen string
	// ImportConfirmWait is app.Config's: negative, confirming an import
	// answers 202 at once.
	ImportConfirmWait time.Duration
}

// Server is a running activator.
type Server struct {
	URL     string   // http(s)://127.0.0.1:PORT
	App     *app.App // its Domain, Store and embedded registrar
	DataDir string
	// AdminToken is the admin API token the first start on DataDir wrote
	// to admin.token; empty when that file is gone.
	AdminToken string
	stop       func()
}

// TokenFile is the path of the first-start admin token, as
// ACTIVATOR_TOKEN_FILE names it.
func (s *Server) TokenFile() string { return filepath.Join(s.DataDir, "admin.token") }

// Stop stops the server and waits until it has drained and closed its
// database, so another start on the same data folder may follow. The
// test's cleanup calls it too; a second call does nothing.
func (s *Server) Stop() { s.stop() }

// Start builds and runs an activator as o says, and waits until it is
// serving. It fails the test if the server cannot start, or if it stops
// with an error before the test ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	if o.DataDir == "" {
		o.DataDir = tb.TempDir()
	}
	if o.ReadyFile == "" {
		o.ReadyFile = filepath.Join(tb.TempDir(), "ready.json")
	}
	if o.Version == "" {
		o.Version = "test"
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	cfg := app.Config{DataDir: o.DataDir, Listen: o.Listen, Database: o.Database, TLSCert: o.TLSCert, TLSKey: o.TLSKey, ACME: o.ACME,
		Version: o.Version, SIP: o.SIP, ReadyFile: o.ReadyFile, Limits: o.Limits, MetricsListen: o.MetricsListen,
		ImportConfirmWait: o.ImportConfirmWait}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		cancel()
		tb.Fatalf("starting activator: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Run(ctx); err != nil {
			tb.Errorf("serving: %v", err)
		}
	}()
	var once sync.Once
	s := &Server{URL: a.URL, App: a, DataDir: o.DataDir, stop: func() {
		once.Do(func() {
			cancel()
			<-done
			a.Close()
		})
	}}
	tb.Cleanup(s.Stop)
	for deadline := time.Now().Add(readyTimeout); ; {
		if _, err := os.Stat(o.ReadyFile); err == nil {
			break
		}
		select {
		case <-done:
			tb.Fatalf("activator stopped before it was serving")
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("activator wrote no ready file within %v", readyTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if tok, err := os.ReadFile(s.TokenFile()); err == nil {
		s.AdminToken = strings.TrimSpace(string(tok))
	} else if !os.IsNotExist(err) {
		tb.Fatalf("reading the admin token: %v", err)
	}
	return s
}

// ForEachDatabase runs fn as a subtest per database engine, named for it,
// with the Database option that selects it: "" for SQLite in the data
// folder, always; a fresh PostgreSQL database when storetest has a server
// (under CI it must).
func ForEachDatabase(t *testing.T, fn func(t *testing.T, database string)) {
	t.Helper()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			database := ""
			if b.Name != "sqlite" {
				database = b.DSN(t)
			}
			fn(t, database)
		})
	}
}
