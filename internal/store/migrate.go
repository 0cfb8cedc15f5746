package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// migrationLockKey serialises migrations across instances on PostgreSQL.
const migrationLockKey = 0x61637469766174 // "activat"

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(d Dialect) ([]migration, error) {
	dir := "migrations/" + string(d)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", name)
		}
		body, err := fs.ReadFile(migrationFS, dir+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", name, err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version < 1 || i > 0 && m.version == out[i-1].version {
			return nil, fmt.Errorf("migrations: %s: want a number of its own, from 1", m.name)
		}
	}
	return out, nil
}

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion(d Dialect) int {
	ms, err := loadMigrations(d)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies every migration the database lacks, each in its own
// transaction and in the order of their numbers, and refuses a database
// whose schema is newer than the binary: one with a migration the binary
// does not know. upTo > 0 stops after that version (the store's tests make
// a database as an earlier version left it).
//
// On PostgreSQL the whole of it, the creation of schema_migrations
// included, runs on one connection holding an advisory lock, so instances
// that start together migrate one after the other: the first applies what
// is missing, the others find it applied.
//
// Numbers may be skipped: migrations written at the same time take their
// numbers in advance, so a binary can hold 0009 before 0005 exists. A
// migration is applied when its own number is missing from
// schema_migrations, not only when it is above the highest one applied.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	migrations, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	var conn interface {
		rowsQuerier
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
	} = s.db
	if s.dialect == Postgres {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("connecting to migrate: %w", err)
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
			return fmt.Errorf("taking the migration lock: %w", err)
		}
		// Unlocked before the connection goes back to the pool; closing
		// the connection would free it too.
		defer c.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
		conn = c
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	if _, err := appliedMigrations(ctx, conn, migrations); err != nil {
		return err
	}
	for _, m := range migrations {
		if upTo > 0 && m.version > upTo {
			break
		}
		if s.dialect == SQLite && strings.HasPrefix(m.sql, foreignKeysOff) {
			if err := s.applyWithoutForeignKeys(ctx, m, migrations); err != nil {
				return err
			}
			continue
		}
		if err := applyMigration(ctx, conn, m, migrations, nil); err != nil {
			return err
		}
	}
	return nil
}

// foreignKeysOff starts an SQLite migration that rebuilds a table others
// refer to: dropping the old table with foreign keys on would run the
// others' ON DELETE actions (SQLite's "other kinds of table schema
// changes" procedure).
const foreignKeysOff = "-- activator: foreign keys off\n"

// applyWithoutForeignKeys applies an SQLite migration on a connection of
// its own with foreign keys off (a pragma that cannot change inside a
// transaction), checks them before committing, and turns them on again
// before the connection goes back to the pool.
func (s *Store) applyWithoutForeignKeys(ctx context.Context, m migration, known []migration) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting to apply migration %s: %w", m.name, err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("applying migration %s: %w", m.name, err)
	}
	defer c.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	return applyMigration(ctx, c, m, known, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			var table string
			var rowid sql.NullInt64
			var parent string
			var fk int
			if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
				return err
			}
			return fmt.Errorf("a row of %s (rowid %d) refers to no row of %s", table, rowid.Int64, parent)
		}
		return rows.Err()
	})
}

// applyMigration applies one migration in a transaction of its own, unless
// another instance applied it meanwhile; check, when given, runs before
// the commit.
func applyMigration(ctx context.Context, conn interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}, m migration, known []migration, check func(*sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("applying migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	// Read again in the transaction, which holds SQLite's write lock:
	// another process that opened the file at the same time may have
	// applied it meanwhile.
	applied, err := appliedMigrations(ctx, tx, known)
	if err != nil || applied[m.version] {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("applying migration %s: %w", m.name, err)
	}
	if check != nil {
		if err := check(tx); err != nil {
			return fmt.Errorf("applying migration %s: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, ms(time.Now())); err != nil {
		return fmt.Errorf("recording migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing migration %s: %w", m.name, err)
	}
	return nil
}

type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// appliedMigrations reads the versions the database has, refusing one
// this binary does not know: that schema is newer than the binary.
func appliedMigrations(ctx context.Context, q rowsQuerier, known []migration) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("reading schema version: %w", err)
	}
	defer rows.Close()
	ours := map[int]bool{}
	for _, m := range known {
		ours[m.version] = true
	}
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading schema version: %w", err)
		}
		if !ours[v] {
			return nil, fmt.Errorf("the database schema is newer than this activator: it has migration %d, which this activator does not know; upgrade activator", v)
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// ErrSchemaNotCurrent means the database lacks a migration this binary
// knows, or has one it does not know: another binary's schema.
var ErrSchemaNotCurrent = errors.New("the database schema is not the one this activator migrates to")

// Ready says whether the database answers and has exactly the migrations
// this binary knows: one short query, for a readiness probe. A failure is
// a connection error or ErrSchemaNotCurrent, wrapped.
func (s *Store) Ready(ctx context.Context) error {
	migrations, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	rows, err := s.q.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("reading the schema version: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	for _, m := range migrations {
		if !applied[m.version] {
			return fmt.Errorf("%w: migration %s is not applied", ErrSchemaNotCurrent, m.name)
		}
		delete(applied, m.version)
	}
	for v := range applied {
		return fmt.Errorf("%w: it has migration %d, which this activator does not know", ErrSchemaNotCurrent, v)
	}
	return nil
}

// bootstrapLockKey serialises first starts across instances on PostgreSQL.
const bootstrapLockKey = migrationLockKey + 1

// LockBootstrap holds, until the transaction ends, the lock that makes
// instances starting together on one PostgreSQL database make the first
// start's rows (default organisation, profile, keys, admin token) one
// after the other: the first makes them, the others find them. On SQLite
// the transaction's write lock does the same.
func (tx *Tx) LockBootstrap(ctx context.Context) error {
	if tx.dialect != Postgres {
		return nil
	}
	if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, bootstrapLockKey); err != nil {
		return fmt.Errorf("taking the first-start lock: %w", err)
	}
	return nil
}
