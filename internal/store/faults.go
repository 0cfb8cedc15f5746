package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrUnavailable means the database cannot be reached or refuses work for
// now (PostgreSQL stopped, restarting, out of connections): the request
// may succeed when tried again, without anything changed on activator's
// side.
var ErrUnavailable = errors.New("the database is unavailable")

// ErrDiskFull means the disk holding the database is full: reads still
// work, writes fail until space is made.
var ErrDiskFull = errors.New("the database's disk is full")

// FaultError is a database fault, not a fault of the request: Kind is
// ErrUnavailable or ErrDiskFull, and errors.Is finds both Kind and the
// driver's error. Its message names the database (its host or its file's
// folder), never a password.
type FaultError struct {
	Kind  error
	Where string // "postgresql at 127.0.0.1:5432", "the disk of /var/lib/activator"
	Err   error
}

func (e *FaultError) Error() string {
	if e.Kind == ErrDiskFull {
		return fmt.Sprintf("%s is full: %v", e.Where, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Kind, e.Where, e.Err)
}

func (e *FaultError) Unwrap() []error { return []error{e.Kind, e.Err} }

// faultKind says whether err is a database fault, and which: the one place
// that tells "the database is away" and "the disk is full" from the
// request's own errors. Cancelled requests are not faults.
func faultKind(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	var fe *FaultError
	if errors.As(err, &fe) {
		return fe.Kind
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "53100": // disk_full
			return ErrDiskFull
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutting down, crashed, starting
			pgErr.Code == "53300", pgErr.Code == "53200": // too many connections, out of memory
			return ErrUnavailable
		}
		return nil
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_FULL:
			return ErrDiskFull
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			if errors.Is(err, syscall.ENOSPC) || sqErr.Code() == sqlite3.SQLITE_IOERR_WRITE {
				return ErrDiskFull
			}
			return ErrUnavailable
		}
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) {
		return ErrDiskFull
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ErrUnavailable
	}
	// pgx reports a connection it lost under a query as "conn closed".
	if msg := err.Error(); strings.Contains(msg, "conn closed") || strings.Contains(msg, "conn busy") {
		return ErrUnavailable
	}
	return nil
}

// health turns driver errors into FaultErrors and logs each fault once:
// when it starts, and when the database works again, not once per request.
type health struct {
	log   *slog.Logger
	where map[error]string // by fault kind: what the message names

	faulty atomic.Bool // some fault is going on: successes take the lock only then
	mu     sync.Mutex
	since  map[error]time.Time // the faults going on, by kind, since when
	last   map[error]time.Time // when each was last met

	errs atomic.Uint64 // database errors (isDatabaseError), for Stats
}

// faultQuiet is how long a fault must go unseen before a success ends it:
// a nearly full disk lets small writes through between failing ones, and
// a stopping PostgreSQL finishes some queries while it refuses others;
// each flip would otherwise log again.
const faultQuiet = 5 * time.Second

func newHealth(log *slog.Logger, d Dialect, dsn string) *health {
	h := &health{log: log, since: map[error]time.Time{}, last: map[error]time.Time{}}
	if d == Postgres {
		host := "postgresql"
		if cfg, err := pgconn.ParseConfig(dsn); err == nil {
			host = fmt.Sprintf("postgresql at %s:%d", cfg.Host, cfg.Port)
		}
		h.where = map[error]string{ErrUnavailable: host, ErrDiskFull: "the disk of " + host}
	} else {
		dir, _ := filepath.Abs(filepath.Dir(dsn))
		h.where = map[error]string{ErrUnavailable: "the sqlite database in " + dir, ErrDiskFull: "the disk holding " + dir}
	}
	return h
}

// observe classifies err (nil: a success) and returns it, a FaultError
// when it is one. Any success ends an unreachable database, and only a
// committed write a full disk, since reads work on a full disk; either
// once faultQuiet has passed since the fault was last met.
func (h *health) observe(err error) error { return h.observeOp(err, false) }

// observeCommit is observe for a transaction's commit.
func (h *health) observeCommit(err error) error { return h.observeOp(err, true) }

func (h *health) observeOp(err error, commit bool) error {
	if h == nil {
		return err
	}
	if isDatabaseError(err) {
		h.errs.Add(1)
	}
	kind := faultKind(err)
	if err != nil && kind == nil {
		return err // the request's own error: it says nothing of the database
	}
	if kind == nil && !h.faulty.Load() {
		return nil
	}
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if kind == nil {
		for k, since := range h.since {
			if (k == ErrUnavailable || commit) && now.Sub(h.last[k]) >= faultQuiet {
				delete(h.since, k)
				h.faulty.Store(len(h.since) > 0)
				h.log.Warn("the database works again", "was", k.Error(), "where", h.where[k], "for", now.Sub(since).Round(time.Second))
			}
		}
		return nil
	}
	var fe *FaultError
	if !errors.As(err, &fe) {
		fe = &FaultError{Kind: kind, Where: h.where[kind], Err: err}
	}
	h.last[kind] = now
	h.faulty.Store(true)
	if _, ok := h.since[kind]; !ok {
		h.since[kind] = now
		h.log.Error(kind.Error()+"; requests that need it answer 503 (507 for a full disk) until it works again",
			"where", fe.Where, "err", fe.Err)
	}
	return fe
}

// faultQ runs queries on q and passes every outcome through health.
type faultQ struct {
	q querier
	h *health
}

func (f faultQ) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := f.q.ExecContext(ctx, query, args...)
	return res, f.h.observe(err)
}

func (f faultQ) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := f.q.QueryContext(ctx, query, args...)
	return rows, f.h.observe(err)
}

func (f faultQ) QueryRowContext(ctx context.Context, query string, args ...any) *row {
	return &row{r: f.q.QueryRowContext(ctx, query, args...), h: f.h}
}

// row is a *sql.Row whose Scan error passes through health.
type row struct {
	r *sql.Row
	h *health
}

// Scan copies the row's columns into dest, like sql.Row.Scan.
func (r *row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return r.h.observe(err)
}
