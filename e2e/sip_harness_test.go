package e2e_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needTools skips (or, under CI=true, fails) a test whose real programs are missing.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (CI installs it in .ci/run)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}

// testPKI is a throwaway CA and a certificate it signs for localhost.
type testPKI struct {
	caPath, certPath, keyPath string
	pool                      *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	// An RSA leaf: baresip 1.0.0 sets up no TLS transport with an EC key.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	leafT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leafT, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	p := &testPKI{caPath: filepath.Join(dir, "ca.pem"), certPath: filepath.Join(dir, "cert.pem"), keyPath: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	write := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(p.caPath, "CERTIFICATE", caDER)
	write(p.certPath, "CERTIFICATE", der)
	write(p.keyPath, "PRIVATE KEY", kb)
	p.pool.AddCert(ca)
	return p
}

// setUp points the settings at the server, and the SIP port settings at
// the ports its registrar bound (when it runs), and makes a group.
func (s *server) setUp(t *testing.T, c *cli) {
	t.Helper()
	c.ok(t, "settings", "set", "public_base_url", s.url)
	c.ok(t, "settings", "set", "sip_domain", "localhost")
	for k, p := range map[string]int{"sip_udp_port": s.udpPort, "sip_tcp_port": s.tcpPort, "sip_tls_port": s.tlsPort} {
		if p != 0 {
			c.ok(t, "settings", "set", k, strconv.Itoa(p))
		}
	}
	c.ok(t, "group", "create", "staff")
}

// sipAccount is an account of the test and, once activated, its password.
type sipAccount struct {
	username, number, password, link string
}

// newAccount creates an account with a virtual number and sends its link.
func newAccount(t *testing.T, c *cli, name, number string) *sipAccount {
	t.Helper()
	var a struct {
		Username string `json:"username"`
	}
	c.json(t, &a, "account", "create", "--group", "staff", "--name", name, "--email", strings.ToLower(name)+"@example.com", "--virtual-number", number)
	var res struct {
		Message struct {
			ID int64 `json:"id"`
		} `json:"message"`
	}
	c.json(t, &res, "account", "send", a.Username, "--channel", "email")
	var items outboxList
	deadline := time.Now().Add(sendTimeout)
	for {
		c.json(t, &items, "outbox", "list")
		for _, it := range items.Outbox {
			if it.MessageID == res.Message.ID {
				var full struct {
					Body string `json:"body"`
				}
				c.json(t, &full, "outbox", "show", strconv.FormatInt(it.ID, 10))
				m := linkRE.FindString(full.Body)
				if m == "" {
					t.Fatalf("no link in the message to %s:\n%s", name, full.Body)
				}
				return &sipAccount{username: a.Username, number: number, link: m}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message to %s never reached the outbox", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// activate redeems the account's link with the reference client and reads
// the password from the configuration it wrote.
func (a *sipAccount) activate(t *testing.T, c *cli) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "phone")
	c.ok(t, "device", "activate", a.link, "--dir", dir)
	var cfg struct {
		Account struct {
			Password string `json:"password"`
		} `json:"account"`
	}
	readJSONFile(t, filepath.Join(dir, "config.json"), &cfg)
	a.password = cfg.Account.Password
	if a.password == "" {
		t.Fatal("the configuration holds no password")
	}
	return dir
}

// sippRegister runs sipp's REGISTER-with-digest scenario over UDP and
// returns its exit status: 0 registered, 1 refused.
func sippRegister(t *testing.T, target, domain, user, password string) int {
	t.Helper()
	dir := t.TempDir()
	// The scenario (REGISTER, its 401, the answer with digest, its 200) is
	// shared with bench/sip-register.sh.
	scenario, err := os.ReadFile(filepath.Join("testdata", "sipp-register.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "reg.xml"), scenario, 0o644); err != nil {
		t.Fatal(err)
	}
	csv := fmt.Sprintf("SEQUENTIAL\n%s;%s;[authentication username=%s password=%s]\n", user, domain, user, password)
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// No -p: sipp binds its own port (the first free one from 5060, else one
	// the system picks), so no other process can take it in between;
	// -bind_local keeps it on loopback.
	cmd := exec.CommandContext(ctx, "sipp", target, "-sf", "reg.xml", "-inf", "users.csv", "-i", "127.0.0.1", "-bind_local",
		"-m", "1", "-nostdin", "-timeout", "10s", "-default_behaviors", "all,-bye")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatalf("sipp: %v", err)
	}
	return 0
}
