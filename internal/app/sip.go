package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"slices"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/sip/kamailio"
	"github.com/activator-voip/activator/internal/sip/registrar"
)

// openAccountBackend opens the account backend the configuration names,
// before the domain that keeps it in step: the embedded registrar's,
// which needs only the store, or Kamailio's database.
func (a *App) openAccountBackend(ctx context.Context, c SIPConfig) (activation.AccountBackend, error) {
	switch c.AccountsBackend {
	case "", model.BackendEmbedded:
		return &registrar.Embedded{Store: a.Store}, nil
	case model.BackendKamailio:
		if c.KamailioDB == "" {
			return nil, fmt.Errorf("the kamailio accounts backend needs --kamailio-db")
		}
		k, err := kamailio.Open(ctx, c.KamailioDB)
		if err != nil {
			return nil, err
		}
		a.kamailio = k
		return k, nil
	}
	return nil, fmt.Errorf("--accounts-backend %q: want embedded or kamailio", c.AccountsBackend)
}

// rehashDigests, once the domain exists, makes every organisation's
// accounts' digest hashes agree with its SIP domain as it is at this start
// (activation.Accounts.Rehash): a domain without a sip_domain setting
// follows public_base_url or the listen address, which may have changed
// while the server was stopped, and a re-hash after a change may not have
// finished. Accounts whose hashes are of the current domain are read and
// left alone, so a start with nothing to do costs one pass over the
// accounts table.
func (a *App) rehashDigests(ctx context.Context, log *slog.Logger) error {
	orgs, err := a.Store.Organisations(ctx)
	if err != nil {
		return fmt.Errorf("re-hashing SIP digests: %w", err)
	}
	total := 0
	for _, o := range orgs {
		n, err := a.Domain.Accounts.Rehash(ctx, o.ID)
		total += n
		if err != nil {
			return fmt.Errorf("re-hashing SIP digests: organisation %s: %w", o.Slug, err)
		}
	}
	if total > 0 {
		log.Info("SIP digests re-hashed for the SIP domains", "accounts", total)
	}
	return nil
}

// startSIP, once the domain exists, binds the embedded registrar (served
// by Run) or brings Kamailio's database in step with every account.
func (a *App) startSIP(ctx context.Context, cfg Config, log *slog.Logger) error {
	c := cfg.SIP
	if a.kamailio != nil {
		// Every organisation's accounts, each under its own SIP domain.
		orgs, err := a.Store.Organisations(ctx)
		if err != nil {
			return fmt.Errorf("bringing the %s accounts backend in step: %w", c.AccountsBackend, err)
		}
		total := 0
		for _, o := range orgs {
			n, err := a.Domain.Accounts.SyncBackend(ctx, o.ID)
			total += n
			if err != nil {
				return fmt.Errorf("bringing the %s accounts backend in step: organisation %s: %w", c.AccountsBackend, o.Slug, err)
			}
		}
		log.Debug("accounts backend in step", "backend", c.AccountsBackend, "organisations", len(orgs), "accounts", total)
		return nil
	}
	if c.UDP == "" && c.TCP == "" && c.TLS == "" {
		return nil
	}
	var tlsConf *tls.Config
	if c.TLS != "" {
		var cert tls.Certificate
		var err error
		switch {
		case c.Cert != "" || c.Key != "":
			if c.Cert == "" || c.Key == "" {
				return fmt.Errorf("SIP over TLS needs both a certificate and a key (--sip-cert, --sip-key)")
			}
			if cert, err = tls.LoadX509KeyPair(c.Cert, c.Key); err != nil {
				return fmt.Errorf("loading the SIP certificate: %w", err)
			}
		default:
			// The HTTPS certificate is used when it names the default
			// organisation's SIP host or domain; else the development
			// certificate, which names every organisation's, as they
			// are at start (docs/configuration.md).
			st, err := a.Domain.Settings.Current(ctx, model.DefaultOrgID)
			if err != nil {
				return err
			}
			// The HTTPS certificate, when it is for the host SIP clients reach.
			if a.cert != nil {
				for _, h := range []string{st.SIPHost, st.SIPDomain} {
					if tlsConf = a.cert.covers(h); tlsConf != nil {
						log.Info("SIP over TLS uses the HTTPS certificate", "host", h)
						break
					}
				}
				if tlsConf != nil {
					break
				}
			}
			hosts, err := a.sipHosts(ctx)
			if err != nil {
				return err
			}
			if cert, err = registrar.LoadOrCreateDevCert(cfg.DataDir, hosts); err != nil {
				return err
			}
			log.Info("SIP over TLS uses the development certificate; clients must trust its CA", "ca", cfg.DataDir+"/"+registrar.DevCAFile)
		}
		if tlsConf == nil {
			tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
	}
	var algs []string
	if c.Digest != "" {
		var err error
		if algs, err = registrar.ParseAlgorithms(c.Digest); err != nil {
			return fmt.Errorf("--sip-digest: %w", err)
		}
	}
	srv, err := registrar.New(registrar.Config{UDP: c.UDP, TCP: c.TCP, TLS: c.TLS, TLSConfig: tlsConf, Algorithms: algs, Store: a.Store, Settings: a.Domain.Settings,
		Logger: log.With("component", "sip"), BanFailures: c.BanFailures, BanWindow: c.BanWindow, BanTime: c.BanTime})
	if err != nil {
		return err
	}
	a.SIP = srv
	// No start-up pass: the registrar reads accounts on every request,
	// and routing skips accounts that may not register.
	return nil
}

// sipHosts lists every organisation's SIP host and domain, for the
// development certificate to name.
func (a *App) sipHosts(ctx context.Context) ([]string, error) {
	orgs, err := a.Store.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, o := range orgs {
		st, err := a.Domain.Settings.Current(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, h := range []string{st.SIPHost, st.SIPDomain} {
			if !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
	}
	return hosts, nil
}
