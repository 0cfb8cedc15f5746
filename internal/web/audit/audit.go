// Package audit is the one audit path of the admin API (internal/web) and
// the console (internal/web/console): one table naming what each route
// changes, and one wrapper that snapshots the target before a mutating
// request, runs it, snapshots the target after and writes one audit_log row
// with the answer's status. A new route is audited without anyone
// remembering to; a test walks both route tables to keep the table whole.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/activation"
)

// TargetKind is a kind of thing an operator changes: the first part of an
// audit entry's target.
type TargetKind struct {
	// Name is the kind in audit targets (account:1234567890) and for
	// activation.Snapshots.Take.
	Name string
	// KeyField is the field of a create answer (JSON) that names what it
	// made, for routes whose path does not name it.
	KeyField string
	// NoSnapshot says why the kind has no before and after; empty when
	// Snapshots.Take reads it.
	NoSnapshot string
}

// targetKinds maps a route's first path segment after its surface's
// prefix (/api/v1/ or /console/) to the kind of thing it changes.
var targetKinds = map[string]TargetKind{
	"accounts":  {Name: "account", KeyField: "username"},
	"groups":    {Name: "group", KeyField: "name"},
	"profiles":  {Name: "profile", KeyField: "name"},
	"settings":  {Name: "setting", KeyField: "key"},
	"templates": {Name: "template", KeyField: "key"},
	"apps":      {Name: "app", KeyField: "platform"},
	"downloads": {Name: "app", KeyField: "platform"}, // the console's page of download URLs
	"operators": {Name: "operator", KeyField: "name"},
	"tokens":    {Name: "token", KeyField: "id"},
	"imports":   {Name: "import", KeyField: "id"},
	"import":    {Name: "import", KeyField: "id"}, // the console's upload form
	"gateways":  {Name: "gateway", KeyField: "name"},
	"orgs":      {Name: "organisation", KeyField: "slug"},
	"exports": {Name: "export", KeyField: "id", NoSnapshot: "an export job changes nothing but its own row: the entry's action " +
		"and the job's filter (GET /api/v1/exports/{id}) say what was exported"},
	"logout": {Name: "session", NoSnapshot: "a session is a cookie's hash and an expiry: nothing to read before or after; " +
		"the entry's actor and action say who logged out"},
}

// TargetKinds is the table: first path segment to target kind. For tests.
func TargetKinds() map[string]TargetKind { return maps.Clone(targetKinds) }

// Auditor writes the audit log of one surface.
type Auditor struct {
	entries   *activation.Audit
	snapshots *activation.Snapshots
	log       *slog.Logger
	via       string // the entries' via: api or console
	prefix    string // the surface's routes' common prefix
}

// New returns the auditor of the surface via ("api", "console") whose
// route patterns start with prefix: it reads targets through snapshots
// and writes entries to entries.
func New(entries *activation.Audit, snapshots *activation.Snapshots, log *slog.Logger, via, prefix string) *Auditor {
	return &Auditor{entries: entries, snapshots: snapshots, log: log, via: via, prefix: prefix}
}

// TargetKindOf finds what a route pattern changes: the target kind from
// its first path segment, and the wildcard naming the target (its first;
// "" when the path has none). ok is false when the table has no entry for
// the segment.
func (a *Auditor) TargetKindOf(pattern string) (k TargetKind, wildcard string, ok bool) {
	rest, found := strings.CutPrefix(pattern, a.prefix)
	if !found {
		return TargetKind{}, "", false
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	k, ok = targetKinds[segs[0]]
	if !ok {
		k = TargetKind{Name: segs[0]} // still written, under its segment
	}
	for _, sg := range segs[1:] {
		if strings.HasPrefix(sg, "{") && strings.HasSuffix(sg, "}") {
			return k, strings.TrimSuffix(strings.Trim(sg, "{}"), "..."), ok
		}
	}
	return k, "", ok
}

// target is the target kind and key of a request on a route.
func (a *Auditor) target(r *http.Request, pattern string) (TargetKind, string) {
	k, wildcard, _ := a.TargetKindOf(pattern)
	if wildcard == "" {
		return k, ""
	}
	return k, r.PathValue(wildcard)
}

// Run runs a mutating request and writes its audit entry: who, the route,
// its target, the answer's status, and the target before and after
// (secrets removed by activation.Audit.Add). h runs the handler on w, answering
// errors itself, and returns the key of what it created when the path
// does not name it; "" looks for the kind's KeyField in a JSON answer.
func (a *Auditor) Run(w http.ResponseWriter, r *http.Request, by activation.Caller, method, pattern string, h func(w http.ResponseWriter) (created string)) {
	ctx := r.Context()
	k, key := a.target(r, pattern)
	var before []byte
	if key != "" {
		before = a.snapshot(ctx, k, key, by)
	}
	cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
	created := h(cw)
	var after []byte
	if cw.status < 400 { // done: a 2xx answer, or the console's redirect after a post
		if key == "" {
			key = created
		}
		if key == "" {
			key = KeyFromJSON(cw.buf.Bytes(), k.KeyField)
		}
		if key != "" {
			after = a.snapshot(ctx, k, key, by)
		}
		if after == nil && method != http.MethodDelete {
			after = cw.buf.Bytes() // kept if JSON, secrets removed
		}
	}
	a.write(ctx, by, method, pattern, k.Name, key, cw.status, before, after)
}

// Denied records a mutating request refused for its caller's role.
func (a *Auditor) Denied(r *http.Request, by activation.Caller, method, pattern string) {
	if method == http.MethodGet {
		return
	}
	k, key := a.target(r, pattern)
	a.write(r.Context(), by, method, pattern, k.Name, key, http.StatusForbidden, nil, nil)
}

// Record writes an entry a handler words itself: for the routes before
// login (logging in, setting a password), where only the handler knows
// who the caller is and what the target is called.
func (a *Auditor) Record(r *http.Request, by activation.Caller, method, pattern, kind, key string, status int) {
	a.write(r.Context(), by, method, pattern, kind, key, status, nil, nil)
}

func (a *Auditor) snapshot(ctx context.Context, k TargetKind, key string, by activation.Caller) []byte {
	if k.NoSnapshot != "" {
		return nil
	}
	b, err := a.snapshots.Take(ctx, k.Name, key, by)
	var de *activation.Error
	if err != nil && !(errors.As(err, &de) && de.Kind == activation.KindNotFound) {
		a.log.ErrorContext(ctx, "reading an audit target", "kind", k.Name, "err", err)
	}
	return b
}

func (a *Auditor) write(ctx context.Context, by activation.Caller, method, pattern, kind, key string, status int, before, after []byte) {
	target := kind
	if key != "" {
		target += ":" + key
	}
	route := method + " " + pattern
	if err := a.entries.Add(context.WithoutCancel(ctx), by, SourceOf(ctx), a.via, route, target, status, before, after); err != nil {
		a.log.ErrorContext(ctx, "writing the audit log", "route", route, "err", err)
	}
}

type sourceKey struct{}

// WithSource returns ctx carrying the address a request came from, which
// the server finds before routing (behind trusted proxies, the client's):
// every audit entry written in ctx keeps it.
func WithSource(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, sourceKey{}, addr)
}

// SourceOf is the address WithSource put in ctx, "" when none.
func SourceOf(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

// KeyFromJSON finds the name of what a create answer describes, for the
// audit target: the field named, at the top or one level down.
func KeyFromJSON(body []byte, field string) string {
	var v map[string]any
	if field == "" || json.Unmarshal(body, &v) != nil {
		return ""
	}
	find := func(m map[string]any) string {
		switch x := m[field].(type) {
		case string:
			return x
		case float64:
			return strconv.FormatInt(int64(x), 10)
		}
		return ""
	}
	if k := find(v); k != "" {
		return k
	}
	for _, x := range v {
		if m, ok := x.(map[string]any); ok {
			if k := find(m); k != "" {
				return k
			}
		}
	}
	return ""
}

// captureWriter notes the status and keeps the start of an answer for the
// audit log while passing it through.
type captureWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

const captureMax = 64 << 10

func (w *captureWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.buf.Len() < captureMax {
		w.buf.Write(b[:min(len(b), captureMax-w.buf.Len())])
	}
	return w.ResponseWriter.Write(b)
}
