package cli

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/web/ratelimit"
)

// serveFlag is one flag of `activator serve` with its environment variable.
type serveFlag struct {
	name, env, def, help string
	target               *string
}

func newServeCmd(a *globals) *cobra.Command {
	var (
		cfg                                            app.Config
		maxAttempts, lease, grace, logLevel, logFormat string
		banFailures, banWindow, banTime                string
		limitPublic, limitLogin, proxies               string
		acmeHosts                                      string
		configPath                                     string
	)
	flags := []serveFlag{
		{"data", "ACTIVATOR_DATA", "data", "data folder: the SQLite database, the secret key, the first admin token and this instance's id (instance.id)", &cfg.DataDir},
		{"listen", "ACTIVATOR_LISTEN", "127.0.0.1:8080", "address the HTTP server listens on", &cfg.Listen},
		{"database", "ACTIVATOR_DATABASE", "", "PostgreSQL URL (postgres://user@host/db) instead of the embedded SQLite", &cfg.Database},
		{"tls-cert", "ACTIVATOR_TLS_CERT", "", "PEM certificate file; with --tls-key, serve HTTPS and pin this key in activation files", &cfg.TLSCert},
		{"tls-key", "ACTIVATOR_TLS_KEY", "", "PEM private key file of --tls-cert", &cfg.TLSKey},
		{"acme-host", "ACTIVATOR_ACME_HOST", "", "instead of --tls-cert: get the HTTPS certificate by ACME for these host names, comma-separated (the public_base_url's host); the CA must reach --listen on port 443 (TLS-ALPN-01)", &acmeHosts},
		{"acme-email", "ACTIVATOR_ACME_EMAIL", "", "with --acme-host: the contact address the CA sends expiry notices to", &cfg.ACME.Email},
		{"acme-directory", "ACTIVATOR_ACME_DIRECTORY", "", "with --acme-host: the ACME CA's directory URL (default Let's Encrypt's)", &cfg.ACME.Directory},
		{"acme-directory-ca", "ACTIVATOR_ACME_DIRECTORY_CA", "", "with --acme-host: PEM file of the roots of a private ACME CA's own HTTPS certificate", &cfg.ACME.DirectoryCA},
		{"secret-key-file", "ACTIVATOR_SECRET_KEY_FILE", "", "file with the 64-hex-digit key that encrypts secrets at rest (default <data>/secret.key, created on first start)", &cfg.SecretKeyFile},
		{"max-attempts", "ACTIVATOR_MAX_ATTEMPTS", "8", "tries per message before it is marked failed", &maxAttempts},
		{"delivery-lease", "ACTIVATOR_DELIVERY_LEASE", "20s", "how long a message being sent stays claimed by this instance without a renewal (renewed every third of it while the send runs): a dead instance's messages return to the queue after it (at least 2s)", &lease},
		{"delivery-grace", "ACTIVATOR_DELIVERY_GRACE", "10s", "on stop (SIGTERM), how long the messages being sent may take to finish before their sends are cut short and they go back to the queue; 0 to hand them back at once", &grace},
		{"instance-id", "ACTIVATOR_INSTANCE_ID", "", "this instance's name in the delivery queue: the same across its restarts, different from every other instance sharing the database (default: the host name and a random id kept in <data>/instance.id)", &cfg.InstanceID},
		{"log-level", "ACTIVATOR_LOG_LEVEL", "info", "log level: debug, info, warn or error", &logLevel},
		{"log-format", "ACTIVATOR_LOG_FORMAT", "text", "log format: text or json", &logFormat},
		{"metrics-listen", "ACTIVATOR_METRICS_LISTEN", "", "address of the operations listener serving Prometheus metrics (/metrics) beside /healthz and /readyz, such as 127.0.0.1:9464; keep it off the public network (default: no metrics listener)", &cfg.MetricsListen},
		{"ready-file", "ACTIVATOR_READY_FILE", "", "once the HTTP and SIP listeners are bound, write their addresses to this file as JSON (removed at stop): the ports the system chose for port 0 in --listen or --sip-*", &cfg.ReadyFile},
		// SIP (docs/configuration.md, docs/kamailio.md)
		{"sip-udp", "ACTIVATOR_SIP_UDP", "127.0.0.1:5060", "address the embedded SIP registrar listens on over UDP; off to disable", &cfg.SIP.UDP},
		{"sip-tcp", "ACTIVATOR_SIP_TCP", "127.0.0.1:5060", "address the embedded SIP registrar listens on over TCP; off to disable", &cfg.SIP.TCP},
		{"sip-tls", "ACTIVATOR_SIP_TLS", "127.0.0.1:5061", "address the embedded SIP registrar listens on over TLS; off to disable", &cfg.SIP.TLS},
		{"sip-cert", "ACTIVATOR_SIP_CERT", "", "PEM certificate (chain) for SIP over TLS (default: the HTTPS certificate when it is for the sip_host setting, else a development CA and certificate made in the data folder)", &cfg.SIP.Cert},
		{"sip-key", "ACTIVATOR_SIP_KEY", "", "PEM private key of --sip-cert", &cfg.SIP.Key},
		{"sip-digest", "ACTIVATOR_SIP_DIGEST", "MD5", "digest algorithms the registrar challenges with, preferred first: MD5, SHA-256 or both (SHA-256,MD5)", &cfg.SIP.Digest},
		{"sip-ban-failures", "ACTIVATOR_SIP_BAN_FAILURES", "5", "failed SIP digest answers from one address (an IPv6 /64) within --sip-ban-window that ban it; 0 never bans", &banFailures},
		{"sip-ban-window", "ACTIVATOR_SIP_BAN_WINDOW", "10m", "time within which --sip-ban-failures failures ban an address", &banWindow},
		{"sip-ban-time", "ACTIVATOR_SIP_BAN_TIME", "10m", "how long a banned address gets no SIP answer at all", &banTime},
		{"accounts-backend", "ACTIVATOR_ACCOUNTS_BACKEND", "embedded", "where SIP accounts live: embedded (activator's registrar) or kamailio", &cfg.SIP.AccountsBackend},
		{"kamailio-db", "ACTIVATOR_KAMAILIO_DB", "", "with --accounts-backend kamailio: Kamailio's database (postgres:// URL or SQLite file path)", &cfg.SIP.KamailioDB},
		// Limits per source address (docs/configuration.md, "Limits")
		{"rate-limit-public", "ACTIVATOR_RATE_LIMIT_PUBLIC", ratelimit.DefaultPublic.String(), "requests one address may make to the routes anyone may call (link pages and files, the device API, Linphone URLs, the console's login page), such as 300/m or 5/s; 0 for no limit", &limitPublic},
		{"rate-limit-login", "ACTIVATOR_RATE_LIMIT_LOGIN", ratelimit.DefaultLogin.String(), "console logins and set-password posts, and API requests with a token that does not authenticate, one address may make, such as 20/m; 0 for no limit", &limitLogin},
		{"trusted-proxies", "ACTIVATOR_TRUSTED_PROXIES", "", "addresses or CIDR prefixes of the proxies in front of activator, comma-separated, whose X-Forwarded-For names the client (without them the header is ignored)", &proxies},
	}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the activator server",
		Long: `Run the activator server: the admin API, the device API, the pages
secure links open, and the delivery worker.

With no flags it keeps everything in ./data (SQLite) and listens on
http://127.0.0.1:8080; links are built from that address until the
public_base_url setting is set. The first start creates the database, the
default provisioning profile, the signing key, the secret key
(<data>/secret.key) and an admin API token in <data>/admin.token (mode 0600).

Every flag can also be given as an environment variable (in brackets),
or as a key of the TOML file --config names (the flag's name without its
dashes: listen = "0.0.0.0:8443"). A flag given on the command line wins
over its environment variable, which wins over the file.`,
		Example: `  activator serve
  activator serve --data /var/lib/activator --listen :8443 --tls-cert cert.pem --tls-key key.pem
  ACTIVATOR_DATABASE=postgres://activator@db/activator activator serve
  activator serve --config /etc/activator/activator.toml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := settle(cmd, a, flags, configPath); err != nil {
				return err
			}
			n, err := strconv.Atoi(maxAttempts)
			if err != nil || n < 1 || n > 100 {
				return fmt.Errorf("--max-attempts %q: want a number from 1 to 100", maxAttempts)
			}
			cfg.MaxAttempts = n
			if cfg.DeliveryLease, err = time.ParseDuration(lease); err != nil || cfg.DeliveryLease < 2*time.Second {
				return fmt.Errorf("--delivery-lease %q: want a duration of at least 2s, such as 20s or 1m", lease)
			}
			if id := cfg.InstanceID; id != "" && (len(id) > 200 || strings.TrimSpace(id) != id) {
				return fmt.Errorf("--instance-id %q: want a name of at most 200 characters, without surrounding spaces", id)
			}
			d, err := time.ParseDuration(grace)
			if err != nil || d < 0 || d > 10*time.Minute {
				return fmt.Errorf("--delivery-grace %q: want a duration from 0s to 10m, such as 10s", grace)
			}
			cfg.DeliveryGrace = d
			if d == 0 {
				cfg.DeliveryGrace = -1 // app.Config's zero is the default
			}
			if cfg.SIP.BanFailures, err = strconv.Atoi(banFailures); err != nil || cfg.SIP.BanFailures < 0 || cfg.SIP.BanFailures > 1000 {
				return fmt.Errorf("--sip-ban-failures %q: want a number from 0 (never ban) to 1000", banFailures)
			}
			if cfg.SIP.BanFailures == 0 {
				cfg.SIP.BanFailures = -1 // sip.Config's zero is its default
			}
			if cfg.SIP.BanWindow, err = time.ParseDuration(banWindow); err != nil || cfg.SIP.BanWindow < time.Second {
				return fmt.Errorf("--sip-ban-window %q: want a duration of at least 1s, such as 10m", banWindow)
			}
			if cfg.SIP.BanTime, err = time.ParseDuration(banTime); err != nil || cfg.SIP.BanTime < time.Second {
				return fmt.Errorf("--sip-ban-time %q: want a duration of at least 1s, such as 10m or 1h", banTime)
			}
			if cfg.Limits.Public, err = ratelimit.ParseRate(limitPublic); err != nil {
				return fmt.Errorf("--rate-limit-public: %w", err)
			}
			if cfg.Limits.Login, err = ratelimit.ParseRate(limitLogin); err != nil {
				return fmt.Errorf("--rate-limit-login: %w", err)
			}
			if cfg.Limits.TrustedProxies, err = ratelimit.ParsePrefixes(proxies); err != nil {
				return fmt.Errorf("--trusted-proxies: %w", err)
			}
			if acmeHosts != "" {
				cfg.ACME.Hosts = strings.Split(acmeHosts, ",")
			}
			for _, addr := range []*string{&cfg.SIP.UDP, &cfg.SIP.TCP, &cfg.SIP.TLS} {
				if *addr == "off" {
					*addr = ""
				}
			}
			log, err := newLogger(logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Version = a.version()
			if a.serve != nil { // tests: what serve would run
				return a.serve(cfg, logLevel, logFormat)
			}
			srv, err := app.New(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer srv.Close()
			return srv.Run(cmd.Context())
		},
	}
	for _, f := range flags {
		cmd.Flags().StringVar(f.target, f.name, f.def, f.help+" ["+f.env+"]")
	}
	addConfigFlag(cmd, &configPath)
	return cmd
}

func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
