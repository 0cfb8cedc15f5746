package app_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
)

// checkPrivate fails for a data folder that is not 0700 or holds a file
// that is not 0600.
func checkPrivate(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the data folder: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().IsRegular() && info.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v; want 0600", e.Name(), info.Mode().Perm())
		}
	}
}

// Every file of the data folder is its owner's only, on a first start with
// a permissive umask and on a start over a folder someone else made open.
func TestTheDataFolderIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022) // what most systems give a service
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	// The ready file in the data folder: it says everything is bound, and
	// it is private too.
	s := apptest.Start(t, apptest.Options{DataDir: dir, ReadyFile: filepath.Join(dir, "ready.json"),
		SIP: app.SIPConfig{TLS: "127.0.0.1:0"}})
	checkPrivate(t, dir)
	s.Stop()

	// Someone opened it all up: the next start closes it again.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.Chmod(filepath.Join(dir, e.Name()), 0o644)
	}
	apptest.Start(t, apptest.Options{DataDir: dir})
	checkPrivate(t, dir)
}
