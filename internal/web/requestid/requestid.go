// Package requestid gives every HTTP request an id, carried in its context
// and echoed in the X-Request-Id header of its answer, and an slog handler
// that writes it on every log line made with that context, so one
// request's lines can be found together (docs/operations.md, "Logs").
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
)

// Header is the request and response header of the id.
const Header = "X-Request-Id"

// MaxLen bounds an id given by the client (or the proxy in front).
const MaxLen = 64

type key struct{}

// FromContext is the id of the request ctx belongs to; "" outside one.
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// WithID returns ctx carrying id.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// Acceptable says whether an incoming id may be kept: 1 to MaxLen
// letters, digits, '-', '_', '.' or ':'. Anything else (a long value, a
// space, a quote, a control character) could forge or bloat log lines, so
// it is replaced by a fresh id.
func Acceptable(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// New returns a fresh id: 16 random hex digits.
func New() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Middleware gives each request its id, the incoming X-Request-Id when
// Acceptable, else a fresh one, and sets it on the answer.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !Acceptable(id) {
			id = New()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(WithID(r.Context(), id)))
	})
}

// LogHandler wraps h so that a record logged with a request's context
// carries its id as request_id.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(logHandler); ok {
		return h
	}
	return logHandler{h}
}

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := FromContext(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler {
	return logHandler{l.Handler.WithGroup(name)}
}
