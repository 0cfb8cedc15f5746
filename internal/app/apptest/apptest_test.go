package apptest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
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
)

// A server started with a certificate serves HTTPS with it, at the URL
// Start returns, and its registrar listens where SIP says.
func TestStartServesWhatTheOptionsSay(t *testing.T) {
	pool, cert, key := selfSigned(t)
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
	if !secret.WellFormed(one.AdminToken, secret.PrefixAdminToken) {
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

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// a pool that trusts it.
func selfSigned(t *testing.T) (pool *x509.CertPool, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "apptest"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for path, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: kb}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	leaf, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
	return pool, certFile, keyFile
}
