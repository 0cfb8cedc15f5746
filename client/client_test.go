package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/testnet"
)

// fakeServer plays the server side of the device contract, and nothing more:
// the real server is a separate package. It signs real activation files.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server
	key ed25519.PrivateKey

	chain    []provisioning.KeyEndorsement // set by rotate: the endorsements files carry
	mu       sync.Mutex
	tlsPin   string            // pin written in files; "" means the server's real pin
	noPin    bool              // write no pin at all
	links    map[string]bool   // token -> redeemed
	creds    map[string]bool   // device credential -> valid
	password string            // current SIP password
	redeems  int               // redeem requests that reached the handler
	device   model.DeviceInfo  // last device that redeemed
	secrets  map[string]string // every secret handed out, to check logs against
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	return newFakeServerOver(t, true)
}

// newFakeServerOver starts the fake server over https, or plain http.
func newFakeServerOver(t *testing.T, https bool) *fakeServer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, key: key, links: map[string]bool{}, creds: map[string]bool{}, secrets: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a/{token}/activation", s.activationFile)
	mux.HandleFunc("POST "+ActivatePath, s.redeem)
	mux.HandleFunc("GET "+ConfigPath, s.config)
	if https {
		s.srv = httptest.NewTLSServer(mux)
	} else {
		s.srv, s.noPin = httptest.NewServer(mux), true
	}
	t.Cleanup(s.srv.Close)
	return s
}

func randomToken(prefix string) string {
	b := make([]byte, 20)
	rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// newLink issues a link token and returns the landing page URL.
func (s *fakeServer) newLink() (token, landing string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	token = randomToken("avl_")
	s.links[token] = false
	s.secrets[token] = "token"
	return token, s.srv.URL + "/a/" + token
}

func (s *fakeServer) revokeDevices() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.creds {
		s.creds[c] = false
	}
}

func (s *fakeServer) redeemCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.redeems
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(model.ErrorBody{Error: model.APIError{Code: code, Message: msg, Field: field}})
}

func (s *fakeServer) activationFile(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	_, known := s.links[token]
	pin := s.tlsPin
	if pin == "" && !s.noPin {
		pin = provisioning.TLSPin(s.srv.Certificate())
	}
	if s.noPin {
		pin = ""
	}
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusNotFound, CodeLinkUnknown, "This link is not known.", "")
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	s.mu.Lock()
	key, chain := s.key, s.chain
	s.mu.Unlock()
	file, err := provisioning.SignActivationChain(provisioning.ActivationPayload{
		Server: s.srv.URL, Token: token, IssuedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour),
		TLSPin: pin, DisplayName: "Maria Rossi",
	}, key, chain)
	if err != nil {
		s.t.Errorf("signing: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", provisioning.DefaultActivationMIMEType)
	w.Header().Set("Content-Disposition", `attachment; filename="maria.activation"`)
	w.Write(file)
}

func (s *fakeServer) deviceConfig() model.DeviceConfig {
	settings := model.DefaultProfileSettings()
	return model.DeviceConfig{
		Version:  model.ProtocolVersion,
		IssuedAt: time.Now().UTC().Truncate(time.Second),
		Server:   model.ServerInfo{BaseURL: s.srv.URL, ConfigURL: s.srv.URL + ConfigPath},
		Account: model.DeviceAccount{
			Username: "4930218876", Password: s.password, SIPDomain: "sip.example.com",
			VirtualNumber: "204518", DisplayName: "Maria Rossi",
		},
		SIP: model.SIPConfig{Domain: "sip.example.com", Realm: "sip.example.com", Servers: []model.SIPServer{
			{Host: "sip.example.com", Port: 5061, Transport: "tls"},
		}},
		Security: model.SecurityConfig{Model: model.EndToEnd, SecurityMode: settings.Security[model.EndToEnd]},
		Profile:  settings,
	}
}

func (s *fakeServer) redeem(w http.ResponseWriter, r *http.Request) {
	var req model.RedeemRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidJSON, "The body is not JSON.", "")
		return
	}
	if req.Device.ID == "" || !model.ValidPlatform(req.Device.Platform) {
		writeError(w, http.StatusBadRequest, CodeInvalidField, "Device ID and platform are required.", "device")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redeems++
	used, known := s.links[req.Token]
	switch {
	case !known:
		writeError(w, http.StatusNotFound, CodeLinkUnknown, "This link is not known.", "")
		return
	case used:
		writeError(w, http.StatusGone, CodeLinkUsed, "This link was already used.", "")
		return
	}
	s.links[req.Token] = true
	s.device = req.Device
	for c := range s.creds { // redeem revokes the account's earlier credentials
		s.creds[c] = false
	}
	cred := randomToken("avd_")
	s.creds[cred] = true
	s.secrets[cred] = "credential"
	s.password = randomToken("pw")
	s.secrets[s.password] = "password"
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(model.RedeemResponse{DeviceCredential: cred, Config: s.deviceConfig()})
}

func (s *fakeServer) config(w http.ResponseWriter, r *http.Request) {
	cred, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || !s.creds[cred] {
		writeError(w, http.StatusUnauthorized, CodeDeviceCredentialInvalid, "The device credential is not valid.", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.deviceConfig())
}

// fetchFile downloads an activation file the way a browser would.
func (s *fakeServer) fetchFile(t *testing.T, landing string) string {
	t.Helper()
	resp, err := s.srv.Client().Get(landing + "/activation")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fetching file: %d %s", resp.StatusCode, buf.String())
	}
	path := filepath.Join(t.TempDir(), "maria.activation")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (s *fakeServer) opts(t *testing.T, dir string) Options {
	return Options{Dir: dir, HTTPClient: s.srv.Client()}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestActivateFromURL(t *testing.T) {
	s := newFakeServer(t)
	_, landing := s.newLink()
	dir := filepath.Join(t.TempDir(), "state")

	res, err := Activate(context.Background(), landing, s.opts(t, dir))
	if err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if !res.FirstUse {
		t.Error("FirstUse = false on a fresh directory")
	}
	if res.Server != s.srv.URL {
		t.Errorf("Server = %q, want %q", res.Server, s.srv.URL)
	}
	if want := provisioning.KeyID(s.key.Public().(ed25519.PublicKey)); res.KeyID != want {
		t.Errorf("KeyID = %q, want %q", res.KeyID, want)
	}
	if res.Config.Account.Password == "" || res.Config.Account.Password != s.password {
		t.Errorf("password = %q, want the server's", res.Config.Account.Password)
	}

	var cfg model.DeviceConfig
	readJSON(t, filepath.Join(dir, FileConfig), &cfg)
	if cfg.Account.Username != "4930218876" || cfg.Account.Password != s.password || len(cfg.SIP.Servers) != 1 {
		t.Errorf("config.json = %+v", cfg.Account)
	}
	cred, _ := os.ReadFile(filepath.Join(dir, FileCredential))
	if !s.creds[strings.TrimSpace(string(cred))] {
		t.Errorf("credential file %q is not the issued credential", cred)
	}
	var ps pinnedServer
	readJSON(t, filepath.Join(dir, FileServer), &ps)
	if ps.Server != s.srv.URL || ps.KeyID != res.KeyID || ps.TLSPin != provisioning.TLSPin(s.srv.Certificate()) {
		t.Errorf("server.json = %+v", ps)
	}

	id, _ := os.ReadFile(filepath.Join(dir, FileDeviceID))
	want := runtime.GOOS
	if want == "darwin" {
		want = "macos"
	}
	if s.device.ID != strings.TrimSpace(string(id)) || s.device.ID == "" || s.device.AppVersion != AppVersion {
		t.Errorf("device sent = %+v, device-id file %q", s.device, id)
	}
	if model.ValidPlatform(want) && s.device.Platform != want {
		t.Errorf("platform = %q, want %q", s.device.Platform, want)
	}

	// The direct file URL works too, the device ID stays, the pin is kept.
	_, landing2 := s.newLink()
	res2, err := Activate(context.Background(), landing2+"/activation", s.opts(t, dir))
	if err != nil {
		t.Fatalf("Activate from the file URL: %v", err)
	}
	if res2.FirstUse {
		t.Error("FirstUse = true on the second activation")
	}
	if s.device.ID != strings.TrimSpace(string(id)) {
		t.Errorf("device ID changed: %q then %q", id, s.device.ID)
	}
}

func TestActivateFromFile(t *testing.T) {
	s := newFakeServer(t)
	_, landing := s.newLink()
	path := s.fetchFile(t, landing)
	dir := t.TempDir()
	opts := s.opts(t, dir)
	opts.Device = DeviceInfo{ID: "phone-1", Platform: "android", Model: "Pixel 8", AppVersion: "privatewave/5.2"}

	res, err := Activate(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if res.Config.Account.Password != s.password {
		t.Error("password not delivered")
	}
	if s.device != model.DeviceInfo(opts.Device) {
		t.Errorf("device sent = %+v, want %+v", s.device, opts.Device)
	}
	if _, err := os.Stat(filepath.Join(dir, FileDeviceID)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("device-id written although the ID was given: %v", err)
	}
}

func TestPinnedKeyRefusesOtherServer(t *testing.T) {
	s := newFakeServer(t)
	other := newFakeServer(t)
	dir := t.TempDir()
	_, landing := s.newLink()
	if _, err := Activate(context.Background(), landing, s.opts(t, dir)); err != nil {
		t.Fatalf("first activation: %v", err)
	}

	_, otherLanding := other.newLink()
	path := other.fetchFile(t, otherLanding)
	_, err := Activate(context.Background(), path, other.opts(t, dir))
	if !errors.Is(err, ErrOtherServer) {
		t.Fatalf("err = %v, want ErrOtherServer", err)
	}
	if !strings.Contains(err.Error(), "signed by another server's key") {
		t.Errorf("error does not say why: %v", err)
	}
	if n := other.redeemCount(); n != 0 {
		t.Errorf("the other server got %d redeem requests; the token must not leave the device", n)
	}
	var ps pinnedServer
	readJSON(t, filepath.Join(dir, FileServer), &ps)
	if ps.Server != s.srv.URL {
		t.Errorf("pin moved to %s", ps.Server)
	}
}

func TestSecondRedeemIsLinkUsed(t *testing.T) {
	s := newFakeServer(t)
	_, landing := s.newLink()
	if _, err := Activate(context.Background(), landing, s.opts(t, t.TempDir())); err != nil {
		t.Fatalf("first activation: %v", err)
	}
	_, err := Activate(context.Background(), landing, s.opts(t, t.TempDir()))
	if !errors.Is(err, ErrLinkUsed) {
		t.Fatalf("err = %v, want ErrLinkUsed", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusGone || ae.Code != CodeLinkUsed {
		t.Errorf("err = %#v, want a 410 link_used APIError", err)
	}
	if errors.Is(err, ErrLinkExpired) || errors.Is(err, ErrUnauthorized) {
		t.Error("link_used matches other sentinels")
	}
}

func TestUnknownLink(t *testing.T) {
	s := newFakeServer(t)
	_, err := Activate(context.Background(), s.srv.URL+"/a/"+randomToken("avl_"), s.opts(t, t.TempDir()))
	if !errors.Is(err, ErrLinkUnknown) {
		t.Fatalf("err = %v, want ErrLinkUnknown", err)
	}
}

func TestTLSPin(t *testing.T) {
	ctx := context.Background()

	t.Run("mismatch refused before the token is sent", func(t *testing.T) {
		s := newFakeServer(t)
		s.tlsPin = "sha256/" + base64.StdEncoding.EncodeToString(make([]byte, 32))
		_, landing := s.newLink()
		dir := t.TempDir()
		_, err := Activate(ctx, landing, s.opts(t, dir))
		if !errors.Is(err, ErrTLSPinMismatch) {
			t.Fatalf("err = %v, want ErrTLSPinMismatch", err)
		}
		if n := s.redeemCount(); n != 0 {
			t.Errorf("server got %d redeem requests", n)
		}
		if _, err := os.Stat(filepath.Join(dir, FileServer)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("server pinned after a failed activation: %v", err)
		}
	})

	t.Run("pin trusts a self-signed server", func(t *testing.T) {
		s := newFakeServer(t)
		_, landing := s.newLink()
		path := s.fetchFile(t, landing)
		// A client that knows no CA for the test server: only the pin can make it trust it.
		opts := Options{Dir: t.TempDir(), HTTPClient: &http.Client{Timeout: 10 * time.Second}}
		if _, err := Activate(ctx, path, opts); err != nil {
			t.Fatalf("Activate: %v", err)
		}
		if _, err := Refresh(ctx, opts); err != nil {
			t.Fatalf("Refresh with the stored pin: %v", err)
		}
	})

	t.Run("no pin means CA verification", func(t *testing.T) {
		s := newFakeServer(t)
		s.noPin = true
		_, landing := s.newLink()
		path := s.fetchFile(t, landing)
		opts := Options{Dir: t.TempDir(), HTTPClient: &http.Client{Timeout: 10 * time.Second}}
		_, err := Activate(ctx, path, opts)
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("err = %v, want a certificate verification error", err)
		}
		if n := s.redeemCount(); n != 0 {
			t.Errorf("server got %d redeem requests", n)
		}
	})
}

func TestRefresh(t *testing.T) {
	s := newFakeServer(t)
	_, landing := s.newLink()
	dir := t.TempDir()
	opts := s.opts(t, dir)
	first, err := Activate(context.Background(), landing, opts)
	if err != nil {
		t.Fatalf("Activate: %v", err)
	}
	os.Remove(filepath.Join(dir, FileConfig))

	res, err := Refresh(context.Background(), opts)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if res.Server != first.Server || res.KeyID != first.KeyID || res.FirstUse {
		t.Errorf("Refresh result = %+v", res)
	}
	if res.Config.Account.Password != s.password || res.Config.Account.Username != first.Config.Account.Username {
		t.Errorf("refreshed account = %+v", res.Config.Account)
	}
	var cfg model.DeviceConfig
	readJSON(t, filepath.Join(dir, FileConfig), &cfg)
	if cfg.Account.Password != s.password {
		t.Error("config.json not rewritten")
	}
}

func TestRefreshAfterRevocation(t *testing.T) {
	s := newFakeServer(t)
	_, landing := s.newLink()
	opts := s.opts(t, t.TempDir())
	if _, err := Activate(context.Background(), landing, opts); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	s.revokeDevices()
	_, err := Refresh(context.Background(), opts)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != CodeDeviceCredentialInvalid {
		t.Errorf("err = %#v", err)
	}
}

func TestRefreshAfterReactivationElsewhere(t *testing.T) {
	s := newFakeServer(t)
	oldPhone := s.opts(t, t.TempDir())
	_, landing := s.newLink()
	if _, err := Activate(context.Background(), landing, oldPhone); err != nil {
		t.Fatal(err)
	}
	_, landing2 := s.newLink()
	if _, err := Activate(context.Background(), landing2, s.opts(t, t.TempDir())); err != nil {
		t.Fatal(err)
	}
	if _, err := Refresh(context.Background(), oldPhone); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("old device refresh: err = %v, want ErrUnauthorized", err)
	}
}

func TestRefreshNotActivated(t *testing.T) {
	_, err := Refresh(context.Background(), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrNotActivated) {
		t.Fatalf("err = %v, want ErrNotActivated", err)
	}
}

func TestFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	s := newFakeServer(t)
	_, landing := s.newLink()
	dir := filepath.Join(t.TempDir(), "a", "b")
	if _, err := Activate(context.Background(), landing, s.opts(t, dir)); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	for _, n := range []string{FileConfig, FileCredential, FileServer, FileDeviceID} {
		if !names[n] {
			t.Errorf("%s missing", n)
		}
	}
	if len(names) != 4 {
		t.Errorf("unexpected files left behind: %v", names)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	s := newFakeServer(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	opts := s.opts(t, dir)
	opts.Logger = logger

	_, landing := s.newLink()
	if _, err := Activate(context.Background(), landing, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := Refresh(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	_, err := Activate(context.Background(), landing, opts) // link_used
	if err == nil {
		t.Fatal("second redeem succeeded")
	}
	s.revokeDevices()
	_, err2 := Refresh(context.Background(), opts)
	if logs.Len() == 0 {
		t.Fatal("nothing logged at debug level")
	}
	for secret, kind := range s.secrets {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log holds the %s:\n%s", kind, logs.String())
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err2.Error(), secret) {
			t.Errorf("error holds the %s: %v / %v", kind, err, err2)
		}
	}
}

func TestFetchErrorHidesToken(t *testing.T) {
	s := newFakeServer(t)
	token, _ := s.newLink()
	_, err := Activate(context.Background(), "https://"+testnet.RefusingAddr(t)+"/a/"+token, Options{Dir: t.TempDir()})
	if err == nil {
		t.Fatal("activation against a closed server succeeded")
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error quotes the token: %v", err)
	}
}

func TestActivationURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://act.example.com/a/avl_x", "https://act.example.com/a/avl_x/activation"},
		{"https://act.example.com/a/avl_x/", "https://act.example.com/a/avl_x/activation"},
		{"https://act.example.com/prov/a/avl_x#top", "https://act.example.com/prov/a/avl_x/activation"},
		{"https://act.example.com/a/avl_x/activation", "https://act.example.com/a/avl_x/activation"},
		{"http://localhost:8080/a/avl_x/activation/", "http://localhost:8080/a/avl_x/activation"},
		{"https://act.example.com/b/avl_x", ""},
		{"https://act.example.com/", ""},
		{"https:///a/avl_x", ""},
	}
	for _, tt := range tests {
		u, err := activationURL(tt.in)
		got := ""
		if err == nil {
			got = u.String()
		}
		if got != tt.want {
			t.Errorf("activationURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "avl_x") {
			t.Errorf("error quotes the token: %v", err)
		}
	}
}

func TestAPIErrorFromNonJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err := Activate(context.Background(), srv.URL+"/a/avl_x", Options{Dir: t.TempDir(), AllowHTTP: true})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.Code != "" {
		t.Fatalf("err = %#v", err)
	}
	if got := fmt.Sprint(err); !strings.Contains(got, "502") {
		t.Errorf("error %q does not give the status", got)
	}
}

// A device refuses plain http unless told (development): the link, a
// downloaded file naming an http server, and a refresh from one.
func TestPlainHTTPRefusedUnlessAllowed(t *testing.T) {
	s := newFakeServerOver(t, false)
	ctx := context.Background()
	_, landing := s.newLink()
	_, err := Activate(ctx, landing, s.opts(t, t.TempDir()))
	if !errors.Is(err, ErrInsecureServer) || !strings.Contains(err.Error(), "--insecure") {
		t.Fatalf("an http link: err = %v, want ErrInsecureServer", err)
	}
	if strings.Contains(err.Error(), "avl_") {
		t.Errorf("the error quotes the token: %v", err)
	}
	path := s.fetchFile(t, landing)
	if _, err := Activate(ctx, path, s.opts(t, t.TempDir())); !errors.Is(err, ErrInsecureServer) {
		t.Fatalf("a file naming an http server: err = %v, want ErrInsecureServer", err)
	}
	if n := s.redeemCount(); n != 0 {
		t.Fatalf("%d redeem requests went over http: the token must not leave the device", n)
	}
	dir := t.TempDir()
	allowed := s.opts(t, dir)
	allowed.AllowHTTP = true
	if _, err := Activate(ctx, landing, allowed); err != nil {
		t.Fatalf("with AllowHTTP: %v", err)
	}
	if _, err := Refresh(ctx, s.opts(t, dir)); !errors.Is(err, ErrInsecureServer) {
		t.Fatalf("refresh from an http server: err = %v, want ErrInsecureServer", err)
	}
	if _, err := Refresh(ctx, allowed); err != nil {
		t.Fatalf("refresh with AllowHTTP: %v", err)
	}
}

// A client built with its operator's keys accepts no other key, even on
// first use.
func TestTrustedKeysReplaceTrustOnFirstUse(t *testing.T) {
	s := newFakeServer(t)
	other := newFakeServer(t)
	ctx := context.Background()
	_, landing := s.newLink()
	opts := s.opts(t, t.TempDir())
	opts.TrustedKeys = []ed25519.PublicKey{other.key.Public().(ed25519.PublicKey)}
	if _, err := Activate(ctx, landing, opts); !errors.Is(err, ErrOtherServer) {
		t.Fatalf("a file signed by a key not built in: err = %v, want ErrOtherServer", err)
	}
	if n := s.redeemCount(); n != 0 {
		t.Fatalf("%d redeem requests reached a server whose key is not trusted", n)
	}
	opts.TrustedKeys = append(opts.TrustedKeys, s.key.Public().(ed25519.PublicKey))
	res, err := Activate(ctx, landing, opts)
	if err != nil {
		t.Fatalf("a file signed by a built-in key: %v", err)
	}
	if !res.FirstUse {
		t.Error("the first activation is not reported as first use")
	}
}

// rotate replaces the server's signing key, the old key endorsing the new
// one, as `activator keys rotate-signing` does.
func (s *fakeServer) rotate(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, next, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chain = append(s.chain, provisioning.Endorse(s.key, next.Public().(ed25519.PublicKey)))
	s.key = next
	return next
}

// A device that pinned the server's first key accepts a file signed by the
// key that replaced it, twice over, and pins the newest key.
func TestPinnedKeyFollowsRotation(t *testing.T) {
	s := newFakeServer(t)
	ctx := context.Background()
	dir := t.TempDir()
	_, landing := s.newLink()
	first, err := Activate(ctx, landing, s.opts(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	s.rotate(t)
	next := s.rotate(t)
	_, landing = s.newLink()
	res, err := Activate(ctx, landing, s.opts(t, dir))
	if err != nil {
		t.Fatalf("after two rotations, a device pinned to the first key refuses the server: %v", err)
	}
	if res.FirstUse || res.KeyID == first.KeyID || res.KeyID != provisioning.KeyID(next.Public().(ed25519.PublicKey)) {
		t.Errorf("result = first use %v, key %s; want the newest key %s", res.FirstUse, res.KeyID, provisioning.KeyID(next.Public().(ed25519.PublicKey)))
	}
	var ps pinnedServer
	readJSON(t, filepath.Join(dir, FileServer), &ps)
	if ps.KeyID != res.KeyID || ps.PublicKey != base64.RawURLEncoding.EncodeToString(next.Public().(ed25519.PublicKey)) {
		t.Errorf("server.json still pins %s, want the newest key %s", ps.KeyID, res.KeyID)
	}

	// A client built with the first key only (an OEM build) follows too.
	s2 := newFakeServer(t)
	builtIn := s2.key.Public().(ed25519.PublicKey)
	s2.rotate(t)
	_, landing = s2.newLink()
	opts := s2.opts(t, t.TempDir())
	opts.TrustedKeys = []ed25519.PublicKey{builtIn}
	if _, err := Activate(ctx, landing, opts); err != nil {
		t.Fatalf("a client with the operator's first key built in refuses its rotated key: %v", err)
	}
}

// An attacker's server that claims the pinned key endorsed its own key is
// refused before the token leaves the device: the endorsement does not
// verify, and a genuine chain of another server leads nowhere the device
// trusts.
func TestForgedKeyChainRefused(t *testing.T) {
	s := newFakeServer(t)
	ctx := context.Background()
	dir := t.TempDir()
	_, landing := s.newLink()
	if _, err := Activate(ctx, landing, s.opts(t, dir)); err != nil {
		t.Fatal(err)
	}
	pinnedKey := s.key.Public().(ed25519.PublicKey)

	evil := newFakeServer(t)
	forged := provisioning.Endorse(evil.key, evil.key.Public().(ed25519.PublicKey))
	forged.SignedBy = pinnedKey
	token, _ := evil.newLink()
	now := time.Now().UTC()
	file, err := provisioning.SignActivation(provisioning.ActivationPayload{Server: evil.srv.URL, Token: token,
		IssuedAt: now, ExpiresAt: now.Add(time.Hour), TLSPin: provisioning.TLSPin(evil.srv.Certificate())}, evil.key)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(file, &env); err != nil {
		t.Fatal(err)
	}
	env["key_chain"] = []map[string]string{{
		"public_key": base64.RawURLEncoding.EncodeToString(forged.PublicKey),
		"signed_by":  base64.RawURLEncoding.EncodeToString(forged.SignedBy),
		"signature":  base64.RawURLEncoding.EncodeToString(forged.Signature),
	}}
	file, _ = json.Marshal(env)
	path := filepath.Join(t.TempDir(), "forged.activation")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Activate(ctx, path, evil.opts(t, dir)); !errors.Is(err, provisioning.ErrActivationSignature) {
		t.Fatalf("a forged endorsement: err = %v, want a signature error", err)
	}

	// A real chain, but of the attacker's own keys.
	evil.rotate(t)
	_, evilLanding := evil.newLink()
	if _, err := Activate(ctx, evil.fetchFile(t, evilLanding), evil.opts(t, dir)); !errors.Is(err, ErrOtherServer) {
		t.Fatalf("another server's chain: err = %v, want ErrOtherServer", err)
	}
	if n := evil.redeemCount(); n != 0 {
		t.Errorf("the attacker's server got %d redeem requests", n)
	}
	var ps pinnedServer
	readJSON(t, filepath.Join(dir, FileServer), &ps)
	if ps.PublicKey != base64.RawURLEncoding.EncodeToString(pinnedKey) {
		t.Error("the pin moved to the attacker's key")
	}
}
