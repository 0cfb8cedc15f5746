// Package store is activator's only place for SQL. One Store type serves both
// dialects: SQLite (embedded default) and PostgreSQL (several instances
// sharing one database). Reads run anywhere; every write runs inside Tx, which
// on SQLite also holds a process-wide write lock so writers queue in Go
// instead of spinning on SQLite's busy handler.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names a database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound means the row asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrInUse means a row cannot be deleted while others refer to it.
var ErrInUse = errors.New("still in use")

// ConflictError means a unique value is already taken.
type ConflictError struct{ Column string }

func (e *ConflictError) Error() string { return e.Column + " is already taken" }

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Reader runs the read queries; Store and Tx both have them.
type Reader struct {
	q       faultQ
	dialect Dialect
}

// Tx is a write transaction: the only way to change rows.
type Tx struct {
	Reader
}

// Store is the database.
type Store struct {
	Reader
	db      *sql.DB
	writeMu *sync.Mutex   // SQLite only: one writer at a time, queued in Go
	stmts   *stmtCache    // SQLite only: statements prepared once
	shared  *SharedCommit // the writes of SharedTx, committed together
	dsn     string        // PostgreSQL only: for connections outside the pool (ListenMessages)
	health  *health       // classifies database faults and logs each once
}

// Option changes how Open opens a store.
type Option func(*options)

type options struct{ log *slog.Logger }

// WithLog has the store log, once each, the faults of its database (it
// stopped answering, its disk is full) and their end.
func WithLog(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// Open connects to dsn and brings its schema up to date. dsn is a PostgreSQL
// URL (postgres:// or postgresql://) or a path to an SQLite file.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	return open(ctx, dsn, 0, opts...)
}

// open is Open with the schema brought up to version upTo (0: the newest).
func open(ctx context.Context, dsn string, upTo int, opts ...Option) (*Store, error) {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	var (
		db      *sql.DB
		dialect Dialect
		err     error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		dialect = Postgres
		db, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("opening postgresql: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		dialect = SQLite
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("creating database folder: %w", err)
			}
		}
		if err := createPrivate(dsn); err != nil {
			return nil, err
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		db, err = sql.Open("sqlite", "file:"+dsn+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("opening sqlite: %w", err)
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	if err := ping(ctx, db, dialect); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the %s database: %w", dialect, err)
	}
	h := newHealth(o.log, dialect, dsn)
	s := &Store{Reader: Reader{q: faultQ{db, h}, dialect: dialect}, db: db, health: h}
	s.shared = NewSharedCommit(s)
	if dialect == Postgres {
		s.dsn = dsn
	}
	if dialect == SQLite {
		s.writeMu = &sync.Mutex{}
		s.stmts = newStmtCache(db)
		s.Reader.q = faultQ{cachedDB{s.stmts}, h}
	}
	if err := s.migrate(ctx, upTo); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// ping opens the first connection. On SQLite that connection turns a new
// file to WAL, which needs the file to itself: SQLite answers busy at once,
// without waiting out busy_timeout, when another process or store is doing
// the same (it would deadlock otherwise), so a busy answer is tried again
// for as long as busy_timeout would have waited.
func ping(ctx context.Context, db *sql.DB, dialect Dialect) error {
	err := db.PingContext(ctx)
	if dialect != SQLite {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for wait := 5 * time.Millisecond; isBusy(err) && time.Now().Before(deadline); wait = min(2*wait, 200*time.Millisecond) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		err = db.PingContext(ctx)
	}
	return err
}

// isBusy tells whether SQLite answered that another connection holds the
// lock it needs.
func isBusy(err error) bool {
	var sqErr *sqlite.Error
	return errors.As(err, &sqErr) && sqErr.Code()&0xff == sqlite3.SQLITE_BUSY
}

// createPrivate makes the SQLite file readable by its owner only before
// SQLite opens it: SQLite creates its -wal and -shm files with the
// database file's mode, so they are private too. An existing file is made
// private as well, whoever created it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("creating the database file: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("making %s private: %w", p, err)
		}
	}
	return nil
}

// Dialect tells which engine the store runs on.
func (r *Reader) Dialect() Dialect { return r.dialect }

// Close closes the database.
func (s *Store) Close() error {
	if s.stmts != nil {
		s.stmts.close()
	}
	return s.db.Close()
}

// Tx runs fn in a transaction, committed when fn returns nil.
func (s *Store) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.writeMu != nil {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", s.health.observe(err))
	}
	var q querier = sqlTx
	if s.stmts != nil {
		q = cachedTx{tx: sqlTx, c: s.stmts}
	}
	if err := fn(&Tx{Reader{q: faultQ{q, s.health}, dialect: s.dialect}}); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := s.health.observeCommit(mapErr(sqlTx.Commit())); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

// mapErr turns driver errors the domain must tell apart into ours.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &ConflictError{Column: lastColumn(pgErr.Detail)}
		case "23503":
			return ErrInUse
		}
		return err
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &ConflictError{Column: lastColumn(sqErr.Error())}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return ErrInUse
		}
	}
	return err
}

// lastColumn finds the last column named in a unique-violation message:
// PostgreSQL's "Key (org_id, name)=(1, x) already exists." or SQLite's
// "UNIQUE constraint failed: groups.org_id, groups.name".
func lastColumn(msg string) string {
	if i := strings.Index(msg, "Key ("); i >= 0 {
		rest := msg[i+5:]
		if j := strings.Index(rest, ")"); j >= 0 {
			cols := strings.Split(rest[:j], ",")
			return strings.TrimSpace(cols[len(cols)-1])
		}
	}
	if i := strings.Index(msg, "failed: "); i >= 0 {
		cols := strings.Split(msg[i+8:], ",")
		last := strings.TrimSpace(cols[len(cols)-1])
		if k := strings.LastIndex(last, "."); k >= 0 {
			last = last[k+1:]
		}
		if k := strings.IndexAny(last, " ("); k >= 0 {
			last = last[:k]
		}
		return last
	}
	return "value"
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// exec runs a write and maps its errors.
func (r *Reader) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := r.q.ExecContext(ctx, query, args...)
	return res, mapErr(err)
}

// execOne runs a write that must touch exactly one row.
func (r *Reader) execOne(ctx context.Context, query string, args ...any) error {
	res, err := r.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// insertID runs an INSERT ... RETURNING id.
func (r *Reader) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := r.q.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, mapErr(err)
}

// ExecRaw runs a statement as given. It exists for tests and maintenance
// commands that need a statement the store does not name.
func (tx *Tx) ExecRaw(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.exec(ctx, query, args...)
}
