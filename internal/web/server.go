// Package web is activator's one router: the admin API (JSON, described by
// an OpenAPI document generated from the same route table), the device API
// and the public pages a link opens. Handlers parse, call the domain and
// answer; they never touch SQL.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/audit"
	"github.com/activator-voip/activator/internal/web/console"
	"github.com/activator-voip/activator/internal/web/pages"
	"github.com/activator-voip/activator/internal/web/ratelimit"
	"github.com/activator-voip/activator/internal/web/status"
)

// Server serves every HTTP route.
type Server struct {
	dom     activation.Domain
	pages   *pages.Renderer
	cat     *i18n.Catalogue
	log     *slog.Logger
	routes  []route
	audit   *audit.Auditor
	mux     *http.ServeMux
	version string
	ops     Ops
	// What comes before routing (guard.go): each route's guard, found as
	// the router finds the route, the source of a request, and the limits.
	guard         *http.ServeMux
	sources       ratelimit.Sources
	public, login *ratelimit.Limiter
}

// New builds the server and its routes on the domain's parts, with the
// per-address limits of lim and the operations side of ops (health.go).
func New(dom activation.Domain, cat *i18n.Catalogue, log *slog.Logger, version string, lim Limits, ops Ops) (*Server, error) {
	r, err := pages.New(cat)
	if err != nil {
		return nil, err
	}
	s := &Server{dom: dom, pages: r, cat: cat, log: log, version: version, ops: ops, mux: http.NewServeMux(),
		audit:   audit.New(dom.Audit, dom.Snapshots, log, "api", "/api/v1/"),
		sources: ratelimit.NewSources(lim.TrustedProxies),
		public:  ratelimit.New("public", lim.Public, log),
		login:   ratelimit.New("login", lim.Login, log)}
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	cons, err := console.New(dom, log.With("component", "console")) // the CSR web console (internal/web/console)
	if err != nil {
		return nil, err
	}
	s.mux.Handle("/console/", cons)
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /healthz", Healthz)
	s.mux.HandleFunc("GET /readyz", Readyz(ops.Ready))
	s.mux.HandleFunc(apiCatchAll, s.noRoute) // 405 or 404 (contract.go)
	s.guard = s.guards(cons)
	return s, nil
}

// ServeHTTP guards and routes a request (guard.go) and logs it by its
// route pattern, never its path: paths carry link tokens.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if s.overHTTPS(r) {
		h.Set("Strict-Transport-Security", hsts)
	}
	r, guarded := s.serve(sw, r)
	pattern := r.Pattern
	if pattern == "" {
		pattern = guarded // refused before routing
	}
	if pattern == "" {
		pattern = "(no route)"
	}
	took := time.Since(start)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "http", slog.String("route", pattern), slog.Int("status", sw.status),
		slog.Duration("took", took))
	if s.ops.Observe != nil {
		s.ops.Observe(pattern, sw.status, took)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection: a download
// moves its write deadline and flushes through it.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Access says how a route's caller is identified.
type access int

const (
	public access = iota // anyone: pages, device redeem
	device               // a device credential
	token                // an API token, whose role must hold the route's permission
)

// Permissions a route needs; each role holds some (activation.RoleAllows).
const (
	permRead     = activation.PermRead     // read anything
	permAccounts = activation.PermAccounts // manage accounts and send their messages
	permConfig   = activation.PermConfig   // change configuration: groups, profiles, downloads, settings
	permOrgs     = activation.PermOrgs     // the provider's: organisations themselves
)

type handler func(w http.ResponseWriter, r *http.Request, c *activation.Caller) error

// route is one entry of the route table; the OpenAPI document is built from
// the same entries, so the two cannot drift apart.
type route struct {
	method, path string
	access       access
	perm         string // for token routes: the permission the caller's role needs
	summary      string
	query        []param
	body         any // a value of the request body's type, or nil
	resp         any // a value of the response body's type, or nil
	status       int // success status
	tag          string
	h            handler
	// For routes anyone may call (guard.go): the largest body taken, when
	// not publicBodyMax, and why the route is not under the public rate
	// limit, when it is not.
	maxBody   int64
	unlimited string
}

type param struct {
	name, help string
}

func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var caller *activation.Caller
		if rt.access == token {
			c := callerOf(r) // authenticated before routing (guard.go)
			if c == nil {
				var ok bool
				if c, ok = s.authenticate(w, r, s.sources.Of(r)); !ok {
					return
				}
			}
			if !activation.RoleAllows(c.Role, rt.perm) {
				s.audit.Denied(r, *c, rt.method, rt.path)
				msg := "the " + string(c.Role) + " role may not do this"
				if rt.perm == permOrgs {
					msg += ": " + activation.ErrNotProvider.Message
				}
				writeJSONError(w, http.StatusForbidden, "forbidden", msg, "")
				return
			}
			caller = c
		}
		if rt.access == token && rt.method != http.MethodGet { // every operator action is audited (internal/web/audit)
			s.audit.Run(w, r, *caller, rt.method, rt.path, func(w http.ResponseWriter) string {
				if err := rt.h(w, r, caller); err != nil {
					s.fail(w, r, err)
				}
				return ""
			})
			return
		}
		if err := rt.h(w, r, caller); err != nil {
			s.fail(w, r, err)
		}
	})
}

func bearer(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(v, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// fail answers an API error: the domain's own words and code, or a bare 500
// for anything unexpected (logged, never shown: it may name internals).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		writeJSONError(w, http.StatusBadRequest, br.code, br.msg, br.field)
		return
	}
	var um *unsupportedMediaType
	if errors.As(err, &um) {
		writeJSONError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", um.Error(), "")
		return
	}
	var tl bodyTooLarge
	if errors.As(err, &tl) {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "body_too_large", tl.Error(), "")
		return
	}
	var de *activation.Error
	if errors.As(err, &de) {
		writeJSONError(w, status.Of(de.Kind), de.Code, de.Message, de.Field)
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	if s.fault(w, r, err) {
		return
	}
	s.log.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "err", err)
	writeJSONError(w, http.StatusInternalServerError, "internal", "internal error; the server log has the details", "")
}

func writeJSONError(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, model.ErrorBody{Error: model.APIError{Code: code, Message: msg, Field: field}})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeCompactJSON is writeJSON without the indentation, for the answers
// devices read and people do not: a redeem's configuration, indented,
// was a tenth of the redeem's CPU, and a program reads it no better.
func writeCompactJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("activator " + s.version + "\nAdmin API: /api/v1 (OpenAPI document: /api/v1/openapi.json)\n"))
}
