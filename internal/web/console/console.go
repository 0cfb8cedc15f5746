// Package console is the CSR web console: server-rendered pages under
// /console/, embedded templates parsed once and embedded assets (no CDN),
// sessions kept in the database so every instance shares them, CSRF
// protection on every form, and one route table where each route names the
// permission it needs (activation.RoleAllows). Handlers follow one flow:
// parse the form, call the domain, then re-render with the field's error or
// act and redirect.
package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/web/audit"
	"github.com/activator-voip/activator/internal/web/status"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names.
const (
	sessionCookie = "activator_session"
	preCSRFCookie = "activator_csrf" // double-submit token of the forms shown before login
)

// csp lets the console run only its own script and style.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Console serves /console/.
type Console struct {
	dom    activation.Domain
	log    *slog.Logger
	pages  map[string]*template.Template
	routes []Route
	audit  *audit.Auditor
	mux    *http.ServeMux
}

// Route is one console route. Perm is the permission a role needs
// (activation.RoleAllows); Public routes need no session.
type Route struct {
	Method, Path string
	Perm         string
	Public       bool
	h            handler
}

type handler func(w http.ResponseWriter, r *http.Request, p *Page) error

// Page is what every template sees: the operator, the CSRF token, the
// active menu entry, flash text and the page's own data.
type Page struct {
	Title  string
	Menu   string
	Caller *activation.Caller
	CSRF   string
	Flash  string
	Error  string
	Fields map[string]string // field name -> its error
	Form   url.Values
	Data   any
	Path   string
	target string // audit target key, set by handlers that create
	// HomeOrgID is the organisation the operator belongs to; Caller.OrgID
	// the one they act in (another, for a provider admin who chose one).
	HomeOrgID int64
	// Acting names the organisation a provider admin acts inside, when
	// not their own.
	Acting string
}

// Can reports whether the operator's role holds perm; templates hide what it cannot do.
func (p *Page) Can(perm string) bool {
	return p.Caller != nil && activation.RoleAllows(p.Caller.Role, perm)
}

// Val is a submitted form value, for re-rendering a form with its input.
func (p *Page) Val(name string) string {
	if p.Form == nil {
		return ""
	}
	return p.Form.Get(name)
}

// New builds the console on the domain's parts. Templates are parsed here, once.
func New(dom activation.Domain, log *slog.Logger) (*Console, error) {
	c := &Console{dom: dom, log: log, pages: map[string]*template.Template{}, mux: http.NewServeMux(),
		audit: audit.New(dom.Audit, dom.Snapshots, log, "console", "/console/")}
	funcs := template.FuncMap{
		"when":   when,
		"ago":    ago,
		"join":   strings.Join,
		"lower":  strings.ToLower,
		"add":    func(a, b int) int { return a + b },
		"sub":    func(a, b int) int { return a - b },
		"pct":    pct,
		"pct64":  func(a, b int64) int64 { return pct64(a, b) },
		"status": statusClass,
		"roles":  func() []model.Role { return model.Roles },
		"stages": func() []string { return append([]string{model.StatusDisabled}, model.Stages...) },
		"langs":  func() []string { return model.Languages },
		"plats":  func() []string { return model.Platforms },
		"msgStates": func() []string {
			return []string{model.MessageQueued, model.MessageSending, model.MessageSent, model.MessageDelivered, model.MessageFailed}
		},
		"models":  func() []string { return []string{string(model.EndToEnd), string(model.EndToSite)} },
		"mask":    secret.MaskLinks,
		"has":     func(m map[string]bool, k string) bool { return m[k] },
		"itoa":    func(n int64) string { return strconv.FormatInt(n, 10) },
		"urlq":    url.QueryEscape,
		"default": func(d, v string) string { return map[bool]string{true: d, false: v}[v == ""] },
		// The menu entries of the "Setup" menu: its title is marked when one is open.
		"setupPages": func() map[string]bool {
			return map[string]bool{"groups": true, "profiles": true, "downloads": true, "settings": true, "gateways": true,
				"templates": true, "operators": true, "tokens": true, "audit": true, "orgs": true}
		},
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parsing console layout: %w", err)
	}
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("parsing console page %s: %w", name, err)
		}
		c.pages[strings.TrimSuffix(name, ".html")] = t
	}
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticHandler(http.FileServerFS(static))))
	c.routes = c.routeTable()
	for _, rt := range c.routes {
		c.mux.Handle(rt.Method+" "+rt.Path, c.wrap(rt))
	}
	c.mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.renderStatus(w, r, &Page{Title: "Not found"}, http.StatusNotFound, "There is no console page here.")
	})
	return c, nil
}

func staticHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// Routes lists the console's route table, for tests.
func (c *Console) Routes() []Route { return c.routes }

// Auditor is the console's audit wrapper, for tests walking the route table.
func (c *Console) Auditor() *audit.Auditor { return c.audit }

// ServeHTTP serves a console request.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

func (c *Console) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := &Page{Path: r.URL.Path, Fields: map[string]string{}}
		if rt.Public {
			p.CSRF = c.preCSRF(w, r)
			if r.Method == http.MethodPost && !c.checkCSRF(w, r, p) {
				return
			}
			if err := rt.h(w, r, p); err != nil {
				c.fail(w, r, p, err)
			}
			return
		}
		ck, _ := r.Cookie(sessionCookie)
		var tok string
		if ck != nil {
			tok = ck.Value
		}
		sess, err := c.dom.Access.Session(r.Context(), tok)
		if _, _, _, fault := status.Fault(err); fault {
			c.fail(w, r, p, err) // the session may be fine: the database cannot tell
			return
		}
		if err != nil {
			if r.Method == http.MethodGet && r.Header.Get("X-Live") == "" {
				http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.renderStatus(w, r, p, http.StatusUnauthorized, "Your session has ended. Please log in again.")
			return
		}
		p.HomeOrgID = sess.Caller.OrgID
		caller := c.actingIn(w, r, sess.Caller)
		p.Caller, p.CSRF = &caller, sess.CSRF
		if caller.OrgID != p.HomeOrgID {
			if st, err := c.dom.Settings.Current(r.Context(), caller.OrgID); err == nil {
				p.Acting = st.Organisation.Name
			}
		}
		if r.Method == http.MethodPost && !c.checkCSRF(w, r, p) {
			return
		}
		if !activation.RoleAllows(caller.Role, rt.Perm) {
			c.audit.Denied(r, caller, rt.Method, rt.Path)
			c.renderStatus(w, r, p, http.StatusForbidden, "The "+string(caller.Role)+" role may not do this.")
			return
		}
		if r.Method == http.MethodGet {
			if r.Header.Get("X-Live") != "" {
				c.live(w, r, rt, p)
				return
			}
			if err := rt.h(w, r, p); err != nil {
				c.fail(w, r, p, err)
			}
			return
		}
		// Every form post is audited (internal/web/audit).
		c.audit.Run(w, r, caller, rt.Method, rt.Path, func(w http.ResponseWriter) string {
			if err := rt.h(w, r, p); err != nil {
				c.fail(w, r, p, err)
			}
			return p.target
		})
	})
}

// live answers the console script's poll of the page it shows (X-Live):
// the page as usual with an ETag, or 304 and no body when it has not
// changed since the ETag the script sent. Most polls find nothing new, so
// most cost a few bytes. The poll asks for the page itself rather than a
// data feed of its own, so every live page is one template, whatever
// parts of it are live.
func (c *Console) live(w http.ResponseWriter, r *http.Request, rt Route, p *Page) {
	buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
	if err := rt.h(buf, r, p); err != nil {
		c.fail(buf, r, p, err)
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	if buf.status != http.StatusOK {
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
		return
	}
	sum := sha256.Sum256(buf.body.Bytes())
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.Header().Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(buf.body.Bytes())
}

// bufferedWriter keeps a response until it is known whether it changed.
type bufferedWriter struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if !b.wrote {
		b.status, b.wrote = status, true
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

// checkCSRF compares the form's token with the page's (the session's, or
// the pre-login cookie's), in constant time. It answers the post itself
// when it fails: 413 for a body over its bound (the public forms' is set
// before routing), else 403.
func (c *Console) checkCSRF(w http.ResponseWriter, r *http.Request, p *Page) bool {
	err := readForm(r)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		c.renderStatus(w, r, p, http.StatusRequestEntityTooLarge, fmt.Sprintf("This form is too large: at most %d bytes.", mbe.Limit))
		return false
	}
	got := r.PostFormValue("csrf")
	if err != nil || p.CSRF == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) != 1 {
		c.renderStatus(w, r, p, http.StatusForbidden, "This form has expired. Go back, reload the page and try again.")
		return false
	}
	return true
}

// readForm reads a posted form, urlencoded or multipart (an import's
// file). ParseMultipartForm alone keeps a urlencoded body's reading error
// to itself, and so a body over its bound.
func readForm(r *http.Request) error {
	if err := r.ParseForm(); errors.As(err, new(*http.MaxBytesError)) {
		return err
	}
	if err := r.ParseMultipartForm(activation.MaxImportBytes); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return err
	}
	return nil
}

// preCSRF returns the double-submit token of the login and set-password
// forms, setting its cookie when there is none.
func (c *Console) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCSRFCookie); err == nil && len(ck.Value) == 32 {
		return ck.Value
	}
	v := randomToken()
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: v, Path: "/console/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.secureCookies(r)})
	return v
}

// secureCookies says whether the console's cookies are Secure: when
// activator terminates TLS itself, and when public_base_url is https, as
// behind a proxy that terminates TLS and talks plain http to activator.
// When the setting cannot be read, they are.
func (c *Console) secureCookies(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	org, err := c.loginOrg(r)
	if err != nil {
		return true
	}
	st, err := c.dom.Settings.Current(r.Context(), org)
	return err != nil || strings.HasPrefix(strings.ToLower(st.BaseURL), "https://")
}

// fail answers an error: a domain error in its own words on an error page
// with its status, anything else as a logged 500.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, p *Page, err error) {
	var de *activation.Error
	if errors.As(err, &de) {
		c.renderStatus(w, r, p, status.Of(de.Kind), de.Message)
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	if code, _, msg, ok := status.Fault(err); ok { // the store logs it, once
		w.Header().Set("Retry-After", status.RetryAfter)
		c.renderStatus(w, r, p, code, msg)
		return
	}
	c.log.ErrorContext(r.Context(), "console request failed", "route", r.Pattern, "err", err)
	c.renderStatus(w, r, p, http.StatusInternalServerError, "Something went wrong; the server log has the details.")
}

func (c *Console) renderStatus(w http.ResponseWriter, r *http.Request, p *Page, status int, msg string) {
	if p.Title == "" {
		p.Title = http.StatusText(status)
	}
	p.Error = msg
	c.render(w, status, "error", p)
}

// render writes a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, p *Page) {
	t := c.pages[name]
	if t == nil {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout.html", p); err != nil {
		c.log.Error("rendering console page", "page", name, "err", err)
	}
}

// fieldError turns a domain error naming a field into the form's error;
// other errors are returned for fail.
func fieldError(p *Page, err error) error {
	var de *activation.Error
	if errors.As(err, &de) && (de.Kind == activation.KindInvalid || de.Kind == activation.KindConflict) {
		f := de.Field
		if f == "" {
			f = "_"
		}
		p.Fields[f] = de.Message
		p.Error = de.Message
		return nil
	}
	return err
}

// redirect answers with a redirect to to, whose page shows the text of
// the flash code f ("": none).
func redirect(w http.ResponseWriter, r *http.Request, to string, f flash) {
	if f != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "flash=" + url.QueryEscape(string(f))
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func when(t any) string {
	switch x := t.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format("2006-01-02 15:04:05 UTC")
	case *time.Time:
		if x == nil {
			return ""
		}
		return x.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return ""
}

func ago(t time.Time) string {
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func pct64(a, b int64) int64 {
	if b <= 0 {
		return 0
	}
	return a * 100 / b
}

func pct(a, b int) int {
	if b <= 0 {
		return 0
	}
	return a * 100 / b
}

// statusClass is the badge colour of a state, whatever it is the state of:
// an account's stage or status, a message's or an import's state, or a
// preview row's action.
func statusClass(state any) string {
	switch fmt.Sprint(state) {
	case model.StageActivated, model.MessageSent, model.MessageDelivered, string(model.ImportDone), "create":
		return "ok"
	case model.StatusDisabled, model.MessageFailed, "error":
		return "bad"
	case model.StageNew, string(model.ImportCancelled), "exists":
		return "muted"
	}
	return "mid"
}
