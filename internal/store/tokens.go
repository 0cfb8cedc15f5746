package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// OperatorToken is an API token as its listing shows it: never the token.
type OperatorToken struct {
	ID         int64
	Name       string
	Role       model.Role
	Prefix     string
	Operator   string // empty for tokens of no operator (the first-start token)
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// CreateOperatorToken stores an operator's API token by its hash.
func (tx *Tx) CreateOperatorToken(ctx context.Context, orgID, operatorID int64, name string, role model.Role, prefix string, hash []byte) (int64, error) {
	return tx.insertID(ctx, `INSERT INTO api_tokens (org_id, operator_id, name, role, prefix, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		orgID, operatorID, name, role, prefix, hash, ms(time.Now()))
}

// OperatorTokens lists API tokens, newest first; operatorID 0 lists all.
func (r *Reader) OperatorTokens(ctx context.Context, orgID, operatorID int64) ([]OperatorToken, error) {
	q := `SELECT t.id, t.name, t.role, t.prefix, COALESCE(o.name, ''), t.created_at, t.last_used_at, t.revoked_at
		FROM api_tokens t LEFT JOIN operators o ON o.id = t.operator_id WHERE t.org_id = $1`
	args := []any{orgID}
	if operatorID != 0 {
		q += ` AND t.operator_id = $2`
		args = append(args, operatorID)
	}
	rows, err := r.q.QueryContext(ctx, q+` ORDER BY t.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing API tokens: %w", err)
	}
	defer rows.Close()
	out := []OperatorToken{}
	for rows.Next() {
		var (
			t             OperatorToken
			created       int64
			used, revoked sql.NullInt64
		)
		if err := rows.Scan(&t.ID, &t.Name, &t.Role, &t.Prefix, &t.Operator, &created, &used, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt = fromMS(created)
		t.LastUsedAt, t.RevokedAt = nullTime(used), nullTime(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// TokenOwner is who an API token acts for.
type TokenOwner struct {
	ID               int64 // the token's
	OrgID            int64 // the organisation the token acts in
	Name             string
	Role             model.Role
	OperatorID       int64 // 0 for the first-start token
	OperatorName     string
	OperatorRole     model.Role
	OperatorDisabled bool
}

// APITokenOwner finds a live token by its hash with its operator, if any.
func (r *Reader) APITokenOwner(ctx context.Context, hash []byte) (*TokenOwner, error) {
	var (
		t        TokenOwner
		opID     nullInt
		opName   sql.NullString
		opRole   sql.NullString
		disabled sql.NullBool
	)
	err := r.q.QueryRowContext(ctx, `SELECT t.id, t.org_id, t.name, t.role, t.operator_id, o.name, o.role, o.disabled
		FROM api_tokens t LEFT JOIN operators o ON o.id = t.operator_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL`, hash).
		Scan(&t.ID, &t.OrgID, &t.Name, &t.Role, &opID, &opName, &opRole, &disabled)
	if err != nil {
		return nil, mapErr(err)
	}
	if opID.v != nil {
		t.OperatorID = *opID.v
	}
	t.OperatorName, t.OperatorRole, t.OperatorDisabled = opName.String, model.Role(opRole.String), disabled.Bool
	return &t, nil
}

// RevokeAPIToken revokes a live token; operatorID 0 revokes anyone's.
func (tx *Tx) RevokeAPIToken(ctx context.Context, orgID, id, operatorID int64) error {
	q := `UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL`
	args := []any{ms(time.Now()), orgID, id}
	if operatorID != 0 {
		q += ` AND operator_id = $4`
		args = append(args, operatorID)
	}
	return tx.execOne(ctx, q, args...)
}

// RevokeOperatorTokens revokes every live API token of an operator but
// the one whose id is keep (0 keeps none).
func (tx *Tx) RevokeOperatorTokens(ctx context.Context, operatorID, keep int64, at time.Time) error {
	_, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE operator_id = $2 AND id <> $3 AND revoked_at IS NULL`,
		ms(at), operatorID, keep)
	return err
}

// CreateAPIToken stores a token's hash.
func (tx *Tx) CreateAPIToken(ctx context.Context, orgID int64, name string, role model.Role, prefix string, hash []byte) (int64, error) {
	return tx.insertID(ctx, `INSERT INTO api_tokens (org_id, name, role, prefix, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		orgID, name, role, prefix, hash, ms(time.Now()))
}

// CountAPITokens counts live tokens of an organisation.
func (r *Reader) CountAPITokens(ctx context.Context, orgID int64) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens WHERE org_id = $1 AND revoked_at IS NULL`, orgID).Scan(&n)
	return n, mapErr(err)
}
