package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An instance keeps its name across restarts on the same data folder; an
// instance on another data folder gets another; a configured name wins.
func TestInstanceIDIsKeptInTheDataFolder(t *testing.T) {
	dir := t.TempDir()
	first, err := instanceID("", dir)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if !strings.HasPrefix(first, host+"/") || len(first) < len(host)+8 {
		t.Fatalf("instance id %q: want the host name and a random id", first)
	}
	fi, err := os.Stat(filepath.Join(dir, instanceFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", instanceFile, err, fi)
	}
	again, err := instanceID("", dir)
	if err != nil || again != first {
		t.Fatalf("after a restart: %q (%v), want %q", again, err, first)
	}
	other, err := instanceID("", t.TempDir())
	if err != nil || other == first {
		t.Fatalf("another data folder: %q (%v), same as %q", other, err, first)
	}
	if got, _ := instanceID("activator-0", dir); got != "activator-0" {
		t.Fatalf("configured: %q", got)
	}
	os.WriteFile(filepath.Join(dir, instanceFile), []byte("two words\n"), 0o600)
	if _, err := instanceID("", dir); err == nil {
		t.Fatal("a damaged instance file must be refused, not replaced behind the operator's back")
	}
}
