package console_test

import (
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
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
	return startConsoleIn(t, database, "")
}

// startConsoleIn starts activator with its data folder (secret key) in dir.
func startConsoleIn(t *testing.T, database, dir string) *consoleServer {
	t.Helper()
	s := apptest.Start(t, apptest.Options{Database: database, DataDir: dir})
	return &consoleServer{url: s.URL, app: s.App}
}
