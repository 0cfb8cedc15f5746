package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// tester is who the tests read the domain as, in the default organisation.
var tester = activation.Caller{Name: "test", OrgID: model.DefaultOrgID}

// TestFirstStartCreatesWhatItNeedsOnce starts activator twice on the same
// data folder and database, on each engine.
func TestFirstStartCreatesWhatItNeedsOnce(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			dsn := ""
			if b.Name != "sqlite" {
				dsn = b.DSN(t)
			}
			opts := apptest.Options{DataDir: dir, Database: dsn}
			s := apptest.Start(t, opts)
			a := s.App
			tokenPath := filepath.Join(dir, "admin.token")
			fi, err := os.Stat(tokenPath)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("admin.token: %v, mode %v", err, fi.Mode())
			}
			raw, _ := os.ReadFile(tokenPath)
			token := strings.TrimSpace(string(raw))
			if !secret.WellFormed(token, secret.PrefixAPIToken) {
				t.Fatalf("admin.token holds %q", secret.Display(token))
			}
			if c, err := a.Domain.Access.Authenticate(ctx, token); err != nil || c.Role != model.RoleProvider || c.OrgID != model.DefaultOrgID {
				t.Fatalf("the first start's token is not the provider admin's in the default organisation: %+v, %v", c, err)
			}
			ps, _ := a.Domain.Profiles.List(ctx, tester)
			if len(ps) != 1 || ps[0].Name != "default" || !ps[0].IsDefault {
				t.Fatalf("default profile: %+v", ps)
			}
			key1 := a.Domain.Links.PublicKey()
			if !strings.HasPrefix(a.URL, "http://127.0.0.1:") {
				t.Fatalf("listen URL %q", a.URL)
			}
			st, _ := a.Domain.Settings.Current(ctx, model.DefaultOrgID)
			if st.BaseURL != a.URL {
				t.Fatalf("links must be built from the listen address until public_base_url is set: %q vs %q", st.BaseURL, a.URL)
			}
			if dsn == "" {
				if _, err := os.Stat(filepath.Join(dir, "activator.db")); err != nil {
					t.Fatalf("SQLite database not in the data folder: %v", err)
				}
			}
			// Only the token's hash is stored: the database file never holds it.
			if dsn == "" {
				db, _ := os.ReadFile(filepath.Join(dir, "activator.db"))
				wal, _ := os.ReadFile(filepath.Join(dir, "activator.db-wal"))
				if strings.Contains(string(db)+string(wal), token) {
					t.Fatal("the admin token is stored in clear")
				}
			}
			s.Stop()

			os.Remove(tokenPath)
			a2 := apptest.Start(t, opts).App
			if _, err := os.Stat(tokenPath); !os.IsNotExist(err) {
				t.Fatal("a second start must not issue another admin token")
			}
			if !key1.Equal(a2.Domain.Links.PublicKey()) {
				t.Fatal("the signing key must survive a restart")
			}
			ps, _ = a2.Domain.Profiles.List(ctx, tester)
			if len(ps) != 1 {
				t.Fatalf("a second start made %d profiles", len(ps))
			}
		})
	}
}

func TestTLSNeedsBothFiles(t *testing.T) {
	_, err := app.New(context.Background(), app.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", TLSCert: "cert.pem"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "both a certificate and a key") {
		t.Fatalf("want a clear error, got %v", err)
	}
}

// TestReadyFileNamesTheChosenPorts starts every listener on port 0: the
// ready file, written before serving, names the ports the system chose,
// and they are the ones serving. It is gone after the stop.
func TestReadyFileNamesTheChosenPorts(t *testing.T) {
	for _, sipOn := range []bool{true, false} {
		t.Run(fmt.Sprintf("sip=%v", sipOn), func(t *testing.T) {
			dir := t.TempDir()
			ready := filepath.Join(dir, "ready.json")
			cfg := app.Config{DataDir: dir, Listen: "127.0.0.1:0", ReadyFile: ready}
			if sipOn {
				cfg.SIP = app.SIPConfig{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", TLS: "127.0.0.1:0"}
			}
			a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if _, err := os.Stat(ready); !os.IsNotExist(err) {
				t.Fatalf("the ready file exists before Run: %v", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
				if _, err := os.Stat(ready); !os.IsNotExist(err) {
					t.Errorf("the ready file is still there after the stop: %v", err)
				}
			}()

			var raw []byte
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if raw, err = os.ReadFile(ready); err == nil || time.Now().After(deadline) {
					break
				}
			}
			if err != nil {
				t.Fatalf("no ready file: %v", err)
			}
			var got map[string]string
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("ready file %q: %v", raw, err)
			}
			if got["url"] != a.URL || got["url"] != "http://"+got["http"] || strings.HasSuffix(got["http"], ":0") {
				t.Fatalf("ready file %s: want url %s and its host:port", raw, a.URL)
			}
			resp, err := http.Get(got["url"] + "/healthz")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s/healthz: %v %v", got["url"], resp, err)
			}
			resp.Body.Close()

			if !sipOn {
				if len(got) != 2 {
					t.Fatalf("ready file %s: want only url and http with SIP off", raw)
				}
				return
			}
			for _, tr := range []string{"udp", "tcp", "tls"} {
				addr := got["sip_"+tr]
				if addr == "" || strings.HasSuffix(addr, ":0") || addr != a.SIP.Addrs()[tr] {
					t.Fatalf("ready file %s: sip_%s, want the bound %s", raw, tr, a.SIP.Addrs()[tr])
				}
			}
			// The addresses are held by the server: nobody else can bind them.
			if c, err := net.ListenPacket("udp", got["sip_udp"]); err == nil {
				c.Close()
				t.Errorf("sip_udp %s is not bound by the server", got["sip_udp"])
			}
			for _, tr := range []string{"tcp", "tls"} {
				c, err := net.Dial("tcp", got["sip_"+tr])
				if err != nil {
					t.Fatalf("sip_%s %s: %v", tr, got["sip_"+tr], err)
				}
				c.Close()
			}
		})
	}
}
