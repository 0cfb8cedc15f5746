package registrar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Development certificate files in the data folder.
const (
	DevCAFile    = "sip-ca.pem"
	DevCAKeyFile = "sip-ca-key.pem"
	DevCertFile  = "sip-cert.pem"
	DevKeyFile   = "sip-key.pem"
)

// LoadOrCreateDevCert returns the TLS certificate in dir when it names
// every one of hosts, else makes a certificate for hosts (plus localhost
// and the loopback addresses), signed by the development CA in dir, which
// it makes on first use. Clients trust the CA (dir/sip-ca.pem), which stays
// the same when the certificate is remade for a new set of hosts (every
// organisation's SIP host and domain); production sites give their own
// certificate instead.
func LoadOrCreateDevCert(dir string, hosts []string) (tls.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, DevCertFile), filepath.Join(dir, DevKeyFile)
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil && names(leaf, hosts) {
			return c, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("loading the SIP development certificate: %w", err)
	}
	pemOf := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	now := time.Now()
	ca, caKey, caDER := loadDevCA(dir)
	if ca == nil {
		var err error
		if caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return tls.Certificate{}, err
		}
		caTmpl := &x509.Certificate{
			SerialNumber: serial(), Subject: pkix.Name{CommonName: "activator development SIP CA"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
		if caDER, err = x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey); err != nil {
			return tls.Certificate{}, fmt.Errorf("making the SIP development CA: %w", err)
		}
		ca, _ = x509.ParseCertificate(caDER)
		caKeyDER, err := x509.MarshalPKCS8PrivateKey(caKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, DevCAKeyFile), pemOf("PRIVATE KEY", caKeyDER), 0o600); err != nil {
			return tls.Certificate{}, fmt.Errorf("writing the SIP development CA's key: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, DevCAFile), pemOf("CERTIFICATE", caDER), 0o600); err != nil {
			return tls.Certificate{}, fmt.Errorf("writing the SIP development CA: %w", err)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if h == "" || h == "localhost" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	if len(leaf.DNSNames) > 1 {
		leaf.Subject.CommonName = leaf.DNSNames[1]
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("making the SIP development certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(keyPath, pemOf("PRIVATE KEY", keyDER), 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("writing the SIP development key: %w", err)
	}
	chain := append(pemOf("CERTIFICATE", der), pemOf("CERTIFICATE", caDER)...)
	if err := os.WriteFile(certPath, chain, 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("writing the SIP development certificate: %w", err)
	}
	return tls.LoadX509KeyPair(certPath, keyPath)
}

// names reports whether the certificate is valid for every one of hosts.
func names(leaf *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if h != "" && leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// loadDevCA reads the development CA and its key from dir; nil when
// either is missing or unreadable (an earlier release kept no key: a new
// CA is made then).
func loadDevCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	certPEM, err1 := os.ReadFile(filepath.Join(dir, DevCAFile))
	keyPEM, err2 := os.ReadFile(filepath.Join(dir, DevCAKeyFile))
	if err1 != nil || err2 != nil {
		return nil, nil, nil
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, nil
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	key, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok {
		return nil, nil, nil
	}
	return ca, key, cb.Bytes
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}
