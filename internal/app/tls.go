package app

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/activator-voip/activator/internal/provisioning"
)

// ACMEConfig obtains the HTTPS certificate from an ACME CA (Let's Encrypt
// unless Directory names another) for Hosts, with the TLS-ALPN-01
// challenge on the HTTPS listener itself: the CA must reach Listen on
// port 443 of each host.
type ACMEConfig struct {
	Hosts     []string // the names the certificate is for; empty: no ACME
	Email     string   // the account's contact, for the CA's expiry notices; optional
	Directory string   // the CA's directory URL; empty: Let's Encrypt's
	// DirectoryCA is a PEM file of the roots that sign the directory's own
	// HTTPS certificate, for a private CA; empty: the system's roots.
	DirectoryCA string
}

// serverCert is the HTTPS certificate, from files or from ACME, and what
// the rest of activator needs of it.
type serverCert struct {
	conf *tls.Config
	pin  string // put in activation files: the pin of a file certificate's key; none for ACME (publicly trusted, new key at renewal)
	// covers returns a TLS configuration serving this certificate for host
	// (the SIP over TLS listener's, when its host matches), or nil.
	covers func(host string) *tls.Config
}

// loadServerCert reads the certificate cfg names: --tls-cert and --tls-key,
// or ACME. It returns nil when HTTPS is off.
func loadServerCert(cfg Config, log *slog.Logger) (*serverCert, error) {
	files := cfg.TLSCert != "" || cfg.TLSKey != ""
	switch {
	case files && len(cfg.ACME.Hosts) > 0:
		return nil, errors.New("give either a certificate and key (--tls-cert, --tls-key) or ACME hosts (--acme-host), not both")
	case files:
		return fileCert(cfg.TLSCert, cfg.TLSKey)
	case len(cfg.ACME.Hosts) > 0:
		return acmeCert(cfg.ACME, cfg.DataDir, log)
	}
	return nil, nil
}

func fileCert(certFile, keyFile string) (*serverCert, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("TLS needs both a certificate and a key (--tls-cert, --tls-key)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("reading the TLS certificate: %w", err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return &serverCert{conf: conf, pin: provisioning.TLSPin(leaf), covers: func(host string) *tls.Config {
		if host == "" || leaf.VerifyHostname(host) != nil {
			return nil
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}}, nil
}

// acmeDir is the folder of the data folder where autocert keeps the ACME
// account key and the certificates (mode 0700, files 0600).
const acmeDir = "acme"

func acmeCert(c ACMEConfig, dataDir string, log *slog.Logger) (*serverCert, error) {
	hosts := make([]string, 0, len(c.Hosts))
	for _, h := range c.Hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || strings.ContainsAny(h, ":/ ") {
			return nil, fmt.Errorf("--acme-host %q: want a host name, without port or scheme", h)
		}
		hosts = append(hosts, h)
	}
	client := &acme.Client{DirectoryURL: c.Directory}
	if c.Directory == "" {
		client.DirectoryURL = autocert.DefaultACMEDirectory
	}
	if c.DirectoryCA != "" {
		pem, err := os.ReadFile(c.DirectoryCA)
		if err != nil {
			return nil, fmt.Errorf("--acme-directory-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-directory-ca %s: no PEM certificate in it", c.DirectoryCA)
		}
		client.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Proxy: http.ProxyFromEnvironment}}
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(hosts...),
		Cache:      autocert.DirCache(filepath.Join(dataDir, acmeDir)),
		Email:      c.Email,
		Client:     client,
	}
	log.Info("HTTPS certificates come from ACME (TLS-ALPN-01 on the HTTPS listener)", "hosts", strings.Join(hosts, ","), "directory", client.DirectoryURL)
	conf := m.TLSConfig()
	conf.MinVersion = tls.VersionTLS12
	return &serverCert{conf: conf, covers: func(host string) *tls.Config {
		host = strings.ToLower(host)
		if !slices.Contains(hosts, host) {
			return nil
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName == "" { // SIP clients may send no SNI: they reach the host the settings name
				h := *hello
				h.ServerName = host
				hello = &h
			}
			return m.GetCertificate(hello)
		}}
	}}, nil
}
