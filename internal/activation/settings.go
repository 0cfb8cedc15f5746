package activation

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"mime"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Resolved is an organisation's hostname and behaviour settings, resolved:
// every value parsed, defaults applied, and the base URL falling back to
// the listen address.
type Resolved struct {
	Raw            map[string]string
	BaseURL        string
	SIPDomain      string
	SIPHost        string
	SIPPorts       map[string]int
	SIPTransports  []string
	LinkExpiry     time.Duration
	MIMEType       string
	FileExt        string
	PhoneRegion    string
	Numbers        store.NumberRange // virtual numbers are drawn from it
	Company        string
	UsernameDigits int
	BrandLogoURL   string // an https URL or a data:image/... URI; "" shows no logo
	BrandColour    string // #rrggbb; "" keeps the default look
	ITContact      string // an e-mail address or an https URL; "" leaves the group's IT e-mail
	// Templates are the organisation's own message texts (templates.go);
	// empty: every message has the built-in text.
	Templates messaging.CustomSet
	// Organisation is the organisation's own row: its slug, display name
	// and whether it is suspended, cached with its settings so the public
	// pages' hot path reads it for free.
	Organisation store.OrganisationRow
}

// Suspended says whether the organisation is suspended: its links,
// devices, operators and tokens are refused.
func (r *Resolved) Suspended() bool { return r.Organisation.SuspendedAt != nil }

// configTTL bounds how stale another instance's change can look here; a
// change made through this instance is seen at once.
const configTTL = 3 * time.Second

// Settings keeps each organisation's settings, and hands every part of the
// domain their resolved values (and the download URLs) from a small cache,
// so the public pages' hot path does one query fewer per table.
type Settings struct {
	store     *store.Store
	listenURL string // builds links until public_base_url is set
	mu        sync.Mutex
	cache     map[int64]*orgConfig // by organisation

	namesMu     sync.Mutex
	names       *OrgNames // nil: read afresh
	namesLoaded time.Time

	// sipDomainSet runs after a commit that may change an organisation's
	// SIP domain: its accounts' digest hashes are made with it
	// (Accounts.Rehash). nil: nothing to do.
	sipDomainSet func(ctx context.Context, orgID int64)
}

// orgConfig is one organisation's cached configuration.
type orgConfig struct {
	loaded   time.Time
	settings *Resolved
	apps     []model.AppURL
}

// NewSettings returns the settings of the organisations in st; links are
// built on listenURL until an organisation sets its public_base_url.
// sipDomainSet, if not nil, is called after each change of a setting the
// SIP domain is made of (sip_domain, public_base_url), once it is seen.
func NewSettings(st *store.Store, listenURL string, sipDomainSet func(ctx context.Context, orgID int64)) *Settings {
	return &Settings{store: st, listenURL: listenURL, cache: map[int64]*orgConfig{}, sipDomainSet: sipDomainSet}
}

// invalidate drops an organisation's cached configuration after a write.
func (s *Settings) invalidate(orgID int64) {
	s.mu.Lock()
	delete(s.cache, orgID)
	s.mu.Unlock()
	s.namesMu.Lock()
	s.names = nil
	s.namesMu.Unlock()
}

// OrgNames is what names each organisation in a request: its SIP domain
// and host, for the registrar to tell the realm to challenge with and
// whose accounts may answer it, and its public base URL's host, for the
// web to tell whose pages and console a request is for.
type OrgNames struct {
	// Default is the default organisation's SIP domain: the realm of a
	// request that names no organisation's domain.
	Default SIPRealm
	domains map[string]SIPRealm // by lowercased SIP domain
	sip     map[string]bool     // lowercased SIP domains and hosts
	web     map[string]int64    // lowercased host[:port] of each public_base_url set, to its organisation
	// routed says organisations are routed by host: some organisation
	// other than the provider's has set its public_base_url, so a host
	// that names no one is not simply the provider's (RouteHost).
	routed bool
}

// SIPRealm is one SIP domain: the realm its accounts' digest hashes were
// computed with (the domain as its organisation spells it), and the
// organisations using it (one, unless several leave it to fall back to
// the same base URL's host).
type SIPRealm struct {
	Realm string
	Orgs  []int64
	// Scopes are the username scopes its accounts' usernames are unique
	// in (store.UsernameScope), in the order of Orgs: one, unless
	// organisations of different scopes fall back to one host.
	Scopes []int64
}

// Has reports whether organisation orgID uses this SIP domain.
func (r SIPRealm) Has(orgID int64) bool {
	for _, id := range r.Orgs {
		if id == orgID {
			return true
		}
	}
	return false
}

// Realm finds the SIP domain host names, in any letter case.
func (n *OrgNames) Realm(host string) (SIPRealm, bool) {
	r, ok := n.domains[strings.ToLower(host)]
	return r, ok
}

// IsSIPHost reports whether host is some organisation's SIP domain or host.
func (n *OrgNames) IsSIPHost(host string) bool { return n.sip[strings.ToLower(host)] }

// Names returns what names every organisation, from a cache that a
// settings or organisation change through this instance drops and that is
// read afresh after configTTL: REGISTER is the registrar's hot path, and
// every web request is routed by its host, so each is one map look-up.
func (s *Settings) Names(ctx context.Context) (*OrgNames, error) {
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if s.names != nil && time.Since(s.namesLoaded) < configTTL {
		return s.names, nil
	}
	raw, err := s.store.OrgNameSettings(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(raw))
	for id := range raw {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the realm's spelling does not depend on map order
	n := &OrgNames{domains: map[string]SIPRealm{}, sip: map[string]bool{}, web: map[string]int64{}}
	for _, id := range ids {
		// Only a base URL an organisation set names it: the listen
		// address every other one falls back to names none.
		if u, err := url.Parse(raw[id][model.SettingPublicBaseURL]); err == nil && u.Host != "" {
			n.web[strings.ToLower(u.Host)] = id
			n.routed = n.routed || id != model.DefaultOrgID
		}
		st, err := resolveSettings(raw[id], s.listenURL)
		if err != nil {
			return nil, fmt.Errorf("organisation %d: %w", id, err)
		}
		if st.SIPDomain == "" {
			continue
		}
		key := strings.ToLower(st.SIPDomain)
		r, ok := n.domains[key]
		if !ok {
			r.Realm = st.SIPDomain
		}
		r.Orgs = append(r.Orgs, id)
		if scope := store.UsernameScope(id, raw[id][model.SettingSIPDomain] != ""); !slices.Contains(r.Scopes, scope) {
			r.Scopes = append(r.Scopes, scope)
		}
		n.domains[key] = r
		n.sip[key], n.sip[strings.ToLower(st.SIPHost)] = true, true
	}
	for _, r := range n.domains {
		if r.Has(model.DefaultOrgID) {
			n.Default = r
		}
	}
	s.names, s.namesLoaded = n, time.Now()
	return n, nil
}

// OrgOfHost is the organisation whose public base URL has host (a
// request's Host: name, and port when not the scheme's), and whether one
// has; the default organisation, the provider's, when none has. The
// console's login and the pages answer each organisation at its own host
// on one listener.
func (s *Settings) OrgOfHost(ctx context.Context, host string) (int64, bool, error) {
	n, err := s.Names(ctx)
	if err != nil {
		return 0, false, err
	}
	org, ok := n.orgOfHost(host)
	return org, ok, nil
}

// orgOfHost is OrgOfHost on these names.
func (n *OrgNames) orgOfHost(host string) (int64, bool) {
	host = strings.ToLower(host)
	if org, ok := n.web[host]; ok {
		return org, true
	}
	// A port the scheme implies may be written or not.
	if h, port, err := net.SplitHostPort(host); err == nil && (port == "80" || port == "443") {
		if org, ok := n.web[h]; ok {
			return org, true
		}
	}
	return model.DefaultOrgID, false
}

// HostRoute is whose a request's host is (Settings.RouteHost).
type HostRoute struct {
	// Org is the organisation whose public base URL's host it is, when
	// Named; else the provider's, the default organisation.
	Org   int64
	Named bool
	// Unknown says the host is no one's: organisations are routed by
	// host, and it is neither an organisation's host nor the provider's.
	// Its pages and console are a neutral page, and the device API knows
	// no link or device there.
	Unknown bool
}

// RouteHost tells whose host a request came to (its Host: name, and port
// when not the scheme's). An organisation's public base URL's host is
// that organisation's (the provider's own included, when it set one).
// Any other host is the provider's, which reaches every organisation, as
// long as no organisation but the provider's has a base URL: a
// single-organisation installation answers at any name, as it always
// has. Once one has, a host that names no organisation is the provider's
// only when it is an IP address, localhost (how the provider reaches the
// server directly: the listen address links fall back to, a health
// check, a tunnel) or absent; any other name is unknown.
func (s *Settings) RouteHost(ctx context.Context, host string) (HostRoute, error) {
	n, err := s.Names(ctx)
	if err != nil {
		return HostRoute{}, err
	}
	if org, ok := n.orgOfHost(host); ok {
		return HostRoute{Org: org, Named: true}, nil
	}
	return HostRoute{Org: model.DefaultOrgID, Unknown: n.routed && !providerHost(host)}, nil
}

// providerHost reports whether host, which names no organisation, is
// the provider's whatever the organisations: an IP address, localhost,
// or no host at all.
func providerHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if h == "" || h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	return net.ParseIP(h) != nil
}

// config returns an organisation's resolved settings and download URLs.
func (s *Settings) config(ctx context.Context, orgID int64) (*Resolved, []model.AppURL, error) {
	return s.configIn(ctx, &s.store.Reader, orgID)
}

// configIn is config reading through r on a cache miss: a transaction
// that has just learnt the organisation from a row reads its settings
// within itself.
func (s *Settings) configIn(ctx context.Context, r *store.Reader, orgID int64) (*Resolved, []model.AppURL, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cache[orgID]; c != nil && time.Since(c.loaded) < configTTL {
		return c.settings, c.apps, nil
	}
	raw, err := r.Settings(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	apps, err := r.AppURLs(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	org, err := r.OrganisationByID(ctx, orgID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading organisation %d: %w", orgID, err)
	}
	st, err := resolveSettings(raw, s.listenURL)
	if err != nil {
		return nil, nil, err
	}
	st.Organisation = *org
	if st.Company == "" {
		st.Company = org.Name
		if org.ID == model.DefaultOrgID && org.Name == "default" {
			st.Company = "activator" // the provider's own pages, before it names itself
		}
	}
	s.cache[orgID] = &orgConfig{loaded: time.Now(), settings: st, apps: apps}
	return st, apps, nil
}

// Current returns an organisation's resolved settings.
func (s *Settings) Current(ctx context.Context, orgID int64) (*Resolved, error) {
	st, _, err := s.config(ctx, orgID)
	return st, err
}

// currentIn is Current reading through r on a cache miss.
func (s *Settings) currentIn(ctx context.Context, r *store.Reader, orgID int64) (*Resolved, error) {
	st, _, err := s.configIn(ctx, r, orgID)
	return st, err
}

// List lists every setting of the caller's organisation with its value,
// default and help.
func (s *Settings) List(ctx context.Context, by Caller) ([]model.Setting, error) {
	raw, err := s.store.Settings(ctx, by.OrgID)
	if err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	out := make([]model.Setting, 0, len(model.SettingDefs))
	for _, d := range model.SettingDefs {
		v, ok := raw[d.Key]
		if !ok {
			v = d.Default
		}
		out = append(out, model.Setting{Key: d.Key, Value: v, Default: d.Default, Help: d.Help})
	}
	return out, nil
}

// settingDef finds a setting's definition, or refuses the key by naming
// the known ones.
func settingDef(key string) (model.SettingDef, error) {
	keys := make([]string, len(model.SettingDefs))
	for i, d := range model.SettingDefs {
		if d.Key == key {
			return d, nil
		}
		keys[i] = d.Key
	}
	return model.SettingDef{}, invalid("key", "unknown setting %q; known settings: %s", key, strings.Join(keys, ", "))
}

// Check validates a setting's value without storing it, so a form
// changing several settings can check them all before it stores any.
func (s *Settings) Check(key, value string) error {
	_, _, err := checkSetting(key, value)
	return err
}

// checkSetting validates a setting and returns its definition and the
// value to store: trimmed, and the default when empty.
func checkSetting(key, value string) (model.SettingDef, string, error) {
	def, err := settingDef(key)
	if err != nil {
		return def, "", err
	}
	if value = strings.TrimSpace(value); value == "" {
		value = def.Default
	}
	return def, value, validateSetting(key, value)
}

// Set validates and stores one setting of the caller's organisation. An
// empty value restores the default.
func (s *Settings) Set(ctx context.Context, key, value string, by Caller) (*model.Setting, error) {
	def, value, err := checkSetting(key, value)
	if err != nil {
		return nil, err
	}
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if key == model.SettingSIPDomain {
			if err := s.sipDomainFree(ctx, tx, by.OrgID, value, "value"); err != nil {
				return err
			}
		}
		return tx.PutSetting(ctx, by.OrgID, key, value)
	})
	if err != nil {
		if de := sipDomainError(err, "value"); de != nil {
			return nil, de
		}
		return nil, fmt.Errorf("storing setting %s: %w", key, err)
	}
	s.invalidate(by.OrgID)
	if (key == model.SettingSIPDomain || key == model.SettingPublicBaseURL) && s.sipDomainSet != nil {
		s.sipDomainSet(ctx, by.OrgID)
	}
	return &model.Setting{Key: key, Value: value, Default: def.Default, Help: def.Help}, nil
}

// sipDomainFree refuses, with sip_domain_taken on field, a SIP domain
// another organisation has: usernames are unique per SIP domain, so two
// organisations cannot share one. An organisation without a sip_domain of
// its own shares the default organisation's namespace, so the default's
// SIP domain (its setting, or its base URL's host) is taken for every
// other. An empty domain is always free.
func (s *Settings) sipDomainFree(ctx context.Context, tx *store.Tx, orgID int64, domain, field string) error {
	if domain == "" {
		return nil
	}
	raw, err := tx.OrgNameSettings(ctx)
	if err != nil {
		return err
	}
	for id, set := range raw {
		if id == orgID {
			continue
		}
		theirs := set[model.SettingSIPDomain]
		if id == model.DefaultOrgID {
			if st, err := resolveSettings(set, s.listenURL); err == nil {
				theirs = st.SIPDomain
			}
		}
		if strings.EqualFold(theirs, domain) {
			return conflict("sip_domain_taken", field, "SIP domain %s is another organisation's: usernames are unique per SIP domain, so each organisation needs a domain of its own, or none to share the provider's", domain)
		}
	}
	return nil
}

// sipDomainError turns a username clash of moving an organisation's
// accounts into another SIP domain's namespace into a domain error on
// field, or returns nil.
func sipDomainError(err error, field string) error {
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	var clash *store.UsernameClashError
	if errors.As(err, &clash) {
		return conflict("username_taken_in_sip_domain", field,
			"username %s is taken in the provider's SIP domain by another organisation's account: this organisation's accounts cannot share that domain until one of the two is deleted; keep a SIP domain of its own meanwhile",
			clash.Username)
	}
	return nil
}

var (
	hostnameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
	extRe      = regexp.MustCompile(`^[a-z0-9]{1,16}$`)
	colourRe   = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
)

// MaxLogoBytes bounds a logo given as a data URI, decoded: it is in every
// landing page, inline.
const MaxLogoBytes = 64 << 10

// maxURLLen bounds the https URLs of the brand settings.
const maxURLLen = 2048

// logoProblem says what is wrong with a brand_logo_url value, or "".
// An https URL is taken as the admin gives it (the browser fetches it);
// a data URI must be a base64 PNG or SVG that really is one, since the
// pages allow data: images only for it.
func logoProblem(v string) string {
	if v == "" {
		return ""
	}
	for _, prefix := range []string{"data:image/png;base64,", "data:image/svg+xml;base64,"} {
		rest, ok := strings.CutPrefix(v, prefix)
		if !ok {
			continue
		}
		if base64.StdEncoding.DecodedLen(len(rest)) > MaxLogoBytes+2 {
			return fmt.Sprintf("the logo is over %d KiB: give a smaller image or an https URL", MaxLogoBytes>>10)
		}
		b, err := base64.StdEncoding.Strict().DecodeString(rest)
		switch {
		case err != nil:
			return "the logo's data URI is not valid base64"
		case len(b) > MaxLogoBytes:
			return fmt.Sprintf("the logo is over %d KiB: give a smaller image or an https URL", MaxLogoBytes>>10)
		case prefix == "data:image/png;base64,":
			if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
				return "the logo's data URI says image/png but holds no PNG image"
			}
		case !isSVG(b):
			return "the logo's data URI says image/svg+xml but holds no SVG image"
		}
		return ""
	}
	if strings.HasPrefix(v, "data:") {
		return "want a data URI starting data:image/png;base64, or data:image/svg+xml;base64,"
	}
	if p := httpsURLProblem(v); p != "" {
		return "the logo " + p
	}
	return ""
}

// isSVG reports whether b is XML whose root element is <svg>.
func isSVG(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if el, ok := tok.(xml.StartElement); ok {
			return el.Name.Local == "svg"
		}
	}
}

// httpsURLProblem says why v is not an absolute https URL fit to be
// written into a page's attribute and its Content-Security-Policy, or "".
func httpsURLProblem(v string) string {
	const want = "want an https URL such as https://www.example.com/logo.png"
	if len(v) > maxURLLen {
		return fmt.Sprintf("URL is over %d characters", maxURLLen)
	}
	if strings.ContainsAny(v, " \t\r\n\"'<>`\\") {
		return "URL holds a space, quote, angle bracket or backslash: " + want
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" || u.Hostname() == "" {
		return "is not an https URL: " + want
	}
	if !hostnameRe.MatchString(u.Hostname()) {
		return "URL's host is not a host name: " + want
	}
	return ""
}

// contactProblem says what is wrong with an it_contact value, or "".
func contactProblem(v string) string {
	if v == "" {
		return ""
	}
	if strings.Contains(v, "://") {
		if p := httpsURLProblem(v); p != "" {
			return "the contact " + p
		}
		return ""
	}
	if validEmail("value", v) != nil {
		return fmt.Sprintf("%q is neither an e-mail address such as it@example.com nor an https URL", v)
	}
	return ""
}

func validateSetting(key, v string) error {
	bad := func(format string, args ...any) error {
		return invalid("value", "%s: "+format, append([]any{key}, args...)...)
	}
	switch key {
	case model.SettingPublicBaseURL:
		if v == "" {
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return bad("want an absolute http(s) URL without query, like https://activate.example.com")
		}
	case model.SettingSIPDomain, model.SettingSIPHost:
		if v != "" && !hostnameRe.MatchString(v) {
			return bad("want a host name such as sip.example.com")
		}
	case model.SettingSIPUDPPort, model.SettingSIPTCPPort, model.SettingSIPTLSPort:
		if p, err := strconv.Atoi(v); err != nil || p < 1 || p > 65535 {
			return bad("want a port from 1 to 65535")
		}
	case model.SettingSIPTransports:
		if _, err := parseTransports(v); err != nil {
			return bad("%v", err)
		}
	case model.SettingLinkExpiry:
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 90*24*time.Hour {
			return bad("want a duration from 1m to 2160h, like 168h")
		}
	case model.SettingActivationMIMEType:
		mt, params, err := mime.ParseMediaType(v)
		if err != nil || len(params) > 0 || !strings.Contains(mt, "/") {
			return bad("want a MIME type such as application/vnd.example.activation+json")
		}
	case model.SettingActivationFileExt:
		if !extRe.MatchString(v) {
			return bad("want 1 to 16 lowercase letters or digits, without the dot")
		}
	case model.SettingPhoneRegion:
		if !regionKnown(v) {
			return bad("want a region code such as IT, DE, US")
		}
	case model.SettingVirtualNumberRange:
		if _, _, _, err := parseRange(v); err != nil {
			return bad("%v", err)
		}
	case model.SettingCompanyName:
		if p := lineProblem("the company name", v, false, 100); p != "" {
			return bad("%s", p)
		}
	case model.SettingUsernameDigits:
		if n, err := strconv.Atoi(v); err != nil || n < 6 || n > 18 {
			return bad("want a number from 6 to 18")
		}
	case model.SettingBrandLogoURL:
		if p := logoProblem(v); p != "" {
			return bad("%s", p)
		}
	case model.SettingBrandColour:
		if v != "" && !colourRe.MatchString(v) {
			return bad("want a colour as #rrggbb, like #0b57d0")
		}
	case model.SettingITContact:
		if p := contactProblem(v); p != "" {
			return bad("%s", p)
		}
	}
	return nil
}

func regionKnown(r string) bool {
	return phonenumbers.GetSupportedRegions()[r]
}

func parseTransports(v string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(strings.ToLower(t))
		if t != "tls" && t != "tcp" && t != "udp" {
			return nil, fmt.Errorf("unknown transport %q: want tls, tcp or udp, comma-separated", t)
		}
		if !seen[t] {
			out = append(out, t)
			seen[t] = true
		}
	}
	return out, nil
}

func parseRange(v string) (from, to uint64, digits int, err error) {
	a, b, ok := strings.Cut(v, "-")
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if !ok || len(a) != len(b) || len(a) < 2 || len(a) > 15 {
		return 0, 0, 0, fmt.Errorf("want FROM-TO with the same number of digits (2 to 15), like 100000-999999")
	}
	from, err1 := strconv.ParseUint(a, 10, 64)
	to, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil || from > to {
		return 0, 0, 0, fmt.Errorf("want FROM-TO with FROM not above TO, like 100000-999999")
	}
	return from, to, len(a), nil
}

func resolveSettings(raw map[string]string, listenURL string) (*Resolved, error) {
	get := func(k string) string {
		if v, ok := raw[k]; ok {
			return v
		}
		d, _ := model.SettingDefault(k)
		return d
	}
	st := &Resolved{Raw: raw, SIPPorts: map[string]int{}}
	st.BaseURL = strings.TrimRight(get(model.SettingPublicBaseURL), "/")
	if st.BaseURL == "" {
		st.BaseURL = listenURL
	}
	st.SIPDomain = get(model.SettingSIPDomain)
	if st.SIPDomain == "" {
		if u, err := url.Parse(st.BaseURL); err == nil {
			st.SIPDomain = u.Hostname()
		}
	}
	st.SIPHost = get(model.SettingSIPHost)
	if st.SIPHost == "" {
		st.SIPHost = st.SIPDomain
	}
	for key, tr := range map[string]string{model.SettingSIPUDPPort: "udp", model.SettingSIPTCPPort: "tcp", model.SettingSIPTLSPort: "tls"} {
		p, err := strconv.Atoi(get(key))
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", key, err)
		}
		st.SIPPorts[tr] = p
	}
	var err error
	if st.SIPTransports, err = parseTransports(get(model.SettingSIPTransports)); err != nil {
		return nil, fmt.Errorf("setting %s: %w", model.SettingSIPTransports, err)
	}
	if st.LinkExpiry, err = time.ParseDuration(get(model.SettingLinkExpiry)); err != nil {
		return nil, fmt.Errorf("setting %s: %w", model.SettingLinkExpiry, err)
	}
	st.MIMEType = get(model.SettingActivationMIMEType)
	st.FileExt = get(model.SettingActivationFileExt)
	st.PhoneRegion = get(model.SettingPhoneRegion)
	if st.Numbers.From, st.Numbers.To, st.Numbers.Digits, err = parseRange(get(model.SettingVirtualNumberRange)); err != nil {
		return nil, fmt.Errorf("setting %s: %w", model.SettingVirtualNumberRange, err)
	}
	st.Company = get(model.SettingCompanyName) // "": the organisation's name, set by configIn
	st.BrandLogoURL = get(model.SettingBrandLogoURL)
	st.BrandColour = strings.ToLower(get(model.SettingBrandColour))
	st.ITContact = get(model.SettingITContact)
	st.Templates = parseTemplates(raw)
	if st.UsernameDigits, err = strconv.Atoi(get(model.SettingUsernameDigits)); err != nil {
		return nil, fmt.Errorf("setting %s: %w", model.SettingUsernameDigits, err)
	}
	return st, nil
}
