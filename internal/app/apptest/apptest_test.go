package apptest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/sip/registrar"
)

// A server started with a certificate serves HTTPS with it, at the URL
// Start returns, and its registrar listens where SIP says.
func TestStartServesWhatTheOptionsSay(t *testing.T) {
	pool, cert, key := devCert(t)
	s := apptest.Start(t, apptest.Options{TLSCert: cert, TLSKey: key, SIP: app.SIPConfig{UDP: "127.0.0.1:0"}})
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") || s.URL != s.App.URL {
		t.Fatalf("URL %q, app URL %q: want https on loopback", s.URL, s.App.URL)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz over HTTPS: %d", resp.StatusCode)
	}
	if s.App.SIP == nil || s.App.Listening().SIPUDP == "" {
		t.Fatalf("no embedded registrar on UDP: %+v", s.App.Listening())
	}
}

// After Stop, a start on the same data folder finds the first start's
// secret key and admin token.
func TestStopLetsAnotherStartOpenTheDataFolder(t *testing.T) {
	one := apptest.Start(t, apptest.Options{})
	if !secret.WellFormed(one.AdminToken, secret.PrefixAPIToken) {
		t.Fatalf("admin token %q", secret.Display(one.AdminToken))
	}
	if one.TokenFile() != filepath.Join(one.DataDir, "admin.token") {
		t.Fatalf("token file %s", one.TokenFile())
	}
	one.Stop()
	two := apptest.Start(t, apptest.Options{DataDir: one.DataDir})
	if two.AdminToken != one.AdminToken {
		t.Fatal("the second start read another admin token")
	}
	c, err := two.App.Domain.Access.Authenticate(context.Background(), two.AdminToken)
	if err != nil || c.OrgID != model.DefaultOrgID {
		t.Fatalf("the first start's token on the second: %+v, %v", c, err)
	}
}

// devCert writes a certificate for localhost and the loopback addresses,
// its key, and returns a pool trusting its CA: the registrar's development ones.
func devCert(t *testing.T) (pool *x509.CertPool, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := registrar.LoadOrCreateDevCert(dir, nil); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, registrar.DevCAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("%s holds no certificate", registrar.DevCAFile)
	}
	return pool, filepath.Join(dir, registrar.DevCertFile), filepath.Join(dir, registrar.DevKeyFile)
}
