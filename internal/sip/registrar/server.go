// Package registrar is activator's embedded SIP service: a registrar that
// authenticates REGISTER with digest (MD5 and SHA-256, qop=auth) from the
// stored HA1 hashes, and a proxy that routes calls (INVITE and the requests
// of its dialog) and MESSAGE between registered accounts by username or
// virtual number. It also holds the account backends that keep a SIP
// server's accounts in step with activator's (embedded, kamailio).
package registrar

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Config says where the SIP service listens. An empty address leaves that
// transport off.
type Config struct {
	UDP, TCP, TLS string
	TLSConfig     *tls.Config // required with TLS
	Algorithms    []string    // digest algorithms challenged with, preferred first; nil: DefaultAlgorithms
	Store         *store.Store
	Settings      *activation.Settings // every organisation's SIP domain (the realm) and host
	Logger        *slog.Logger

	// An address whose digest answers fail BanFailures times within
	// BanWindow gets no answer at all for BanTime (see bans). Zero values
	// are the defaults (DefaultBanFailures...); BanFailures < 0 never bans.
	BanFailures int
	BanWindow   time.Duration
	BanTime     time.Duration
}

// Registration lifetimes, in seconds.
const (
	defaultExpires = 3600
	minExpires     = 60
	maxExpires     = 3600
)

// Server is the running registrar and proxy.
type Server struct {
	cfg     Config
	log     *slog.Logger
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	nonces  *nonces
	flowKey []byte
	dialogs *dialogs
	bans    *bans
	udp     net.PacketConn
	tcp     net.Listener
	tls     net.Listener
	ports   map[string]int    // transport -> listening port
	addrs   map[string]string // transport -> bound host:port
	now     func() time.Time
	stats   stats
}

// New binds the listeners; Run serves them.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms
	}
	if cfg.BanFailures == 0 {
		cfg.BanFailures = DefaultBanFailures
	}
	if cfg.BanWindow <= 0 {
		cfg.BanWindow = DefaultBanWindow
	}
	if cfg.BanTime <= 0 {
		cfg.BanTime = DefaultBanTime
	}
	s := &Server{cfg: cfg, log: cfg.Logger, nonces: newNonces(30*time.Second, 100000), ports: map[string]int{}, addrs: map[string]string{}, now: time.Now}
	clock := func() time.Time { return s.now() } // s.now, even when a test sets it after New
	s.dialogs = newDialogs(clock)
	s.bans = newBans(cfg.BanFailures, cfg.BanWindow, cfg.BanTime, clock)
	s.flowKey = make([]byte, 32)
	if _, err := rand.Read(s.flowKey); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.closeListeners()
		}
	}()
	var err error
	if cfg.UDP != "" {
		if s.udp, err = net.ListenPacket("udp", cfg.UDP); err != nil {
			return nil, fmt.Errorf("sip: listening on udp %s: %w", cfg.UDP, err)
		}
		s.ports["udp"] = s.udp.LocalAddr().(*net.UDPAddr).Port
		s.addrs["udp"] = s.udp.LocalAddr().String()
	}
	if cfg.TCP != "" {
		if s.tcp, err = net.Listen("tcp", cfg.TCP); err != nil {
			return nil, fmt.Errorf("sip: listening on tcp %s: %w", cfg.TCP, err)
		}
		s.ports["tcp"] = s.tcp.Addr().(*net.TCPAddr).Port
		s.addrs["tcp"] = s.tcp.Addr().String()
	}
	if cfg.TLS != "" {
		if cfg.TLSConfig == nil {
			return nil, errors.New("sip: TLS listener without a certificate")
		}
		ln, err := net.Listen("tcp", cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("sip: listening on tls %s: %w", cfg.TLS, err)
		}
		s.ports["tls"] = ln.Addr().(*net.TCPAddr).Port
		s.addrs["tls"] = ln.Addr().String()
		s.tls = tls.NewListener(ln, cfg.TLSConfig)
	}
	if s.ua, err = sipgo.NewUA(sipgo.WithUserAgent("activator"), sipgo.WithUserAgenTLSConfig(cfg.TLSConfig)); err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	if s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(s.log)); err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	if s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientLogger(s.log)); err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	s.srv.OnRegister(s.unlessBanned(s.onRegister))
	s.srv.OnOptions(s.unlessBanned(s.onOptions))
	s.srv.OnAck(s.unlessBanned(s.onAck))
	s.srv.OnCancel(func(*sip.Request, sip.ServerTransaction) {}) // the transaction layer answers it and cancels the INVITE
	for _, m := range []sip.RequestMethod{sip.INVITE, sip.BYE, sip.MESSAGE, sip.UPDATE, sip.INFO, sip.REFER, sip.NOTIFY, sip.PRACK, sip.SUBSCRIBE} {
		s.srv.OnRequest(m, s.unlessBanned(s.onRoute))
	}
	s.srv.OnNoRoute(s.unlessBanned(func(req *sip.Request, tx sip.ServerTransaction) {
		s.reply(tx, req, sip.StatusMethodNotAllowed, "Method Not Allowed")
	}))
	ok = true
	return s, nil
}

// Ports are the listening ports by transport (udp, tcp, tls).
func (s *Server) Ports() map[string]int { return s.ports }

// Addrs are the bound addresses by transport (udp, tcp, tls): where an
// address of the configuration has port 0, the port the system chose.
func (s *Server) Addrs() map[string]string { return s.addrs }

func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.tls != nil {
		s.tls.Close()
	}
}

// Run serves until ctx ends, and removes expired registrations meanwhile.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	serve := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("sip listener stopped", "transport", name, "err", err)
			}
		}()
	}
	if s.udp != nil {
		serve("udp", func() error { return s.srv.ServeUDP(s.udp) })
	}
	if s.tcp != nil {
		serve("tcp", func() error { return s.srv.ServeTCP(s.tcp) })
	}
	if s.tls != nil {
		serve("tls", func() error { return s.srv.ServeTLS(s.tls) })
	}
	s.log.Info("sip service listening", "udp", s.addrs["udp"], "tcp", s.addrs["tcp"], "tls", s.addrs["tls"])
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.closeListeners()
			s.ua.Close()
			wg.Wait()
			s.log.Info("sip service stopped")
			return nil
		case <-tick.C:
			s.dialogs.sweep()
			s.bans.sweep()
			err := s.cfg.Store.Tx(ctx, func(dbtx *store.Tx) error {
				_, err := dbtx.DeleteExpiredRegistrations(ctx, s.now())
				return err
			})
			if err != nil && ctx.Err() == nil {
				s.log.Warn("removing expired registrations", "err", err)
			}
		}
	}
}

func (s *Server) reply(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip reply failed", "method", req.Method.String(), "err", err)
	}
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	s.reply(tx, req, sip.StatusOK, "OK", sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, UPDATE, INFO, REFER, NOTIFY, PRACK, REGISTER"))
}

// authenticate checks a request's digest answer. It answers the request
// itself (challenge or refusal) and returns nil when it is not authenticated.
// A REGISTER's account comes with its live bindings at now, read with it.
func (s *Server) authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool, now time.Time) (*store.SIPAccount, []model.Registration) {
	// The challenge comes before any account is known: the realm is the
	// SIP domain the request names when it is some organisation's, else
	// the default organisation's; only that domain's accounts answer it.
	names, err := s.cfg.Settings.Names(ctx)
	if err != nil {
		s.log.Error("sip: reading settings", "err", err)
		s.reply(tx, req, sip.StatusInternalServerError, "Server Error")
		return nil, nil
	}
	domain := realmOf(req, names)
	realm := domain.Realm
	reqHdr, chalHdr, chalCode, chalReason := "Authorization", "WWW-Authenticate", sip.StatusUnauthorized, "Unauthorized"
	if proxy {
		reqHdr, chalHdr, chalCode, chalReason = "Proxy-Authorization", "Proxy-Authenticate", sip.StatusProxyAuthRequired, "Proxy Authentication Required"
	}
	challenge := func(stale bool) {
		var hs []sip.Header
		for _, c := range s.nonces.challenges(realm, s.cfg.Algorithms, stale) {
			hs = append(hs, sip.NewHeader(chalHdr, c))
		}
		s.reply(tx, req, chalCode, chalReason, hs...)
	}
	var cred *digest.Credentials
	for _, h := range req.GetHeaders(reqHdr) {
		c, err := digest.ParseCredentials(h.Value())
		if err == nil && c.Realm == realm {
			cred = c
			break
		}
	}
	if cred == nil {
		challenge(false)
		return nil, nil
	}
	h := hasher(cred.Algorithm)
	if h == nil || !strings.EqualFold(cred.QOP, "auth") {
		challenge(false)
		return nil, nil
	}
	if !s.nonces.take(cred.Nonce) {
		challenge(true)
		return nil, nil
	}
	var (
		acct     *store.SIPAccount
		bindings []model.Registration
	)
	if proxy {
		acct, err = s.account(ctx, domain, cred.Username)
	} else {
		acct, bindings, err = registering(ctx, s.cfg.Store, domain, cred.Username, now)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("sip: reading account", "err", err)
		s.reply(tx, req, sip.StatusInternalServerError, "Server Error")
		return nil, nil
	}
	ha1 := ""
	if acct != nil {
		ha1 = acct.HA1MD5
		if strings.EqualFold(cred.Algorithm, "SHA-256") {
			ha1 = acct.HA1SHA256
		}
	}
	want := digestResponse(h, ha1, cred.Nonce, cred.Nc, cred.Cnonce, req.Method.String(), cred.URI)
	if acct == nil || ha1 == "" || !equalHex(want, cred.Response) {
		s.failed(req, cred.Username)
		s.reply(tx, req, sip.StatusForbidden, "Forbidden")
		return nil, nil
	}
	if !acct.Enabled {
		level := slog.LevelDebug
		if s.bans.allowLog(banKey(req.Source())) {
			level = slog.LevelInfo
		}
		s.log.Log(ctx, level, "sip account may not register", "method", req.Method.String(), "username", cred.Username, "source", req.Source())
		s.reply(tx, req, sip.StatusForbidden, "Forbidden")
		return nil, nil
	}
	return acct, bindings
}

// account is the registrar's one look-up of an account by name: the
// account with username in the SIP domain's username scope, of one of the
// organisations using that domain; store.ErrNotFound when there is none.
// Usernames are unique per SIP domain: another domain's account of the
// same username is not this one, and answers as an unknown account does.
func (s *Server) account(ctx context.Context, domain activation.SIPRealm, username string) (*store.SIPAccount, error) {
	return lookupAccount(ctx, s.cfg.Store, domain, username)
}

// lookupAccount is Server.account on a store: the one function both the
// registrar and its account backend find an account by name with.
func lookupAccount(ctx context.Context, st *store.Store, domain activation.SIPRealm, username string) (*store.SIPAccount, error) {
	a, _, err := inRealm(domain, func(scope int64) (*store.SIPAccount, []model.Registration, error) {
		a, err := st.SIPAccountByUsername(ctx, scope, username)
		return a, nil, err
	})
	return a, err
}

// registering is lookupAccount for a REGISTER: the account and its live
// bindings at now, in one read.
func registering(ctx context.Context, st *store.Store, domain activation.SIPRealm, username string, now time.Time) (*store.SIPAccount, []model.Registration, error) {
	return inRealm(domain, func(scope int64) (*store.SIPAccount, []model.Registration, error) {
		return st.SIPAccountRegistering(ctx, scope, username, now)
	})
}

// inRealm looks an account up in each of a SIP domain's username scopes
// in turn and returns the first of one of the domain's organisations.
func inRealm(domain activation.SIPRealm, find func(scope int64) (*store.SIPAccount, []model.Registration, error)) (*store.SIPAccount, []model.Registration, error) {
	for _, scope := range domain.Scopes {
		a, regs, err := find(scope)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if domain.Has(a.OrgID) {
			return a, regs, nil
		}
	}
	return nil, nil, store.ErrNotFound
}

// callee finds the account a call or MESSAGE is for: by username in the
// SIP domain its Request-URI names, or by virtual number in that domain's
// organisation. The callee is an account of the caller's own organisation,
// or of one the provider lets the caller's organisation call
// (OrganisationRow.AllowCallsTo), addressed at that organisation's SIP
// domain. Any other organisation's account is not found, as an unknown
// one is not. A Request-URI naming no domain the caller may call (the
// server's address, a walled-off organisation's domain) is looked up in
// the caller's own.
func (s *Server) callee(ctx context.Context, req *sip.Request, caller *store.SIPAccount, st *activation.Resolved) (*store.SIPAccount, error) {
	names, err := s.cfg.Settings.Names(ctx)
	if err != nil {
		return nil, err
	}
	allowed := func(org int64) bool { return org == caller.OrgID || slices.Contains(st.Organisation.AllowCallsTo, org) }
	target, ok := names.Realm(req.Recipient.Host)
	own := !ok || !slices.ContainsFunc(target.Orgs, allowed)
	if own {
		if target, ok = names.Realm(st.SIPDomain); !ok {
			target = names.Default
		}
	}
	user := req.Recipient.User
	callee, err := s.account(ctx, target, user)
	if err == nil && !allowed(callee.OrgID) {
		callee, err = nil, store.ErrNotFound
	}
	if !errors.Is(err, store.ErrNotFound) {
		return callee, err
	}
	// A virtual number: the caller's own organisation's first when the
	// domain is its own, then those of the domain's organisations the
	// caller may call.
	var orgs []int64
	if own || target.Has(caller.OrgID) {
		orgs = append(orgs, caller.OrgID)
	}
	for _, o := range target.Orgs {
		if o != caller.OrgID && allowed(o) {
			orgs = append(orgs, o)
		}
	}
	for _, o := range orgs {
		if callee, err = s.cfg.Store.SIPAccountByNumber(ctx, o, user); !errors.Is(err, store.ErrNotFound) {
			return callee, err
		}
	}
	return nil, store.ErrNotFound
}

// realmOf is the SIP domain a request is for: of a REGISTER, the address
// being registered (To) or the registrar's domain it names (its
// Request-URI); of anything else, the caller's own address (From). The
// first that is some organisation's SIP domain wins; a request naming
// none (a client set up with the server's address) is the default
// organisation's. The To comes first: a client that puts its proxy in the
// Request-URI (Linphone does) may name a host several organisations
// share, which can be the default organisation's domain.
func realmOf(req *sip.Request, names *activation.OrgNames) activation.SIPRealm {
	var hosts []string
	if req.Method == sip.REGISTER {
		if to := req.To(); to != nil {
			hosts = append(hosts, to.Address.Host)
		}
		hosts = append(hosts, req.Recipient.Host)
	} else if from := req.From(); from != nil {
		hosts = append(hosts, from.Address.Host)
	}
	for _, h := range hosts {
		if r, ok := names.Realm(h); ok {
			return r
		}
	}
	return names.Default
}

func transportOf(req *sip.Request) string { return strings.ToLower(req.Transport()) }

func (s *Server) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := s.now().UTC().Truncate(time.Millisecond)
	acct, stored := s.authenticate(ctx, req, tx, false, now)
	if acct == nil {
		return
	}
	if to := req.To(); to == nil || to.Address.User != acct.Username {
		s.reply(tx, req, sip.StatusForbidden, "Forbidden")
		return
	}
	expires := defaultExpires
	if h := req.GetHeader("Expires"); h != nil {
		if v, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			expires = v
		}
	}
	transport, source, agent := transportOf(req), req.Source(), ""
	if h := req.GetHeader("User-Agent"); h != nil {
		agent = h.Value()
		if len(agent) > 200 {
			agent = agent[:200]
		}
	}
	type change struct {
		contact string
		expires int
	}
	var changes []change
	removeAll := false
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if c.Address.Wildcard {
			removeAll = true
			continue
		}
		e := expires
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				e = n
			}
		}
		if e > 0 && e < minExpires {
			e = minExpires
		}
		if e > maxExpires {
			e = maxExpires
		}
		changes = append(changes, change{contact: c.Address.String(), expires: e})
	}
	var live []model.Registration
	refreshed := false
	if !removeAll {
		asked := make([]binding, len(changes))
		for i, c := range changes {
			asked[i] = binding{contact: c.contact, transport: transport, source: source, agent: agent, expires: c.expires}
		}
		// A refresh of bindings just written is answered with the read
		// of the account (bindings.go).
		if onlyRefreshes(asked, stored, now) {
			live, refreshed = stored, true
		}
	}
	newBinding := func(c change) *model.Registration {
		return &model.Registration{AccountID: acct.ID, Username: acct.Username, Contact: c.contact, Transport: transport, Source: source,
			UserAgent: agent, UpdatedAt: now, ExpiresAt: now.Add(time.Duration(c.expires) * time.Second)}
	}
	var err error
	switch {
	case refreshed:
	case !removeAll && len(changes) == 1 && changes[0].expires > 0:
		// One binding: in the shared commit, one statement on PostgreSQL
		// (store.PutBinding).
		c := changes[0]
		_, live, err = s.cfg.Store.PutBinding(ctx, store.Binding{OrgID: acct.OrgID, Registration: newBinding(c),
			Detail: registeredDetail(c.contact, transport, source, agent)})
	default:
		// In one commit with the writes that arrive meanwhile.
		err = s.cfg.Store.SharedTx(ctx, func(ctx context.Context, dbtx *store.Tx) error {
			if removeAll {
				n, err := dbtx.DeleteRegistrations(ctx, acct.ID)
				if err != nil {
					return err
				}
				if n > 0 {
					if err := dbtx.AddEvent(ctx, acct.OrgID, acct.ID, model.EventUnregistered, "", map[string]string{"count": strconv.Itoa(n)}); err != nil {
						return err
					}
				}
			}
			for _, c := range changes {
				if c.expires <= 0 {
					gone, err := dbtx.DeleteRegistration(ctx, acct.ID, c.contact)
					if err != nil {
						return err
					}
					if gone {
						if err := dbtx.AddEvent(ctx, acct.OrgID, acct.ID, model.EventUnregistered, "", map[string]string{"contact": c.contact}); err != nil {
							return err
						}
					}
					continue
				}
				created, err := dbtx.PutRegistration(ctx, newBinding(c))
				if err != nil {
					return err
				}
				if created {
					if err := dbtx.AddEvent(ctx, acct.OrgID, acct.ID, model.EventRegistered, "", registeredDetail(c.contact, transport, source, agent)); err != nil {
						return err
					}
				}
			}
			var err error
			live, err = dbtx.Registrations(ctx, acct.ID, now)
			return err
		})
	}
	if err != nil {
		s.log.Error("sip: storing registration", "username", acct.Username, "err", err)
		s.reply(tx, req, sip.StatusInternalServerError, "Server Error")
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	for _, r := range live {
		var u sip.Uri
		if err := sip.ParseUri(r.Contact, &u); err != nil {
			continue
		}
		left := int(r.ExpiresAt.Sub(now).Seconds())
		res.AppendHeader(&sip.ContactHeader{Address: u, Params: sip.HeaderParams{{K: "expires", V: strconv.Itoa(left)}}})
	}
	res.AppendHeader(sip.NewHeader("Date", now.Format(time.RFC1123)))
	s.stats.registers.Add(1)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip reply failed", "err", err)
	}
	s.log.Debug("sip register", "username", acct.Username, "transport", transport, "bindings", len(live))
}

// registeredDetail is the detail of the event of a new binding.
func registeredDetail(contact, transport, source, agent string) map[string]string {
	d := map[string]string{"contact": contact, "transport": transport, "source": source}
	if agent != "" {
		d["user_agent"] = agent
	}
	return d
}

// recordRoute is the proxy's own address for a transport, carrying flow f
// of dialog d (flow.go).
func (s *Server) recordRoute(host, transport string, f flow, expires time.Time, d dialogKey) *sip.RecordRouteHeader {
	return &sip.RecordRouteHeader{Address: sip.Uri{Scheme: "sip", User: s.newFlowToken(f, expires, d), Host: host, Port: s.ports[transport],
		UriParams: sip.HeaderParams{{K: "transport", V: transport}, {K: "lr", V: ""}}}}
}

// isSelf reports whether u names this proxy: one of its ports, on a
// loopback or listening address or the SIP host and domain settings.
func (s *Server) isSelf(u sip.Uri) bool {
	port := u.Port
	if port == 0 {
		port = 5060
		if u.IsEncrypted() {
			port = 5061
		}
		if t, _ := u.UriParams.Get("transport"); strings.EqualFold(t, "tls") {
			port = 5061
		}
	}
	mine := false
	for _, p := range s.ports {
		mine = mine || p == port
	}
	if !mine {
		return false
	}
	// A request URI names a host, not an account: every organisation's
	// SIP host and domain are this proxy's.
	if names, err := s.cfg.Settings.Names(context.Background()); err == nil && names.IsSIPHost(u.Host) {
		return true
	}
	return s.isOwnAddress(u.Host)
}

// isOwnAddress reports whether host is localhost, a loopback address or an
// address this proxy listens on.
func (s *Server) isOwnAddress(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	for _, addr := range []string{s.cfg.UDP, s.cfg.TCP, s.cfg.TLS} {
		if h, _, err := net.SplitHostPort(addr); err == nil {
			if l := net.ParseIP(h); l != nil && (l.IsUnspecified() || l.Equal(ip)) {
				return true
			}
		}
	}
	return false
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	fwd, _, _, ok := s.inDialog(req)
	if !ok {
		var routes []string
		for _, h := range req.GetHeaders("Route") {
			routes = append(routes, h.Value())
		}
		s.log.Debug("sip: ACK outside a known dialog", "call_id", req.CallID().Value(), "routes", strings.Join(routes, ", "), "ruri", req.Recipient.String())
		return
	}
	if err := s.client.WriteRequest(fwd, sipgo.ClientRequestAddVia); err != nil {
		s.log.Info("sip: forwarding ACK", "err", err)
	}
}

// tag is the tag parameter of a From or To header, "" when absent.
func tag(params sip.HeaderParams) string {
	v, _ := params.Get("tag")
	return v
}

// inDialog prepares a request of a dialog the proxy knows (dialogs): it
// must carry the proxy's Route entries, each a live flow token of that
// dialog. It drops them and aims the request at the other party's flow,
// which must be the flow the last of them names.
func (s *Server) inDialog(req *sip.Request) (*sip.Request, dialogKey, *dialog, bool) {
	from, to, callID := req.From(), req.To(), req.CallID()
	if from == nil || to == nil || callID == nil {
		return nil, dialogKey{}, nil, false
	}
	k, d, dest, ok := s.dialogs.find(callID.Value(), tag(from.Params), tag(to.Params))
	if !ok {
		return nil, dialogKey{}, nil, false
	}
	now := s.now()
	var named *flow
	fwd := req.Clone()
	routes := fwd.GetHeaders("Route")
	for fwd.RemoveHeader("Route") {
	}
	var rest []sip.Header
	for _, h := range routes {
		r, ok := h.(*sip.RouteHeader)
		if ok && len(rest) == 0 {
			if tok, ok := parseFlowToken(r.Address.User); ok {
				if !s.verify(tok, k, now) {
					return nil, dialogKey{}, nil, false
				}
				named = &tok.flow
				continue
			}
		}
		rest = append(rest, h)
	}
	if named == nil || *named != dest {
		return nil, dialogKey{}, nil, false
	}
	for _, h := range rest {
		fwd.AppendHeader(h)
	}
	if mf := fwd.MaxForwards(); mf != nil {
		if mf.Val() <= 1 {
			return nil, dialogKey{}, nil, false
		}
		mf.Dec()
	}
	// No caller ID from a request nobody authenticated.
	removeHeaders(fwd, identityHeaders...)
	fwd.SetTransport(strings.ToUpper(dest.transport))
	fwd.SetDestination(dest.source)
	return fwd, k, d, true
}

// identityHeaders name a caller to the callee's phone. Clients may not set
// them: the proxy asserts the caller's identity itself, from the account
// that authenticated.
var identityHeaders = []string{"P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID"}

// removeHeaders removes every header of these names, in any letter case
// (sipgo's RemoveHeader takes one header of the exact name).
func removeHeaders(m interface {
	Headers() []sip.Header
	RemoveHeader(string) bool
}, names ...string) {
	var exact []string
	for _, h := range m.Headers() {
		for _, n := range names {
			if strings.EqualFold(h.Name(), n) {
				exact = append(exact, h.Name())
			}
		}
	}
	for _, n := range exact {
		m.RemoveHeader(n)
	}
}

func (s *Server) onRoute(req *sip.Request, tx sip.ServerTransaction) {
	// A request with a To-tag belongs to a dialog: it is relayed only
	// inside a call the proxy forwarded, never on the strength of a
	// Route it carries.
	if to := req.To(); to != nil && tag(to.Params) != "" {
		fwd, k, d, ok := s.inDialog(req)
		if !ok {
			s.reply(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
			return
		}
		if req.Method != sip.BYE {
			s.relay(req, tx, fwd, nil)
			return
		}
		// A BYE ends the call before its answer goes back, so nothing the
		// caller sends next finds it; unless the other side challenged the
		// BYE, to have it again with credentials.
		answered := false
		s.relay(req, tx, fwd, func(res *sip.Response) {
			if res.StatusCode >= 200 {
				answered = true
				if res.StatusCode != sip.StatusUnauthorized && res.StatusCode != sip.StatusProxyAuthRequired {
					s.dialogs.close(k, d)
				}
			}
		})
		if !answered { // the other side is gone
			s.dialogs.close(k, d)
		}
		return
	}
	// Everything else starts a dialog or stands alone, and is
	// authenticated below whatever Route it carries.
	// The caller reaches this proxy by the name in its outbound proxy
	// setting; the Record-Route facing it uses the same name, which the
	// caller can resolve (baresip, for one, resolves through DNS only).
	selfHost := ""
	// A Route naming this proxy is the client's outbound proxy setting (or
	// a flow token out of its dialog): drop it and route the request here.
	if routes := req.GetHeaders("Route"); len(routes) > 0 {
		for _, h := range routes {
			r, ok := h.(*sip.RouteHeader)
			if !ok || !s.isSelf(r.Address) {
				s.reply(tx, req, sip.StatusForbidden, "Forbidden") // not an open relay
				return
			}
		}
		req = req.Clone()
		for req.RemoveHeader("Route") {
		}
		req.SetTransport(strings.ToUpper(transportOf(req)))
		selfHost = routes[0].(*sip.RouteHeader).Address.Host
	}
	switch req.Method {
	case sip.INVITE, sip.MESSAGE:
	default:
		s.reply(tx, req, sip.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if req.IsInvite() {
		s.reply(tx, req, sip.StatusTrying, "Trying")
	}
	caller, _ := s.authenticate(ctx, req, tx, true, time.Time{})
	if caller == nil {
		return
	}
	if from := req.From(); from == nil || from.Address.User != caller.Username {
		s.reply(tx, req, sip.StatusForbidden, "Forbidden")
		return
	}
	st, err := s.cfg.Settings.Current(ctx, caller.OrgID)
	if err != nil {
		s.reply(tx, req, sip.StatusInternalServerError, "Server Error")
		return
	}
	// The From is the account at this service: the SIP domain, or a name
	// of the proxy itself for clients set up with the server's address.
	if h := req.From().Address.Host; !strings.EqualFold(h, st.SIPDomain) && !strings.EqualFold(h, st.SIPHost) && !s.isOwnAddress(h) {
		s.reply(tx, req, sip.StatusForbidden, "Forbidden")
		return
	}
	callee, err := s.callee(ctx, req, caller, st)
	if errors.Is(err, store.ErrNotFound) {
		s.reply(tx, req, sip.StatusNotFound, "Not Found")
		return
	}
	if err != nil {
		s.log.Error("sip: reading account", "err", err)
		s.reply(tx, req, sip.StatusInternalServerError, "Server Error")
		return
	}
	regs, err := s.cfg.Store.Registrations(ctx, callee.ID, s.now())
	if err != nil {
		s.log.Error("sip: reading registrations", "err", err)
		s.reply(tx, req, sip.StatusInternalServerError, "Server Error")
		return
	}
	if !callee.Enabled || len(regs) == 0 {
		s.reply(tx, req, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
		return
	}
	reg := regs[0]
	var target sip.Uri
	if err := sip.ParseUri(reg.Contact, &target); err != nil {
		s.reply(tx, req, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
		return
	}
	fwd := req.Clone()
	fwd.Recipient = target
	removeHeaders(fwd, "Proxy-Authorization")
	if mf := fwd.MaxForwards(); mf != nil {
		if mf.Val() <= 1 {
			s.reply(tx, req, sip.StatusTooManyHops, "Too Many Hops")
			return
		}
		mf.Dec()
	}
	// The caller ID is the caller's virtual number (its username when it
	// has none), whatever the client put in its request.
	id := caller.VirtualNumber
	if id == "" {
		id = caller.Username
	}
	if from := fwd.From(); from != nil {
		from.DisplayName = id
	}
	removeHeaders(fwd, identityHeaders...)
	fwd.AppendHeader(sip.NewHeader("P-Asserted-Identity", fmt.Sprintf("<sip:%s@%s>", id, st.SIPDomain)))
	var seen func(*sip.Response)
	if req.IsInvite() {
		in := transportOf(req)
		if selfHost == "" {
			selfHost = st.SIPHost
			if s.isSelf(req.Recipient) {
				selfHost = req.Recipient.Host
			}
		}
		k := dialogKey{callID: req.CallID().Value(), tag: tag(req.From().Params)}
		if k.tag == "" {
			s.reply(tx, req, sip.StatusBadRequest, "Bad Request (From-tag missing)")
			return
		}
		callerFlow, calleeFlow := flow{transport: in, source: req.Source()}, flow{transport: reg.Transport, source: reg.Source}
		d, err := s.dialogs.open(k, callerFlow, calleeFlow, caller.ID)
		switch {
		case errors.Is(err, errDialogExists):
			s.reply(tx, req, sip.StatusLoopDetected, "Loop Detected")
			return
		case errors.Is(err, errAccountDialogs):
			s.log.Info("sip: call refused, too many calls under way", "username", caller.Username)
			s.reply(tx, req, sip.StatusForbidden, "Too Many Calls")
			return
		case err != nil:
			s.log.Warn("sip: call refused", "err", err)
			s.reply(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		defer s.dialogs.abandon(k, d) // when no 2xx made it a call
		seen = func(res *sip.Response) {
			if to := res.To(); to != nil {
				s.dialogs.response(k, d, res.StatusCode, tag(to.Params))
			}
		}
		fwd.PrependHeader(s.recordRoute(selfHost, in, callerFlow, d.expires, k))
		fwd.PrependHeader(s.recordRoute(st.SIPHost, reg.Transport, calleeFlow, d.expires, k))
	}
	fwd.SetTransport(strings.ToUpper(reg.Transport))
	fwd.SetDestination(reg.Source)
	s.relay(req, tx, fwd, seen)
}

// relay sends fwd statefully and passes its responses back on tx, each
// shown to seen (when set) first; a CANCEL of tx cancels fwd.
func (s *Server) relay(req *sip.Request, tx sip.ServerTransaction, fwd *sip.Request, seen func(*sip.Response)) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	clTx, err := s.client.TransactionRequest(ctx, fwd, sipgo.ClientRequestAddVia)
	if err != nil {
		s.log.Info("sip: relaying request", "method", req.Method.String(), "err", err)
		s.reply(tx, req, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
		return
	}
	defer clTx.Terminate()
	if req.IsInvite() {
		tx.OnCancel(func(*sip.Request) {
			c := cancelOf(fwd)
			go func() {
				if _, err := s.client.Do(ctx, c); err != nil {
					s.log.Debug("sip: forwarding CANCEL", "err", err)
				}
			}()
		})
	}
	for {
		select {
		case res, more := <-clTx.Responses():
			if !more {
				return
			}
			res.RemoveHeader("Via")
			removeHeaders(res, identityHeaders...)
			if seen != nil {
				seen(res)
			}
			if err := tx.Respond(res); err != nil {
				s.log.Debug("sip: passing a response back", "err", err)
			}
			if res.StatusCode >= 200 {
				return
			}
		case <-clTx.Done():
			if err := clTx.Err(); err != nil {
				s.reply(tx, req, sip.StatusRequestTimeout, "Request Timeout")
			}
			return
		case <-tx.Done():
			return
		}
	}
}

// cancelOf is the CANCEL of a forwarded INVITE: same branch, same target.
func cancelOf(inv *sip.Request) *sip.Request {
	c := sip.NewRequest(sip.CANCEL, inv.Recipient)
	if v := inv.Via(); v != nil {
		c.AppendHeader(v.Clone())
	}
	sip.CopyHeaders("Route", inv, c)
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	for _, name := range []string{"From", "To", "Call-ID"} {
		sip.CopyHeaders(name, inv, c)
	}
	if cs := inv.CSeq(); cs != nil {
		c.AppendHeader(&sip.CSeqHeader{SeqNo: cs.SeqNo, MethodName: sip.CANCEL})
	}
	c.SetBody(nil)
	c.SetTransport(inv.Transport())
	c.SetDestination(inv.Destination())
	return c
}

// Close releases the listeners of a server that will not Run.
func (s *Server) Close() {
	s.closeListeners()
}
