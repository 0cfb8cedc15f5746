// Package app wires activator together from a Config: store, secrets,
// domain, delivery worker and HTTP server. The serve command and the tests
// build the same thing the same way.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/outbox"
	"github.com/activator-voip/activator/internal/metrics"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/sip/kamailio"
	"github.com/activator-voip/activator/internal/sip/registrar"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/web"
	"github.com/activator-voip/activator/internal/web/requestid"
)

// Config is everything `activator serve` can be told.
type Config struct {
	DataDir       string // SQLite file, secret key and admin token live here
	Listen        string // host:port of the HTTP server
	Database      string // PostgreSQL URL; empty: SQLite in DataDir
	TLSCert       string // PEM certificate (chain) file; with TLSKey, serve HTTPS
	TLSKey        string
	ACME          ACMEConfig // instead of TLSCert and TLSKey: a certificate from an ACME CA (tls.go)
	SecretKeyFile string     // 64 hex digits; empty: DataDir/secret.key, created on first start
	MaxAttempts   int        // tries per message before it fails
	Version       string
	SIP           SIPConfig
	// DeliveryLease is how long a claimed message stays this instance's
	// without news from it; the lease is renewed while the message is
	// being sent, so it bounds how long a dead instance's messages wait for
	// another, not how long a send may take. Zero: 20 seconds.
	DeliveryLease time.Duration
	// DeliveryGrace is how long a stop lets the messages being sent finish
	// before it cuts their sends short and hands them back to the queue.
	// Zero: 10 seconds; negative: no wait.
	DeliveryGrace time.Duration
	// InstanceID names this instance in the delivery queue's claims: the
	// same across its restarts, different from every other running
	// instance. Empty: the host name and a random id kept in DataDir.
	InstanceID string
	// ReadyFile, when set, is where Run writes the bound addresses
	// (Listening, as JSON) before it serves, so a script or a test can start
	// the server on port 0 and learn its ports. Removed when Run returns.
	ReadyFile string
	// MetricsListen is the host:port of the operations listener: /metrics,
	// /healthz and /readyz, apart from the main listener, which faces
	// everyone a link is sent to (docs/operations.md). Empty: no
	// metrics listener.
	MetricsListen string
	// Limits are the per-address rate limits of the routes anyone may
	// call and the proxies whose X-Forwarded-For is believed. Zero: no
	// limits (serve's flags have the defaults, ratelimit.DefaultPublic and
	// ratelimit.DefaultLogin).
	Limits web.Limits
	// ImportConfirmWait is how long confirming an import through the API
	// waits for it before answering 202 (web.Ops.ConfirmWait); zero: ten
	// seconds.
	ImportConfirmWait time.Duration
}

// deliveryConfig tunes the delivery worker.
func deliveryConfig(lease, grace time.Duration) (messaging.WorkerConfig, error) {
	if lease != 0 && lease < 2*time.Second {
		return messaging.WorkerConfig{}, fmt.Errorf("delivery lease %v: want at least 2s", lease)
	}
	return messaging.WorkerConfig{Lease: lease, Grace: grace}, nil
}

// SIPConfig is the SIP side of serve: the embedded registrar's listeners,
// or the Kamailio database activator keeps in step.
type SIPConfig struct {
	UDP, TCP, TLS   string // listen addresses of the embedded registrar; empty: that transport off
	Cert, Key       string // PEM files for SIP over TLS; empty: a development CA and certificate in DataDir
	AccountsBackend string // embedded (default) | kamailio
	KamailioDB      string // kamailio: postgres:// URL or SQLite path of Kamailio's database
	Digest          string // digest algorithms challenged with, comma-separated, preferred first; empty: MD5
	// Bans of addresses that keep failing digest authentication (registrar.Config):
	// zero values are the defaults; BanFailures < 0 never bans.
	BanFailures        int
	BanWindow, BanTime time.Duration
}

// App is a running activator.
type App struct {
	Store    *store.Store
	Domain   activation.Domain
	Worker   *messaging.Worker
	Web      *web.Server
	SIP      *registrar.Server // the embedded registrar; nil with the kamailio backend or no SIP listener
	kamailio *kamailio.Backend
	Metrics  *metrics.Metrics
	URL      string // where it listens, as links are built until public_base_url is set
	listener net.Listener
	https    *http.Server
	ops      *http.Server // the metrics listener's; nil without one
	opsLn    net.Listener
	tls      bool
	cert     *serverCert // the HTTPS certificate; nil without HTTPS
	ready    string      // Config.ReadyFile
	log      *slog.Logger
	instance string // this instance's name in the delivery queue's and import jobs' claims
}

// New opens everything cfg names and binds the listener; Run serves.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	// Every line logged with a request's context names the request (requestid).
	log = slog.New(requestid.LogHandler(log.Handler()))
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if err := privateDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	keyFile := cfg.SecretKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(cfg.DataDir, "secret.key")
	}
	key, created, err := secret.LoadOrCreateKey(keyFile)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the secret key; keep a copy, and give every instance the same one", "path", keyFile)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		return nil, err
	}
	dsn := cfg.Database
	if dsn == "" {
		dsn = filepath.Join(cfg.DataDir, "activator.db")
	}
	st, err := store.Open(ctx, dsn, store.WithLog(log.With("component", "store")))
	if err != nil {
		return nil, err
	}
	a := &App{Store: st, ready: cfg.ReadyFile, log: log}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	log.Info("database ready", "engine", st.Dialect(), "schema_version", store.SchemaVersion(st.Dialect()))
	boot, err := activation.Bootstrap(ctx, st, box, cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	if boot.AdminTokenPath != "" {
		log.Info("created an admin API token; use it with ACTIVATOR_TOKEN_FILE or --token", "path", boot.AdminTokenPath)
	}
	if err := activation.SealClearTexts(ctx, st, box, log); err != nil {
		return nil, err
	}

	var tlsConf *tls.Config
	pin := ""
	if a.cert, err = loadServerCert(cfg, log); err != nil {
		return nil, err
	}
	if a.cert != nil {
		tlsConf, pin = a.cert.conf, a.cert.pin
	}
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", listen, err)
	}
	a.listener = ln
	a.URL = listenURL(ln.Addr().(*net.TCPAddr), tlsConf != nil)

	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	tmpl, err := messaging.NewTemplates(cat)
	if err != nil {
		return nil, err
	}
	wcfg, err := deliveryConfig(cfg.DeliveryLease, cfg.DeliveryGrace)
	if err != nil {
		return nil, err
	}
	if wcfg.Instance, err = instanceID(cfg.InstanceID, cfg.DataDir); err != nil {
		return nil, err
	}
	a.instance = wcfg.Instance
	// The domain rings when it queues a message and the worker listens; the
	// bell exists first because the worker's gateways need the domain.
	wcfg.Doorbell = messaging.NewDoorbell()
	wcfg.Secrets = box
	// The domain keeps the account backend in step, so the backend comes
	// first; the embedded registrar, which reads the domain's settings, after.
	backend, err := a.openAccountBackend(ctx, cfg.SIP)
	if err != nil {
		return nil, err
	}
	a.Domain = activation.NewDomain(activation.DomainConfig{
		Store: st, Box: box, SigningKey: boot.SigningKey, KeyChain: boot.KeyChain, Templates: tmpl, GatewayKinds: gatewayKinds(),
		ListenURL: a.URL, TLSPin: pin, MaxAttempts: cfg.MaxAttempts, OnEnqueue: wcfg.Doorbell.Ring, Backend: backend, Logger: log,
		ExportDir: filepath.Join(cfg.DataDir, "exports"),
	})
	if e, ok := backend.(*registrar.Embedded); ok {
		e.Settings = a.Domain.Settings // made with the domain, after the backend
	}
	if err := a.Domain.Exports.FailLeftRunning(ctx); err != nil {
		return nil, err
	}
	// A large installation's silent slow-down, said at start: a virtual
	// number range nearly full (logged by the check itself). Every
	// organisation draws from a range of its own.
	if orgs, err := st.Organisations(ctx); err != nil {
		log.Warn("checking the virtual number ranges", "err", err)
	} else {
		for _, o := range orgs {
			if _, err := a.Domain.Accounts.NumberRangeUse(ctx, activation.Caller{OrgID: o.ID}); err != nil {
				log.Warn("checking the virtual number range", "organisation", o.Slug, "err", err)
			}
		}
	}
	// The outbox is built in; the gateways configured in the database
	// (activator gateway add) are built on first use and rebuilt when they change.
	gateways := messaging.NewRegistry(a.Domain.Gateways.NewLoader(messaging.Options{
		HTTPClient: messaging.NewHTTPClient(max(wcfg.Concurrency, messaging.DefaultConcurrency)),
	}).Load, outbox.New(st, box))
	a.Worker = messaging.NewWorker(st, gateways, wcfg, log.With("component", "delivery"))
	if err := a.rehashDigests(ctx, log); err != nil {
		return nil, err
	}
	if err := a.startSIP(ctx, cfg, log); err != nil {
		return nil, err
	}
	src := metrics.Sources{Store: st, Worker: a.Worker, Devices: a.Domain.Devices, Version: cfg.Version, Logger: log.With("component", "metrics")}
	if a.SIP != nil {
		src.SIP = a.SIP
	}
	a.Metrics = metrics.New(src)
	ready := &readiness{store: st, log: log.With("component", "readiness")}
	a.Web, err = web.New(a.Domain, cat, log.With("component", "http"), cfg.Version, cfg.Limits,
		web.Ops{Ready: ready.check, Observe: a.Metrics.ObserveRequest, ConfirmWait: cfg.ImportConfirmWait})
	if err != nil {
		return nil, err
	}
	a.https = &http.Server{
		Handler: requestid.Middleware(a.Web), TLSConfig: tlsConf,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, // not the 1 MiB default: nobody is known yet when headers are read
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	a.tls = tlsConf != nil
	if cfg.MetricsListen != "" {
		if err := a.listenOps(cfg.MetricsListen, ready.check, log); err != nil {
			return nil, err
		}
	}
	ok = true
	return a, nil
}

// listenURL is the base URL of links until public_base_url is set.
func listenURL(addr *net.TCPAddr, https bool) string {
	host := addr.IP.String()
	switch {
	case addr.IP.IsUnspecified():
		host = "localhost"
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s:%d", scheme, host, addr.Port)
}

// Run serves until ctx ends, then drains: in-flight requests finish and the
// worker records the sends it has under way.
func (a *App) Run(ctx context.Context) error {
	if a.ready != "" {
		if err := writeReadyFile(a.ready, a.Listening()); err != nil {
			return err
		}
		defer os.Remove(a.ready)
	}
	var wg sync.WaitGroup
	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Worker.Run(wctx)
	}()
	wg.Add(1)
	go func() { // imports' bulk sends: jobs any instance takes up
		defer wg.Done()
		a.Domain.Imports.RunJobs(wctx, a.instance)
	}()
	if a.SIP != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.SIP.Run(wctx)
		}()
	}
	errc := make(chan error, 2)
	if a.ops != nil {
		go func() { errc <- a.ops.Serve(a.opsLn) }()
	}
	go func() {
		var err error
		if a.tls {
			err = a.https.ServeTLS(a.listener, "", "")
		} else {
			err = a.https.Serve(a.listener)
		}
		errc <- err
	}()
	a.log.Info("activator is serving", "url", a.URL)
	if a.opsLn != nil {
		a.log.Info("serving metrics", "url", "http://"+a.opsLn.Addr().String()+"/metrics")
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := a.https.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	if a.ops != nil {
		a.ops.Shutdown(sctx) // scrapes end with the rest
	}
	stopWorker()
	a.Domain.Exports.Close() // a running export job stops, marked failed
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	a.log.Info("activator stopped")
	return err
}

// Close releases the listener and the database.
func (a *App) Close() {
	if a.listener != nil {
		a.listener.Close()
	}
	if a.opsLn != nil {
		a.opsLn.Close()
	}
	if a.SIP != nil {
		a.SIP.Close()
	}
	if a.kamailio != nil {
		a.kamailio.Close()
	}
	if a.Domain.Exports != nil {
		a.Domain.Exports.Close() // before the database: a job writes its end
	}
	if a.Store != nil {
		a.Store.Close()
	}
}
