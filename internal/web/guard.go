package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/audit"
	"github.com/activator-voip/activator/internal/web/console"
	"github.com/activator-voip/activator/internal/web/pages"
	"github.com/activator-voip/activator/internal/web/ratelimit"
	"github.com/activator-voip/activator/internal/web/status"
)

// What happens to a request before any handler runs: the per-address rate
// limits of the routes anyone may call, the bound on their bodies, and the
// API token check that comes before the admin API is routed, so that an
// unauthenticated caller learns nothing of its routes (docs/configuration.md,
// "Limits").

// Limits are the per-address rate limits of `activator serve`; a zero Rate
// limits nothing.
type Limits struct {
	// Public is every route anyone may call: the pages a link opens, its
	// activation file and installation click, the device API (redeem,
	// configuration), Linphone's URLs, the console's login and
	// set-password forms as they are shown.
	Public ratelimit.Rate
	// Login is console logins and set-password posts, each counted, and
	// API requests whose token does not authenticate, counted when they
	// fail; an address that used it up may not try again, even with a
	// working token, until it refills.
	Login ratelimit.Rate
	// TrustedProxies are the proxies whose X-Forwarded-For is believed;
	// without any, the connection's peer is the source.
	TrustedProxies []netip.Prefix
}

// Body bounds of the routes anyone may call. The admin API's own bodies
// are bounded by decode (1 MiB) and the import upload, after the token.
const (
	publicBodyMax  = 16 << 10 // redeem JSON, the Linphone post, the console's login and set-password forms
	receiptBodyMax = 64 << 10 // a provider's delivery receipt
)

// hsts is the Strict-Transport-Security of every answer served over https.
const hsts = "max-age=31536000"

// guard is what a route anyone may call gets before it runs. Guards are
// kept in an http.ServeMux of their own under the routes' own patterns,
// so a request finds its guard exactly as the router finds its route.
type guard struct {
	limit   *ratelimit.Limiter // nil: not counted per request
	maxBody int64
	public  bool // an /api/ route that needs no API token: the device API, receipts, the OpenAPI document
}

// ServeHTTP is never called: guards are found with http.ServeMux.Handler.
func (guard) ServeHTTP(http.ResponseWriter, *http.Request) {}

// guards builds the table of guards from both route tables.
func (s *Server) guards(cons *console.Console) *http.ServeMux {
	m := http.NewServeMux()
	seen := map[string]bool{}
	for _, rt := range s.routes {
		if rt.access == token || seen[rt.path] {
			continue
		}
		seen[rt.path] = true // by path alone: every method of a public path is public, and counted
		g := guard{limit: s.public, maxBody: publicBodyMax, public: true}
		if rt.unlimited != "" {
			g.limit = nil
		}
		if rt.maxBody != 0 {
			g.maxBody = rt.maxBody
		}
		m.Handle(rt.path, g)
	}
	for _, rt := range cons.Routes() {
		if !rt.Public {
			continue
		}
		g := guard{limit: s.public}
		if rt.Method == http.MethodPost { // a password is checked: argon2id, 19 MiB a time
			g = guard{limit: s.login, maxBody: publicBodyMax}
		}
		m.Handle(rt.Method+" "+rt.Path, g)
	}
	return m
}

// serve guards r, then routes it. It returns the request as routed, which
// the router names its pattern on, and the guard's pattern, for the log of
// a request refused before routing.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) (*http.Request, string) {
	h, pattern := s.guard.Handler(r)
	g, _ := h.(guard)
	src := s.sources.Of(r)
	if src.IsValid() {
		r = r.WithContext(audit.WithSource(r.Context(), src.String())) // every audit entry keeps where its request came from
	}
	// At an organisation's own host, the pages and the device API answer
	// for its links and devices only; at a host that is no one's, for none,
	// and the pages and the console are a neutral page.
	host, err := s.dom.Settings.RouteHost(r.Context(), r.Host)
	switch {
	case err != nil:
		// Whose host this is cannot be told: it reaches no
		// organisation's links or devices, as a host that is no one's,
		// and its pages answer the fault rather than the neutral page.
		// A database fault is logged once by the store; anything else
		// (an organisation's stored settings that do not resolve) here.
		if _, _, _, fault := status.Fault(err); !fault {
			s.log.ErrorContext(r.Context(), "routing a request by its host", "host", r.Host, "err", err)
		}
		r = r.WithContext(activation.AtUnknownHost(r.Context()))
	case host.Named:
		r = r.WithContext(activation.AtHostOf(r.Context(), host.Org))
	case host.Unknown:
		r = r.WithContext(activation.AtUnknownHost(r.Context()))
	}
	if ok, wait := g.limit.Allow(src); !ok {
		tooMany(w, r, wait)
		return r, pattern
	}
	if host.Unknown && neutralAtUnknownHost(r.URL.Path) {
		s.unknownHost(w, r)
		return r, pattern
	}
	if g.maxBody > 0 {
		if r.ContentLength > g.maxBody {
			tooLarge(w, r, g.maxBody)
			return r, pattern
		}
		r.Body = http.MaxBytesReader(w, r.Body, g.maxBody)
	}
	if isAPI(r.URL.Path) && !g.public {
		c, ok := s.authenticate(w, r, src)
		if !ok {
			return r, pattern
		}
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
	}
	s.mux.ServeHTTP(w, r)
	return r, pattern
}

// neutralAtUnknownHost says whether path is answered with the neutral page
// at a host that is no one's: what people open, the pages of links and
// the console (and the index). The API keeps answering there: the admin
// API by its token's organisation, the device API and Linphone's
// provisioning URL as for an unknown link or device.
func neutralAtUnknownHost(path string) bool {
	return path == "/" || strings.HasPrefix(path, "/a/") || path == "/console" || strings.HasPrefix(path, "/console/")
}

// unknownHost answers the neutral page of a host that is no one's: 404,
// nothing of any organisation, the provider's name only when it has set
// one (company_name, or a name for its organisation other than default).
func (s *Server) unknownHost(w http.ResponseWriter, r *http.Request) {
	provider := ""
	if st, err := s.dom.Settings.Current(r.Context(), model.DefaultOrgID); err == nil {
		if provider = st.Raw[model.SettingCompanyName]; provider == "" && st.Organisation.Name != "default" {
			provider = st.Organisation.Name
		}
	}
	s.pageHeaders(w, pages.Brand{})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	if r.Method == http.MethodHead {
		return
	}
	if err := s.pages.UnknownHost(w, r.Header.Get("Accept-Language"), provider); err != nil {
		s.log.Error("rendering the page of an unknown host", "err", err)
	}
}

// isAPI says whether path is in the API's namespace, known or not.
func isAPI(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/")
}

type callerKey struct{}

// callerOf is the caller the API token of r authenticated, before routing.
func callerOf(r *http.Request) *activation.Caller {
	c, _ := r.Context().Value(callerKey{}).(*activation.Caller)
	return c
}

// authenticate checks r's API token, answering 401 with WWW-Authenticate
// when it does not authenticate and 429 when src has failed too often.
// A failure counts against the login limit; a working token never does.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, src netip.Addr) (*activation.Caller, bool) {
	if ok, wait := s.login.Peek(src); !ok {
		tooMany(w, r, wait)
		return nil, false
	}
	c, err := s.dom.Access.Authenticate(r.Context(), bearer(r))
	if err != nil {
		var de *activation.Error
		if errors.As(err, &de) && de.Kind == activation.KindUnauthorized {
			s.login.Charge(src)
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		s.fail(w, r, err)
		return nil, false
	}
	if ref := r.Header.Get(orgHeader); ref != "" {
		in, err := s.dom.Organisations.ActIn(r.Context(), ref, *c)
		if err != nil {
			s.fail(w, r, err)
			return nil, false
		}
		c = &in
	}
	return c, true
}

// tooMany answers a request over its source's limit.
func tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	msg := fmt.Sprintf("too many requests from this address; try again in %d seconds", secs)
	if isAPI(r.URL.Path) {
		writeJSONError(w, http.StatusTooManyRequests, "rate_limited", msg, "")
		return
	}
	http.Error(w, "Too many requests from this address; try again in "+strconv.Itoa(secs)+" seconds.", http.StatusTooManyRequests)
}

// tooLarge answers a request whose body is over its route's bound.
func tooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	w.Header().Set("Connection", "close") // the rest of the body is never read
	e := bodyTooLarge(limit)
	if isAPI(r.URL.Path) {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "body_too_large", e.Error(), "")
		return
	}
	http.Error(w, "The request body is too large: at most "+e.bound()+".", http.StatusRequestEntityTooLarge)
}

// overHTTPS says whether people reach activator over https: it
// terminates TLS itself, or the public_base_url (the address links are
// built on) of the organisation whose host r came to, else the
// provider's, is https, as behind a proxy that terminates TLS. When the
// setting cannot be read, it says so, which costs a plain-http reader
// nothing.
func (s *Server) overHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	org, _, err := s.dom.Settings.OrgOfHost(r.Context(), r.Host)
	if err != nil {
		return true
	}
	st, err := s.dom.Settings.Current(r.Context(), org)
	return err != nil || strings.HasPrefix(strings.ToLower(st.BaseURL), "https://")
}
