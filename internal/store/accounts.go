package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// AccountRow is an account with what only the domain may see: its SIP
// secrets. It is never encoded as JSON; model.Account is what leaves.
type AccountRow struct {
	model.Account
	OrgID       int64
	SIPPassword []byte // sealed
	HA1MD5      string
	HA1SHA256   string
}

const accountCols = `a.id, a.org_id, a.group_id, g.name, a.username, a.display_name, a.email, a.mobile, a.security_model,
	a.profile_id, COALESCE(p.name, ''), a.virtual_number, a.language, a.description, a.kind, a.stage, a.disabled,
	a.sip_password, a.ha1_md5, a.ha1_sha256, a.created_at, a.updated_at, a.activated_at`

const accountFrom = ` FROM accounts a JOIN account_groups g ON g.id = a.group_id LEFT JOIN profiles p ON p.id = a.profile_id`

func scanAccount(sc interface{ Scan(...any) error }) (*AccountRow, error) {
	var (
		a                AccountRow
		pid              nullInt
		created, updated int64
		activated        sql.NullInt64
	)
	err := sc.Scan(&a.ID, &a.OrgID, &a.GroupID, &a.Group, &a.Username, &a.DisplayName, &a.Email, &a.Mobile, &a.SecurityModel,
		&pid, &a.Profile, &a.VirtualNumber, &a.Language, &a.Description, &a.Kind, &a.Stage, &a.Disabled,
		&a.SIPPassword, &a.HA1MD5, &a.HA1SHA256, &created, &updated, &activated)
	if err != nil {
		return nil, mapErr(err)
	}
	a.ProfileID = pid.ptr()
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	a.ActivatedAt = nullTime(activated)
	a.Derive()
	return &a, nil
}

// AccountFilter narrows an account listing.
type AccountFilter struct {
	GroupID *int64
	Status  string // a stage, or "disabled"
	Search  string // part of the name, username, virtual number, mobile or e-mail
	// SecurityModel narrows to one security model; empty: any.
	SecurityModel string
	Limit         int
	Offset        int
}

// Accounts lists accounts, newest first.
func (r *Reader) Accounts(ctx context.Context, orgID int64, f AccountFilter) ([]model.Account, error) {
	where := []string{"a.org_id = $1"}
	args := []any{orgID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.GroupID != nil {
		where = append(where, "a.group_id = "+arg(*f.GroupID))
	}
	if f.SecurityModel != "" {
		where = append(where, "a.security_model = "+arg(f.SecurityModel))
	}
	switch {
	case f.Status == model.StatusDisabled:
		where = append(where, "a.disabled")
	case f.Status != "":
		where = append(where, "NOT a.disabled", "a.stage = "+arg(f.Status))
	}
	if f.Search != "" {
		p := arg("%" + strings.ToLower(f.Search) + "%")
		where = append(where, "(LOWER(a.display_name) LIKE "+p+" OR a.username LIKE "+p+" OR a.virtual_number LIKE "+p+
			" OR a.mobile LIKE "+p+" OR LOWER(a.email) LIKE "+p+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + accountCols + accountFrom + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY a.id DESC LIMIT ` + arg(limit) + ` OFFSET ` + arg(f.Offset)
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	defer rows.Close()
	out := []model.Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a.Account)
	}
	return out, rows.Err()
}

// AccountByUsername finds an account.
func (r *Reader) AccountByUsername(ctx context.Context, orgID int64, username string) (*AccountRow, error) {
	return scanAccount(r.q.QueryRowContext(ctx, `SELECT `+accountCols+accountFrom+` WHERE a.org_id = $1 AND a.username = $2`, orgID, username))
}

// AccountByID finds an account.
func (r *Reader) AccountByID(ctx context.Context, id int64) (*AccountRow, error) {
	return scanAccount(r.q.QueryRowContext(ctx, `SELECT `+accountCols+accountFrom+` WHERE a.id = $1`, id))
}

// CreateAccount inserts an account.
func (tx *Tx) CreateAccount(ctx context.Context, a *AccountRow) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id, err := tx.insertID(ctx, `INSERT INTO accounts (org_id, group_id, username, display_name, email, mobile, security_model,
		profile_id, virtual_number, language, description, kind, stage, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)`,
		a.OrgID, a.GroupID, a.Username, a.DisplayName, a.Email, a.Mobile, string(a.SecurityModel),
		a.ProfileID, a.VirtualNumber, a.Language, a.Description, a.Kind, a.Stage, a.Disabled, ms(now))
	a.ID, a.CreatedAt, a.UpdatedAt = id, now, now
	a.Derive()
	return err
}

// UpdateAccount stores the fields an operator edits.
func (tx *Tx) UpdateAccount(ctx context.Context, a *AccountRow) error {
	a.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	return tx.execOne(ctx, `UPDATE accounts SET group_id = $1, display_name = $2, email = $3, mobile = $4, security_model = $5,
		profile_id = $6, virtual_number = $7, language = $8, description = $9, updated_at = $10 WHERE id = $11`,
		a.GroupID, a.DisplayName, a.Email, a.Mobile, string(a.SecurityModel), a.ProfileID, a.VirtualNumber,
		a.Language, a.Description, ms(a.UpdatedAt), a.ID)
}

// SetAccountDisabled disables or enables an account.
func (tx *Tx) SetAccountDisabled(ctx context.Context, id int64, disabled bool) error {
	return tx.execOne(ctx, `UPDATE accounts SET disabled = $1, updated_at = $2 WHERE id = $3`, disabled, ms(time.Now()), id)
}

// AdvanceStage moves an account forward to stage when it is behind it;
// activation is never undone by a later page view. It reports whether it moved.
func (tx *Tx) AdvanceStage(ctx context.Context, id int64, stage string) (bool, error) {
	var behind []string
	for _, s := range model.Stages {
		if s == stage {
			break
		}
		behind = append(behind, "'"+s+"'")
	}
	if len(behind) == 0 {
		return false, nil
	}
	res, err := tx.exec(ctx, `UPDATE accounts SET stage = $1, updated_at = $2 WHERE id = $3 AND stage IN (`+strings.Join(behind, ", ")+`)`,
		stage, ms(time.Now()), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ActivateAccount gives an enabled account fresh SIP secrets and moves it
// to activated; ErrNotFound when the account is gone or disabled (a
// disable that commits first is not undone).
func (tx *Tx) ActivateAccount(ctx context.Context, id int64, sealedPassword []byte, ha1MD5, ha1SHA256 string, at time.Time) error {
	return tx.execOne(ctx, `UPDATE accounts SET stage = $1, sip_password = $3, ha1_md5 = $4, ha1_sha256 = $5,
		activated_at = $6, updated_at = $6 WHERE id = $7 AND disabled = $2`,
		model.StageActivated, false, sealedPassword, ha1MD5, ha1SHA256, ms(at), id)
}

// DeleteAccount deletes an account with its links, devices and events.
func (tx *Tx) DeleteAccount(ctx context.Context, id int64) error {
	return tx.execOne(ctx, `DELETE FROM accounts WHERE id = $1`, id)
}

// AddEvent appends to an account's timeline.
func (tx *Tx) AddEvent(ctx context.Context, orgID, accountID int64, kind model.EventKind, actor string, detail map[string]string) error {
	d := ""
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("encoding event detail: %w", err)
		}
		d = string(b)
	}
	_, err := tx.exec(ctx, `INSERT INTO events (org_id, account_id, kind, at, actor, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		orgID, accountID, kind, ms(time.Now()), actor, d)
	return err
}

// Events lists an account's timeline, oldest first.
func (r *Reader) Events(ctx context.Context, accountID int64) ([]model.Event, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, kind, at, actor, detail FROM events WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("listing events: %w", err)
	}
	defer rows.Close()
	out := []model.Event{}
	for rows.Next() {
		var (
			e      model.Event
			at     int64
			detail string
		)
		if err := rows.Scan(&e.ID, &e.Kind, &at, &e.Actor, &detail); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		if detail != "" {
			if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
				return nil, fmt.Errorf("event %d: stored detail: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AccountCounts counts an organisation's accounts by status: each stage
// among enabled accounts, and "disabled".
func (r *Reader) AccountCounts(ctx context.Context, orgID int64) (map[string]int, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT CASE WHEN disabled THEN 'disabled' ELSE stage END, COUNT(*) FROM accounts
		WHERE org_id = $1 GROUP BY CASE WHEN disabled THEN 'disabled' ELSE stage END`, orgID)
	if err != nil {
		return nil, fmt.Errorf("counting accounts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}
