package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// Operator is a person who logs in to the console (or holds API tokens).
// PasswordHash is an argon2id PHC string, empty until the operator has set a
// password; it never leaves the domain.
//
// The operators table's failed_attempts and locked_until columns are
// unused: logins are throttled by address and name (activation), never by
// locking the operator.
type Operator struct {
	ID           int64
	OrgID        int64
	Name         string
	Role         model.Role
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	LastLoginAt  *time.Time
}

const operatorCols = `id, org_id, name, role, password_hash, disabled, created_at, last_login_at`

func scanOperator(sc interface{ Scan(...any) error }) (*Operator, error) {
	var (
		o       Operator
		created int64
		login   sql.NullInt64
	)
	if err := sc.Scan(&o.ID, &o.OrgID, &o.Name, &o.Role, &o.PasswordHash, &o.Disabled, &created, &login); err != nil {
		return nil, mapErr(err)
	}
	o.CreatedAt = fromMS(created)
	o.LastLoginAt = nullTime(login)
	return &o, nil
}

// Operators lists an organisation's operators by name.
func (r *Reader) Operators(ctx context.Context, orgID int64) ([]Operator, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+operatorCols+` FROM operators WHERE org_id = $1 ORDER BY name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("listing operators: %w", err)
	}
	defer rows.Close()
	out := []Operator{}
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	return out, rows.Err()
}

// OperatorByName finds an operator.
func (r *Reader) OperatorByName(ctx context.Context, orgID int64, name string) (*Operator, error) {
	return scanOperator(r.q.QueryRowContext(ctx, `SELECT `+operatorCols+` FROM operators WHERE org_id = $1 AND name = $2`, orgID, name))
}

// OperatorByID finds an operator.
func (r *Reader) OperatorByID(ctx context.Context, id int64) (*Operator, error) {
	return scanOperator(r.q.QueryRowContext(ctx, `SELECT `+operatorCols+` FROM operators WHERE id = $1`, id))
}

// CreateOperator inserts an operator.
func (tx *Tx) CreateOperator(ctx context.Context, o *Operator) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id, err := tx.insertID(ctx, `INSERT INTO operators (org_id, name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		o.OrgID, o.Name, o.Role, o.PasswordHash, o.Disabled, ms(now))
	o.ID, o.CreatedAt = id, now
	return err
}

// SetOperatorRole changes an operator's role.
func (tx *Tx) SetOperatorRole(ctx context.Context, id int64, role model.Role) error {
	return tx.execOne(ctx, `UPDATE operators SET role = $1 WHERE id = $2`, role, id)
}

// SetOperatorDisabled disables or enables an operator.
func (tx *Tx) SetOperatorDisabled(ctx context.Context, id int64, disabled bool) error {
	return tx.execOne(ctx, `UPDATE operators SET disabled = $1 WHERE id = $2`, disabled, id)
}

// SetOperatorPassword stores a new password hash.
func (tx *Tx) SetOperatorPassword(ctx context.Context, id int64, hash string) error {
	return tx.execOne(ctx, `UPDATE operators SET password_hash = $1 WHERE id = $2`, hash, id)
}

// RecordLogin notes the login time.
func (tx *Tx) RecordLogin(ctx context.Context, id int64, at time.Time) error {
	return tx.execOne(ctx, `UPDATE operators SET last_login_at = $1 WHERE id = $2`, ms(at), id)
}

// Session is a console login. Only the hash of its cookie is stored.
type Session struct {
	ID         int64
	OperatorID int64
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// CreateSession stores a session by its cookie's hash.
func (tx *Tx) CreateSession(ctx context.Context, s *Session, hash []byte) error {
	id, err := tx.insertID(ctx, `INSERT INTO operator_sessions (operator_id, token_hash, csrf_token, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $4, $5)`, s.OperatorID, hash, s.CSRFToken, ms(s.CreatedAt), ms(s.ExpiresAt))
	s.ID = id
	return err
}

// SessionByHash finds a live session and its operator.
func (r *Reader) SessionByHash(ctx context.Context, hash []byte, now time.Time) (*Session, *Operator, error) {
	var (
		s                      Session
		created, seen, expires int64
	)
	row := r.q.QueryRowContext(ctx, `SELECT s.id, s.operator_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at
		FROM operator_sessions s WHERE s.token_hash = $1 AND s.expires_at > $2`, hash, ms(now))
	if err := row.Scan(&s.ID, &s.OperatorID, &s.CSRFToken, &created, &seen, &expires); err != nil {
		return nil, nil, mapErr(err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
	o, err := r.OperatorByID(ctx, s.OperatorID)
	if err != nil {
		return nil, nil, err
	}
	return &s, o, nil
}

// TouchSession moves a session's idle expiry forward.
func (tx *Tx) TouchSession(ctx context.Context, id int64, seen, expires time.Time) error {
	return tx.execOne(ctx, `UPDATE operator_sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3`, ms(seen), ms(expires), id)
}

// DeleteSession ends a session.
func (tx *Tx) DeleteSession(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, `DELETE FROM operator_sessions WHERE id = $1`, id)
	return err
}

// DeleteOperatorSessions ends every session of an operator but the one
// whose id is keep (0 keeps none).
func (tx *Tx) DeleteOperatorSessions(ctx context.Context, operatorID, keep int64) error {
	_, err := tx.exec(ctx, `DELETE FROM operator_sessions WHERE operator_id = $1 AND id <> $2`, operatorID, keep)
	return err
}

// DeleteExpiredSessions removes sessions past their expiry.
func (tx *Tx) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM operator_sessions WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CreatePasswordToken stores a set-password link's hash.
func (tx *Tx) CreatePasswordToken(ctx context.Context, operatorID int64, hash []byte, created, expires time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO password_tokens (operator_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		operatorID, hash, ms(created), ms(expires))
	return err
}

// PasswordTokenOperator finds the operator of a live set-password link.
func (r *Reader) PasswordTokenOperator(ctx context.Context, hash []byte, now time.Time) (*Operator, error) {
	var id int64
	err := r.q.QueryRowContext(ctx, `SELECT operator_id FROM password_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		hash, ms(now)).Scan(&id)
	if err != nil {
		return nil, mapErr(err)
	}
	return r.OperatorByID(ctx, id)
}

// UsePasswordToken marks a set-password link used; exactly one caller wins.
func (tx *Tx) UsePasswordToken(ctx context.Context, hash []byte, now time.Time) error {
	return tx.execOne(ctx, `UPDATE password_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1`, ms(now), hash)
}

// RevokePasswordTokens kills an operator's unused set-password links.
func (tx *Tx) RevokePasswordTokens(ctx context.Context, operatorID int64, now time.Time) error {
	_, err := tx.exec(ctx, `UPDATE password_tokens SET used_at = $1 WHERE operator_id = $2 AND used_at IS NULL`, ms(now), operatorID)
	return err
}
