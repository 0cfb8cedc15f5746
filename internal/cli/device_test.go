package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
)

const (
	sipPassword    = "sip-pw-N0tForYourEyes"
	linkToken      = "avl_abcdefghijklmnopqrstuvwxyz234567"
	deviceCredTest = "avd_credential-kept-on-disk"
)

// deviceServer plays the device side of the API for the device commands.
func deviceServer(t *testing.T) (*httptest.Server, ed25519.PrivateKey) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var srv *httptest.Server
	config := func() model.DeviceConfig {
		return model.DeviceConfig{
			Version: model.ProtocolVersion,
			Server:  model.ServerInfo{BaseURL: srv.URL},
			Account: model.DeviceAccount{Username: "4930218876", Password: sipPassword, SIPDomain: "sip.example.com",
				VirtualNumber: "204518", DisplayName: "Maria Rossi"},
			Security: model.SecurityConfig{Model: model.EndToEnd},
			Profile:  model.DefaultProfileSettings(),
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/device/activate", func(w http.ResponseWriter, r *http.Request) {
		var req model.RedeemRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Token != linkToken {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(model.ErrorBody{Error: model.APIError{Code: "link_unknown", Message: "This link is not known."}})
			return
		}
		json.NewEncoder(w).Encode(model.RedeemResponse{DeviceCredential: deviceCredTest, Config: config()})
	})
	mux.HandleFunc("GET /api/v1/device/config", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(config())
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, key
}

func TestDeviceActivateAndRefresh(t *testing.T) {
	srv, key := deviceServer(t)
	now := time.Now().UTC().Truncate(time.Second)
	file, err := provisioning.SignActivation(provisioning.ActivationPayload{
		Server: srv.URL, Token: linkToken, IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	path := filepath.Join(work, "maria.activation")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "phone")
	secrets := []string{sipPassword, linkToken, deviceCredTest}

	if res := runCLI(t, nil, "", "device", "activate", path, "--dir", dir); res.err == nil || !strings.Contains(res.err.Error(), "--insecure") {
		t.Fatalf("activate from an http server without --insecure: want a refusal naming --insecure, got %v", res.err)
	}
	res := runCLI(t, nil, "", "device", "activate", path, "--dir", dir, "-v", "--insecure")
	if res.err != nil {
		t.Fatalf("activate: %v", res.err)
	}
	for _, w := range []string{"server:", srv.URL, "username:", "4930218876", "sip domain:", "sip.example.com",
		"virtual number:", "204518", "key id:", provisioning.KeyID(key.Public().(ed25519.PublicKey)), "pinned on first use"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("activate output lacks %q:\n%s", w, res.stdout)
		}
	}
	if res.stderr == "" {
		t.Errorf("-v logged nothing")
	}
	for _, s := range secrets {
		if strings.Contains(res.all(), s) {
			t.Errorf("activate shows a secret %q:\n%s", s, res.all())
		}
	}

	res = runCLI(t, nil, "", "device", "refresh", "--dir", dir, "-o", "json", "--insecure")
	if res.err != nil {
		t.Fatalf("refresh: %v", res.err)
	}
	var cfg model.DeviceConfig
	if err := json.Unmarshal([]byte(res.stdout), &cfg); err != nil {
		t.Fatalf("refresh -o json: %v\n%s", err, res.stdout)
	}
	if cfg.Account.Password != "***" || cfg.Account.Username != "4930218876" {
		t.Errorf("refresh -o json account %+v, want the password masked", cfg.Account)
	}
	for _, s := range secrets {
		if strings.Contains(res.all(), s) {
			t.Errorf("refresh shows a secret %q", s)
		}
	}

	res = runCLI(t, nil, "", "device", "refresh", "--dir", dir, "--insecure")
	if res.err != nil || strings.Contains(res.stdout, "pinned on first use") {
		t.Errorf("refresh: %v, printed\n%s", res.err, res.stdout)
	}
}

func TestDeviceNeedsDir(t *testing.T) {
	res := runCLI(t, nil, "", "device", "refresh")
	if res.err == nil || !strings.Contains(res.err.Error(), `required flag(s) "dir" not set`) {
		t.Errorf("error %v, want --dir required", res.err)
	}
	res = runCLI(t, nil, "", "device", "activate", "--dir", t.TempDir())
	if res.err == nil || !strings.Contains(res.err.Error(), "needs URL|FILE") {
		t.Errorf("error %v, want URL|FILE required", res.err)
	}
}
