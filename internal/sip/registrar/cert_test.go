package registrar

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

// TestDevCert: the first start makes a CA and a certificate it signs for
// localhost, the loopback address and the SIP host; clients that trust the
// CA file verify it; later starts load the same certificate.
func TestDevCert(t *testing.T) {
	dir := t.TempDir()
	cert, err := LoadOrCreateDevCert(dir, []string{"sip.example.com", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, DevCAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("the CA file holds no certificate")
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "sip.example.com", "127.0.0.1", "192.0.2.7"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("verifying the certificate for %s against the CA: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example.com", Roots: pool}); err == nil {
		t.Error("the certificate verified for a name it was not made for")
	}
	if st, err := os.Stat(filepath.Join(dir, DevKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	again, err := LoadOrCreateDevCert(dir, nil)
	if err != nil || !bytes.Equal(again.Certificate[0], cert.Certificate[0]) {
		t.Fatalf("second start: want the same certificate loaded, got err %v", err)
	}
}

// TestDevCertNamesEveryOrganisation: a start with a host the certificate
// does not name (a new organisation's SIP host) remakes the certificate
// for every host given, signed by the same CA, so clients that trust the
// CA file keep trusting it; a start with the same hosts keeps it.
func TestDevCertNamesEveryOrganisation(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreateDevCert(dir, []string{"sip.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, DevCAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hosts := []string{"sip.example.com", "sip.a.example", "a.example", "b.example"}
	second, err := LoadOrCreateDevCert(dir, hosts)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first.Certificate[0], second.Certificate[0]) {
		t.Fatal("the certificate was not remade for the new hosts")
	}
	leaf, err := x509.ParseCertificate(second.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(hosts, "localhost") {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("verifying the remade certificate for %s against the first start's CA: %v", name, err)
		}
	}
	if again, err := LoadOrCreateDevCert(dir, hosts[1:]); err != nil || !bytes.Equal(again.Certificate[0], second.Certificate[0]) {
		t.Fatalf("a start naming hosts the certificate has: want it kept, got err %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, DevCAKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("CA key file: %v; want mode 0600", err)
	}
}
