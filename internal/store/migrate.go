package store

import (
	"context"
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
// Numbers may be skipped: migrations written at the same time take their
// numbers in advance, so a binary can hold 0009 before 0005 exists. A
// migration is applied when its own number is missing from
// schema_migrations, not only when it is above the highest one applied.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	migrations, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	for _, m := range migrations {
		if upTo > 0 && m.version > upTo {
			break
		}
		err := s.Tx(ctx, func(tx *Tx) error {
			if s.dialect == Postgres {
				if _, err := tx.q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
					return fmt.Errorf("taking the migration lock: %w", err)
				}
			}
			applied, err := appliedMigrations(ctx, tx.q, migrations)
			if err != nil || applied[m.version] {
				return err
			}
			if _, err := tx.q.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("applying migration %s: %w", m.name, err)
			}
			_, err = tx.q.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, ms(time.Now()))
			return err
		})
		if err != nil {
			return err
		}
	}
	// A database newer than the binary has no migration to run above; check it anyway.
	_, err = appliedMigrations(ctx, s.db, migrations)
	return err
}

// appliedMigrations reads the versions the database has, refusing one
// this binary does not know: that schema is newer than the binary.
func appliedMigrations(ctx context.Context, q querier, known []migration) (map[int]bool, error) {
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
