package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver
)

// bulk writes many rows into one engine the fastest way it offers.
type bulk interface {
	db() *sql.DB
	// load writes the rows next fills in, until it returns false, into
	// table's cols, and says how many it wrote.
	load(ctx context.Context, table string, cols []string, next func(row []any) bool) (int64, error)
	maxID(ctx context.Context, table string) (int64, error)
	// finish leaves the database as the server expects to find it.
	finish(ctx context.Context, tables []string) error
	close()
}

func openBulk(ctx context.Context, dsn string) (bulk, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func maxID(ctx context.Context, db *sql.DB, table string) (int64, error) {
	var n sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(id) FROM `+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading the last id of %s: %w", table, err)
	}
	return n.Int64, nil
}

// sqliteBulk loads with multi-row INSERTs of anonymous parameters (SQLite
// looks $n up linearly) on one connection, each table in one transaction
// with the journal kept but not synced: a crash while generating loses
// that table's rows, nothing else.
type sqliteBulk struct{ conn *sql.DB }

func openSQLite(ctx context.Context, path string) (*sqliteBulk, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(OFF)", "foreign_keys(0)",
		"cache_size(-262144)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return &sqliteBulk{conn: db}, nil
}

func (b *sqliteBulk) db() *sql.DB { return b.conn }
func (b *sqliteBulk) close()      { b.conn.Close() }

func (b *sqliteBulk) maxID(ctx context.Context, table string) (int64, error) {
	return maxID(ctx, b.conn, table)
}

// index is a secondary index as its schema created it.
type index struct{ name, create string }

// withoutIndexes runs load with table's secondary indexes dropped, and
// makes them again from their own definitions after it, in tx: building an
// index once from sorted keys is many times faster than keeping it up to
// date row by row. Indexes behind UNIQUE and PRIMARY KEY constraints stay.
func withoutIndexes(list func() ([]index, error), exec func(string) error, load func() error) error {
	idx, err := list()
	if err != nil {
		return fmt.Errorf("listing indexes: %w", err)
	}
	for _, ix := range idx {
		if err := exec(`DROP INDEX ` + ix.name); err != nil {
			return fmt.Errorf("dropping index %s: %w", ix.name, err)
		}
	}
	if err := load(); err != nil {
		return err
	}
	for _, ix := range idx {
		if err := exec(ix.create); err != nil {
			return fmt.Errorf("making index %s again: %w", ix.name, err)
		}
	}
	return nil
}

func (b *sqliteBulk) load(ctx context.Context, table string, cols []string, next func(row []any) bool) (int64, error) {
	perStmt := min(500, 32000/len(cols))
	// OR IGNORE spares SQLite the statement journal a multi-row INSERT
	// that may abort halfway needs; a row it ignored is an error all the same.
	stmtFor := func(rows int) string {
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		return `INSERT OR IGNORE INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
	}
	exact := func(res sql.Result, err error, rows int) error {
		if err != nil {
			return fmt.Errorf("inserting into %s: %w", table, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(rows) {
			return fmt.Errorf("inserting into %s: %d of %d rows went in (a generated value is taken?): %v", table, n, rows, err)
		}
		return nil
	}
	tx, err := b.conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	list := func() ([]index, error) {
		rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []index
		for rows.Next() {
			var ix index
			if err := rows.Scan(&ix.name, &ix.create); err != nil {
				return nil, err
			}
			out = append(out, ix)
		}
		return out, rows.Err()
	}
	exec := func(q string) error { _, err := tx.ExecContext(ctx, q); return err }
	// The table's triggers (on accounts: its search index, migration
	// 0019, and its counts by status, migration 0012) are dropped too, and
	// what they keep is made again once from the loaded rows: row by row
	// they tripled the time a million accounts took. (On PostgreSQL the
	// search index is a GIN index on a stored column, dropped and made
	// again like the other indexes.)
	triggers, err := func() ([]index, error) {
		rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?`, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []index
		for rows.Next() {
			var tr index
			if err := rows.Scan(&tr.name, &tr.create); err != nil {
				return nil, err
			}
			out = append(out, tr)
		}
		return out, rows.Err()
	}()
	if err != nil {
		return 0, fmt.Errorf("listing the triggers of %s: %w", table, err)
	}
	for _, tr := range triggers {
		if err := exec(`DROP TRIGGER ` + tr.name); err != nil {
			return 0, fmt.Errorf("dropping trigger %s: %w", tr.name, err)
		}
	}
	restore := func() error {
		if len(triggers) == 0 {
			return nil
		}
		if table == "accounts" {
			for _, q := range []string{
				`INSERT INTO accounts_fts (accounts_fts) VALUES ('rebuild')`,
				`DELETE FROM account_counts`,
				`INSERT INTO account_counts (org_id, status, slot, n)
					SELECT org_id, CASE WHEN disabled THEN 'disabled' ELSE stage END, 0, COUNT(*) FROM accounts GROUP BY 1, 2`,
			} {
				if err := exec(q); err != nil {
					return fmt.Errorf("making what the accounts' triggers keep: %w", err)
				}
			}
		}
		for _, tr := range triggers {
			if err := exec(tr.create); err != nil {
				return fmt.Errorf("making trigger %s again: %w", tr.name, err)
			}
		}
		return nil
	}
	var n int64
	err = withoutIndexes(list, exec, func() error {
		full, err := tx.PrepareContext(ctx, stmtFor(perStmt))
		if err != nil {
			return fmt.Errorf("preparing the insert into %s: %w", table, err)
		}
		defer full.Close()
		for args := range batches(ctx, perStmt*len(cols), len(cols), next) {
			rows := len(args) / len(cols)
			var res sql.Result
			if rows == perStmt {
				res, err = full.ExecContext(ctx, args...)
			} else {
				res, err = tx.ExecContext(ctx, stmtFor(rows), args...)
			}
			if err := exact(res, err, rows); err != nil {
				return err
			}
			n += int64(rows)
		}
		return ctx.Err()
	})
	if err != nil {
		return n, err
	}
	if err := restore(); err != nil {
		return n, err
	}
	return n, tx.Commit()
}

// batches fills flat argument lists of size values (whole rows of cols)
// from next on a goroutine of its own, so that making the rows and
// inserting them share the machine's cores; the last may be shorter. It
// stops early when ctx ends or the caller stops ranging.
func batches(ctx context.Context, size, cols int, next func(row []any) bool) func(yield func([]any) bool) {
	return func(yield func([]any) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		full := make(chan []any, 2)
		free := make(chan []any, 3)
		for range cap(free) {
			free <- make([]any, 0, size)
		}
		go func() {
			defer close(full)
			row := make([]any, cols)
			for {
				var buf []any
				select {
				case buf = <-free:
				case <-ctx.Done():
					return
				}
				buf = buf[:0]
				more := true
				for len(buf) < size {
					if more = next(row); !more {
						break
					}
					buf = append(buf, row...)
				}
				if len(buf) > 0 {
					select {
					case full <- buf:
					case <-ctx.Done():
						return
					}
				}
				if !more {
					return
				}
			}
		}()
		for buf := range full {
			if !yield(buf) {
				return
			}
			free <- buf
		}
	}
}

func (b *sqliteBulk) finish(ctx context.Context, _ []string) error {
	// The journal goes back into the database file, so the server starts
	// on a small WAL.
	_, err := b.conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// postgresBulk loads with COPY (binary, through pgx) and sets the identity
// sequences past the ids it wrote.
type postgresBulk struct {
	conn *sql.DB
	pg   *pgx.Conn
}

func openPostgres(ctx context.Context, dsn string) (*postgresBulk, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening postgresql: %w", err)
	}
	pg, err := pgx.Connect(ctx, dsn)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to postgresql: %w", err)
	}
	return &postgresBulk{conn: db, pg: pg}, nil
}

func (b *postgresBulk) db() *sql.DB { return b.conn }

func (b *postgresBulk) close() {
	b.pg.Close(context.Background())
	b.conn.Close()
}

func (b *postgresBulk) maxID(ctx context.Context, table string) (int64, error) {
	return maxID(ctx, b.conn, table)
}

func (b *postgresBulk) load(ctx context.Context, table string, cols []string, next func(row []any) bool) (int64, error) {
	tx, err := b.pg.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	list := func() ([]index, error) {
		rows, err := tx.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
			WHERE i.schemaname = current_schema() AND i.tablename = $1
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []index
		for rows.Next() {
			var ix index
			if err := rows.Scan(&ix.name, &ix.create); err != nil {
				return nil, err
			}
			out = append(out, ix)
		}
		return out, rows.Err()
	}
	exec := func(q string) error { _, err := tx.Exec(ctx, q); return err }
	var n int64
	err = withoutIndexes(list, exec, func() error {
		row := make([]any, len(cols))
		// pgx encodes each row before it asks for the next, so one slice serves.
		n, err = tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if !next(row) {
				return nil, nil
			}
			return row, nil
		}))
		if err != nil {
			return fmt.Errorf("copying into %s: %w", table, err)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, tx.Commit(ctx)
}

func (b *postgresBulk) finish(ctx context.Context, tables []string) error {
	for _, t := range tables {
		if _, err := b.conn.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST((SELECT MAX(id) FROM `+t+`), 1))`, t); err != nil {
			return fmt.Errorf("moving the id sequence of %s: %w", t, err)
		}
	}
	// A database that grew to this size would have its statistics; a
	// freshly loaded one has none until autovacuum comes by.
	if _, err := b.conn.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyzing: %w", err)
	}
	return nil
}
