package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
)

// testCA is a throwaway CA that signs certificates for the tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	pem  string // the CA certificate's file
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tls test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, pool: x509.NewCertPool(), pem: filepath.Join(t.TempDir(), "ca.pem")}
	ca.pool.AddCert(cert)
	writePEM(t, ca.pem, "CERTIFICATE", der)
	return ca
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// leaf issues a server certificate for names (host names or IP addresses)
// and returns its files and the certificate.
func (ca *testCA) leaf(t *testing.T, names ...string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", kb)
	cert, _ = x509.ParseCertificate(der)
	return certFile, keyFile, cert
}

// handshake connects to addr over TLS as a client trusting roots would,
// asking for serverName, and returns the certificate the server showed.
func handshake(t *testing.T, addr, serverName string, roots *x509.CertPool) (*x509.Certificate, error) {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// With --tls-cert and --tls-key, HTTPS serves that certificate, and so
// does SIP over TLS when it is for the host SIP clients reach (here the
// listen address, the default sip_host); a certificate for another host
// leaves SIP over TLS on its development certificate.
func TestCertificateFilesServeHTTPSAndSIP(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile, leaf := ca.leaf(t, "localhost", "127.0.0.1")
	s := apptest.Start(t, apptest.Options{TLSCert: certFile, TLSKey: keyFile, SIP: app.SIPConfig{TLS: "127.0.0.1:0"}})
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("the server is at %s, want https", s.URL)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}
	resp, err := hc.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS with the CA of --tls-cert: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || !resp.TLS.PeerCertificates[0].Equal(leaf) {
		t.Fatalf("HTTPS answered %d with another certificate", resp.StatusCode)
	}
	sipAddr := s.App.Listening().SIPTLS
	got, err := handshake(t, sipAddr, "localhost", ca.pool)
	if err != nil {
		t.Fatalf("SIP over TLS with the CA of --tls-cert: %v", err)
	}
	if !got.Equal(leaf) {
		t.Errorf("SIP over TLS shows %q, want the HTTPS certificate", got.Subject.CommonName)
	}

	otherCert, otherKey, other := ca.leaf(t, "other.example")
	s2 := apptest.Start(t, apptest.Options{TLSCert: otherCert, TLSKey: otherKey, SIP: app.SIPConfig{TLS: "127.0.0.1:0"}})
	conn, err := tls.Dial("tcp", s2.App.Listening().SIPTLS, &tls.Config{InsecureSkipVerify: true}) // only to see which certificate it shows
	if err != nil {
		t.Fatal(err)
	}
	shown := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if shown.Equal(other) || shown.Issuer.CommonName != "activator development SIP CA" {
		t.Errorf("SIP over TLS with an HTTPS certificate for another host shows %q issued by %q, want the development certificate",
			shown.Subject.CommonName, shown.Issuer.CommonName)
	}
}

// pebbleBinary finds Pebble, the ACME test server: .ci/bin/pebble as .ci/run
// installs it, else on PATH. Outside CI a missing Pebble skips the test.
func pebbleBinary(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs(filepath.Join("..", "..", ".ci", "bin", "pebble")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("pebble"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("pebble is not installed (.ci/run installs it in .ci/bin)")
	}
	t.Skip("pebble is not installed: go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3")
	return ""
}

// freePort returns a loopback TCP port no one listens on at the moment.
// Pebble must be told the port it validates TLS-ALPN-01 on before
// activator binds it, so the port cannot be one the system picks at bind.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// acmeHost is the name the ACME test gets a certificate for: autocert
// wants a name with a dot, and loopbackDNS resolves it for Pebble.
const acmeHost = "activator.test"

// loopbackDNS answers every A query with 127.0.0.1 and every other query
// with no record, over TCP (as Pebble asks) and UDP on one loopback port,
// until the test ends; it returns its address, for Pebble's -dnsserver.
func loopbackDNS(t *testing.T) string {
	t.Helper()
	var (
		ln  net.Listener
		pc  net.PacketConn
		err error
	)
	for try := 0; try < 20; try++ {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if pc, err = net.ListenPacket("udp", ln.Addr().String()); err == nil {
			break
		}
		ln.Close() // the UDP port of the same number is taken: another try
	}
	if err != nil {
		t.Fatalf("no loopback port free for both TCP and UDP: %v", err)
	}
	t.Cleanup(func() { ln.Close(); pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed at the test's end
			}
			if out := dnsAnswer(buf[:n]); out != nil {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed at the test's end
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				for {
					var size [2]byte
					if _, err := io.ReadFull(c, size[:]); err != nil {
						return
					}
					msg := make([]byte, int(size[0])<<8|int(size[1]))
					if _, err := io.ReadFull(c, msg); err != nil {
						return
					}
					out := dnsAnswer(msg)
					if out == nil {
						return
					}
					if _, err := c.Write(append([]byte{byte(len(out) >> 8), byte(len(out))}, out...)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dnsAnswer answers one DNS query: 127.0.0.1 for A, nothing for the rest.
func dnsAnswer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired})
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	if q.Type == dnsmessage.TypeA {
		_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}

// TestACMECertificateFromPebble runs Pebble, a real ACME server, on
// loopback, and starts activator with --acme-host activator.test against it:
// the first HTTPS handshake makes activator order a certificate, answer
// Pebble's TLS-ALPN-01 challenge on its own listener, and serve the
// certificate Pebble issued, which verifies with Pebble's root; SIP over
// TLS, whose host is activator.test, serves it too.
func TestACMECertificateFromPebble(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Pebble runs here on Linux only")
	}
	bin := pebbleBinary(t)
	ca := newTestCA(t)
	dir := t.TempDir()
	pebbleCert, pebbleKey, _ := ca.leaf(t, "localhost", "127.0.0.1")
	acmePort, mgmtPort, httpsPort := freePort(t), freePort(t), freePort(t)
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress": fmt.Sprintf("127.0.0.1:%d", acmePort), "managementListenAddress": fmt.Sprintf("127.0.0.1:%d", mgmtPort),
		"certificate": pebbleCert, "privateKey": pebbleKey,
		"httpPort": freePort(t), "tlsPort": httpsPort, // TLS-ALPN-01 is validated on activator's HTTPS port
		"ocspResponderURL": "", "externalAccountBindingRequired": false,
	}}
	b, _ := json.Marshal(conf)
	confPath := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(confPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", confPath, "-strict", "-dnsserver", loopbackDNS(t))
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	logPath := filepath.Join(dir, "pebble.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("pebble's log:\n%s", b)
		}
	})
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}
	directory := fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := hc.Get(directory)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble does not answer at %s: %v", directory, err)
		}
	}

	// SIP clients reach acmeHost: set before the start that reads it.
	data := t.TempDir()
	first := apptest.Start(t, apptest.Options{DataDir: data})
	if _, err := first.App.Domain.Settings.Set(context.Background(), "sip_host", acmeHost, admin); err != nil {
		t.Fatal(err)
	}
	first.Stop()
	s := apptest.Start(t, apptest.Options{DataDir: data, Listen: fmt.Sprintf("127.0.0.1:%d", httpsPort), SIP: app.SIPConfig{TLS: "127.0.0.1:0"},
		ACME: app.ACMEConfig{Hosts: []string{acmeHost}, Directory: directory, DirectoryCA: ca.pem}})
	// Pebble's root, made at its start, signs what it issues.
	resp, err := hc.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmtPort))
	if err != nil {
		t.Fatal(err)
	}
	root, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root is not PEM: %q", root)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", httpsPort)
	got, err := handshake(t, addr, acmeHost, roots)
	if err != nil {
		t.Fatalf("HTTPS with the certificate from ACME: %v", err)
	}
	if err := got.VerifyHostname(acmeHost); err != nil {
		t.Errorf("the ACME certificate: %v", err)
	}
	ac := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: acmeHost}}}
	if resp, err := ac.Get("https://" + addr + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz over the ACME certificate: %v", err)
	} else {
		resp.Body.Close()
	}
	if _, err := handshake(t, addr, "other.example", roots); err == nil {
		t.Error("the server got a certificate for a host --acme-host does not name")
	}
	sip, err := handshake(t, s.App.Listening().SIPTLS, acmeHost, roots)
	if err != nil || !sip.Equal(got) {
		t.Errorf("SIP over TLS does not show the ACME certificate: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(s.DataDir, "acme")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the ACME cache folder: %v %v", fi, err)
	}
}
