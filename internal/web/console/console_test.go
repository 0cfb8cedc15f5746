package console_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/model"
)

func strp(s string) *string { return &s }

// tester is who the tests act as when they set things up through the
// domain, in the default organisation.
var tester = activation.Caller{Name: "test", OrgID: model.DefaultOrgID}

// consoleServer is a running activator on loopback.
type consoleServer struct {
	url string
	app *app.App
}

// startConsole starts a whole activator, as `activator serve` does, on
// SQLite (database "") or the PostgreSQL URL given.
func startConsole(t *testing.T, database string) *consoleServer {
	t.Helper()
	return startConsoleIn(t, database, t.TempDir())
}

// startConsoleIn starts activator with its data folder (secret key) in dir.
func startConsoleIn(t *testing.T, database, dir string) *consoleServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Config{DataDir: dir, Listen: "127.0.0.1:0", Database: database, Version: "test"}, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatalf("starting activator: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Run(ctx); err != nil {
			t.Errorf("serving: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	return &consoleServer{url: a.URL, app: a}
}
