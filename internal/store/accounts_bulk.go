package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// The import's queries on the accounts table: the keys it matches rows
// on, and multi-row inserts.

// AccountKey is what an import matches existing accounts on.
type AccountKey struct {
	ID            int64
	Username      string
	VirtualNumber string
	Mobile        string
	Email         string // lower case
	DisplayName   string
	GroupID       int64
}

// AccountKeys reads the matching keys of every account of an organisation.
func (r *Reader) AccountKeys(ctx context.Context, orgID int64) ([]AccountKey, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, username, virtual_number, mobile, LOWER(email), display_name, group_id
		FROM accounts WHERE org_id = $1`, orgID)
	if err != nil {
		return nil, fmt.Errorf("reading account keys: %w", err)
	}
	defer rows.Close()
	var out []AccountKey
	for rows.Next() {
		var k AccountKey
		if err := rows.Scan(&k.ID, &k.Username, &k.VirtualNumber, &k.Mobile, &k.Email, &k.DisplayName, &k.GroupID); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// importChunk is how many accounts (and then their events) one multi-row
// INSERT writes: an import's batch of 1,000 in one statement each, 16,000
// bound parameters, under both engines' limits (SQLite 32766, PostgreSQL
// 65535). Fewer, larger statements are what makes the import's writes
// near a raw INSERT's speed.
const importChunk = 1000

// InsertAccounts inserts many new accounts with their "created" events, in
// multi-row statements. Each row's ID is filled in.
func (tx *Tx) InsertAccounts(ctx context.Context, rows []*AccountRow, actor string, eventDetail func(*AccountRow) string) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	for start := 0; start < len(rows); start += importChunk {
		chunk := rows[start:min(start+importChunk, len(rows))]
		var (
			sb   strings.Builder
			args []any
		)
		sb.WriteString(`INSERT INTO accounts (org_id, group_id, username, display_name, email, mobile, security_model,
			profile_id, virtual_number, language, description, kind, stage, disabled, created_at, updated_at) VALUES `)
		for i, a := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			tx.placeholders(&sb, len(args), 16)
			args = append(args, a.OrgID, a.GroupID, a.Username, a.DisplayName, a.Email, a.Mobile, string(a.SecurityModel),
				a.ProfileID, a.VirtualNumber, a.Language, a.Description, a.Kind, a.Stage, a.Disabled, ms(now), ms(now))
		}
		sb.WriteString(" RETURNING id, username")
		res, err := tx.q.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return mapErr(err)
		}
		byUser := make(map[string]int64, len(chunk))
		for res.Next() {
			var (
				id int64
				u  string
			)
			if err := res.Scan(&id, &u); err != nil {
				res.Close()
				return err
			}
			byUser[u] = id
		}
		if err := res.Close(); err != nil {
			return mapErr(err)
		}
		if err := res.Err(); err != nil {
			return mapErr(err)
		}
		sb.Reset()
		args = args[:0]
		sb.WriteString(`INSERT INTO events (org_id, account_id, kind, at, actor, detail) VALUES `)
		for i, a := range chunk {
			a.ID = byUser[a.Username]
			a.CreatedAt, a.UpdatedAt = now, now
			a.Derive()
			if i > 0 {
				sb.WriteString(", ")
			}
			tx.placeholders(&sb, len(args), 6)
			args = append(args, a.OrgID, a.ID, model.EventCreated, ms(now), actor, eventDetail(a))
		}
		if _, err := tx.exec(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// placeholders writes "(p1, ..., pn)" for n parameters after the first
// `from`. SQLite gets anonymous "?": it looks named ones ($1) up by a linear
// search per parameter, which makes a statement of thousands of them
// quadratic; PostgreSQL needs $n.
func (tx *Tx) placeholders(sb *strings.Builder, from, n int) {
	sb.WriteByte('(')
	for i := 1; i <= n; i++ {
		if i > 1 {
			sb.WriteString(", ")
		}
		if tx.dialect == SQLite {
			sb.WriteByte('?')
		} else {
			fmt.Fprintf(sb, "$%d", from+i)
		}
	}
	sb.WriteByte(')')
}
