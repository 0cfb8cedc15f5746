package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// AuditEntry is one operator action: who, when, what, on what, how it
// ended, and the target before and after (JSON, secrets already removed).
type AuditEntry struct {
	ID        int64
	At        time.Time
	Actor     string
	ActorRole model.Role
	Via       string // "api" or "console"
	// Source is the address the request came from (behind trusted
	// proxies, the client's); Credential what the actor was known by: an
	// API token (by its id), a console session, or "" for a form before
	// login.
	Source, Credential string
	Action             string // the route: "POST /api/v1/accounts"
	Target             string
	Status             int // the HTTP status of the answer
	Before             string
	After              string
}

// AddAudit appends to the audit log. Nothing changes or removes an entry:
// the database refuses it (migration 0010), and the store has no method
// that would try.
func (tx *Tx) AddAudit(ctx context.Context, orgID int64, e *AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now().UTC().Truncate(time.Millisecond)
	}
	id, err := tx.insertID(ctx, `INSERT INTO audit_log (org_id, at, actor, actor_role, via, action, target, status, before_json, after_json, source, credential)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		orgID, ms(e.At), e.Actor, e.ActorRole, e.Via, e.Action, e.Target, e.Status, e.Before, e.After, e.Source, e.Credential)
	e.ID = id
	return err
}

// AuditFilter narrows an audit listing.
type AuditFilter struct {
	Actor    string
	Action   string // part of the action
	Target   string // part of the target
	BeforeID int64  // only entries older than this id (the next page)
	AfterID  int64  // only entries newer than this id, the nearest first (the previous page)
	Limit    int
}

// Audit lists audit entries, newest first.
func (r *Reader) Audit(ctx context.Context, orgID int64, f AuditFilter) ([]AuditEntry, error) {
	out, _, err := r.AuditPage(ctx, orgID, f)
	return out, err
}

// AuditPage lists one page of audit entries, newest first, and where the
// pages beside it start.
func (r *Reader) AuditPage(ctx context.Context, orgID int64, f AuditFilter) ([]AuditEntry, PageInfo, error) {
	q, a := auditQuery(orgID, f)
	rows, err := r.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, PageInfo{}, fmt.Errorf("reading the audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var (
			e  AuditEntry
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorRole, &e.Via, &e.Action, &e.Target, &e.Status, &e.Before, &e.After, &e.Source, &e.Credential); err != nil {
			return nil, PageInfo{}, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, PageInfo{}, fmt.Errorf("reading the audit log: %w", err)
	}
	out, info := finish(Page{Limit: f.Limit, Before: f.BeforeID, After: f.AfterID}, out, func(e AuditEntry) int64 { return e.ID })
	return out, info, nil
}

func auditQuery(orgID int64, f AuditFilter) (string, []any) {
	var a args
	where := []string{"org_id = " + a.add(orgID)}
	if f.Actor != "" {
		where = append(where, "actor = "+a.add(f.Actor))
	}
	if f.Action != "" {
		where = append(where, "action LIKE "+a.add("%"+likeEscape(f.Action)+"%")+` ESCAPE '\'`)
	}
	if f.Target != "" {
		where = append(where, "target LIKE "+a.add("%"+likeEscape(f.Target)+"%")+` ESCAPE '\'`)
	}
	cond, tail := Page{Limit: f.Limit, Before: f.BeforeID, After: f.AfterID}.clause("id", a.add)
	if cond != "" {
		where = append(where, cond)
	}
	return `SELECT id, at, actor, actor_role, via, action, target, status, before_json, after_json, source, credential
		FROM audit_log WHERE ` + strings.Join(where, " AND ") + tail, a
}

// likeEscape makes s match itself in a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
