package store

import (
	"context"
	"encoding/json"
	"strings"
)

// OpenAt opens dsn with its schema brought up to version only, as the
// activator that had that schema left it, so a test can write rows the
// way that version did and then open the database with Open.
func OpenAt(ctx context.Context, dsn string, version int) (*Store, error) {
	return open(ctx, dsn, version)
}

// The listings' queries, for the tests that read their plans.
func AccountsQuery(s *Store, orgID int64, f AccountFilter) (string, []any) {
	return s.accountsQuery(orgID, f)
}
func ExportQuery(s *Store, orgID int64, f AccountFilter) (string, []any) {
	return s.exportQuery(orgID, f)
}
func MessagesQuery(s *Store, orgID int64, f MessageFilter) (string, []any) {
	return s.messagesQuery(orgID, f)
}
func AuditQuery(orgID int64, f AuditFilter) (string, []any) { return auditQuery(orgID, f) }
func OutboxQuery(orgID int64, p Page) (string, []any)       { return outboxQuery(orgID, p) }

const EventsQuery = eventsQuery

const AccountByUsernameQuery = accountByUsernameQuery

// Plan is the engine's plan of query, one node a line: SQLite's EXPLAIN
// QUERY PLAN details; on PostgreSQL, each node of EXPLAIN (FORMAT JSON) as
// "Node Type [using Index] [on Relation]", planned with the settings given
// (such as enable_seqscan = off, so that a table of a few rows is still
// read through an index when one serves the query).
func Plan(ctx context.Context, s *Store, query string, args []any, settings ...string) (string, error) {
	if s.dialect == SQLite {
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var (
				id, parent, unused int
				detail             string
			)
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return "", err
			}
			lines = append(lines, detail)
		}
		return strings.Join(lines, "\n"), rows.Err()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	for _, set := range settings {
		if _, err := tx.ExecContext(ctx, "SET LOCAL "+set); err != nil {
			return "", err
		}
	}
	var raw string
	if err := tx.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&raw); err != nil {
		return "", err
	}
	return planLines(raw)
}

// ClaimQuery is the statement that claims queued messages.
func ClaimQuery(s *Store) string {
	return s.claimQuery(`state = $4 AND next_attempt_at <= $3`, `next_attempt_at`)
}

// GenericPlan is PostgreSQL's generic plan of query (the one a prepared
// statement may settle on, planned without its arguments' values) with
// no sequential scans, its nodes as Plan gives them; types are its
// parameters' types.
func GenericPlan(ctx context.Context, s *Store, query, types string) (string, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Without sequential scans, as Plan's callers ask: a test's table is
	// small enough to read whole whatever the plan.
	for _, set := range []string{"plan_cache_mode = force_generic_plan", "enable_seqscan = off"} {
		if _, err := conn.ExecContext(ctx, "SET "+set); err != nil {
			return "", err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "RESET "+strings.Fields(set)[0])
	}
	if _, err := conn.ExecContext(ctx, "PREPARE generic_plan_probe("+types+") AS "+query); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DEALLOCATE generic_plan_probe")
	var raw string
	n := strings.Count(types, ",") + 1
	nulls := strings.TrimSuffix(strings.Repeat("NULL, ", n), ", ")
	if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) EXECUTE generic_plan_probe("+nulls+")").Scan(&raw); err != nil {
		return "", err
	}
	return planLines(raw)
}

// planLines are the nodes of PostgreSQL's EXPLAIN (FORMAT JSON) raw, a
// line each, with the index and table each reads.
func planLines(raw string) (string, error) {
	var doc []struct{ Plan pgPlan }
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return "", err
	}
	var lines []string
	var walk func(p pgPlan)
	walk = func(p pgPlan) {
		l := p.NodeType
		if p.IndexName != "" {
			l += " using " + p.IndexName
		}
		if p.RelationName != "" {
			l += " on " + p.RelationName
		}
		lines = append(lines, l)
		for _, c := range p.Plans {
			walk(c)
		}
	}
	for _, d := range doc {
		walk(d.Plan)
	}
	return strings.Join(lines, "\n"), nil
}

type pgPlan struct {
	NodeType     string   `json:"Node Type"`
	RelationName string   `json:"Relation Name"`
	IndexName    string   `json:"Index Name"`
	Plans        []pgPlan `json:"Plans"`
}

// SearchProbe is PostgreSQL's account search condition alone, for its plan.
func SearchProbe(text string) (string, []any) {
	r := &Reader{dialect: Postgres}
	return `SELECT a.id FROM accounts a WHERE a.search_terms @@ to_tsquery('pg_catalog.simple', $1)`, []any{r.searchMatch(searchWords(text))}
}

// MigrationCount is how many migrations the binary holds for d.
func MigrationCount(d Dialect) int {
	ms, _ := loadMigrations(d)
	return len(ms)
}

// OwnSharedCommit is the group of s's SharedTx.
func OwnSharedCommit(s *Store) *SharedCommit { return s.shared }
