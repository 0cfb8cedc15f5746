package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/app/apptest"
)

// The key commands work on a stopped server's data folder, show progress
// on standard error, and fail, naming what is missing, on a folder that
// holds no activator.
func TestKeysCommands(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	s.Stop()
	r := runCLI(t, nil, "", "keys", "rotate", "--data", s.DataDir)
	if r.err != nil || !strings.Contains(r.stdout, "resealed") || !strings.Contains(r.stderr, "resealing server_secrets.value") {
		t.Fatalf("keys rotate: %v\nstdout %s\nstderr %s", r.err, r.stdout, r.stderr)
	}
	r = runCLI(t, map[string]string{"ACTIVATOR_DATA": s.DataDir}, "", "keys", "rotate-signing", "-o", "json")
	var rot struct {
		Old   string `json:"old_key_id"`
		New   string `json:"new_key_id"`
		Chain int    `json:"chain_length"`
	}
	if r.err != nil || json.Unmarshal([]byte(r.stdout), &rot) != nil || rot.Old == rot.New || rot.Chain != 1 {
		t.Fatalf("keys rotate-signing: %v %q", r.err, r.all())
	}
	r = runCLI(t, nil, "", "keys", "rotate", "--data", t.TempDir())
	if r.err == nil || !strings.Contains(r.err.Error(), "secret key") {
		t.Fatalf("keys rotate on an empty folder: %v, want an error about the missing key", r.err)
	}
}
