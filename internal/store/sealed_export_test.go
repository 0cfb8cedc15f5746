package store

import (
	"context"
	"strings"
)

// BinaryColumns lists every binary column of the schema (BLOB on SQLite,
// BYTEA on PostgreSQL) as table.column, for the test that keeps
// SealedColumns whole.
func (s *Store) BinaryColumns(ctx context.Context) ([]string, error) {
	q := `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'bytea'`
	if s.dialect == SQLite {
		q = `SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND upper(p.type) = 'BLOB'
			AND NOT EXISTS (SELECT 1 FROM sqlite_master v -- a virtual table's own tables (the FTS5 search index)
				WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' AND m.name LIKE v.name || '\_%' ESCAPE '\')`
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, strings.ToLower(c))
	}
	return out, rows.Err()
}
