package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/web"
)

// readyTimeout bounds one readiness check: a database that takes longer
// to answer a one-row query is not one to send requests to.
const readyTimeout = 2 * time.Second

// readiness answers /readyz: the database answers and has this binary's
// schema. It logs when the answer changes, with the details the probe's
// short reason leaves out, not on every probe.
type readiness struct {
	store *store.Store
	log   *slog.Logger
	mu    sync.Mutex
	last  string // the reason given last; "" when ready
}

var (
	errUnreachable = errors.New("database unreachable")
	errSchema      = errors.New("database schema not up to date")
)

func (r *readiness) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	err := r.store.Ready(ctx)
	var short error
	switch {
	case err == nil:
	case errors.Is(err, store.ErrSchemaNotCurrent):
		short = errSchema
	default:
		short = errUnreachable
	}
	reason := ""
	if short != nil {
		reason = short.Error()
	}
	r.mu.Lock()
	changed := reason != r.last
	r.last = reason
	r.mu.Unlock()
	switch {
	case changed && err != nil:
		r.log.Warn("not ready", "reason", reason, "err", err)
	case changed:
		r.log.Info("ready again: the database answers")
	}
	return short
}

// listenOps binds the operations listener: /metrics with the health
// paths, for Prometheus and probes on an address the public never reaches.
func (a *App) listenOps(addr string, ready func(context.Context) error, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s (--metrics-listen): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	mux.HandleFunc("GET /healthz", web.Healthz)
	mux.HandleFunc("GET /readyz", web.Readyz(ready))
	a.opsLn = ln
	a.ops = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return nil
}
