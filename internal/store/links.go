package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// LinkRow is a link with the account facts its pages need, read in one
// query on the landing-page path.
type LinkRow struct {
	model.Link
	OrgID         int64
	Username      string
	DisplayName   string
	Language      string
	SecurityModel model.SecurityModel
	ITEmail       string
	Disabled      bool
	Stage         string // the account's stage when the link was read
}

// Links live in the invitations table, and a message's link in its
// invitation_id column: the API's JSON word for a link, kept by the schema.
const linkCols = `i.id, i.account_id, i.kind, i.channel, i.token_prefix, i.created_at, i.expires_at, i.revoked_at, i.redeemed_at,
	a.org_id, a.username, a.display_name, a.language, a.security_model, g.it_email, a.disabled, a.stage`

const linkFrom = ` FROM invitations i JOIN accounts a ON a.id = i.account_id JOIN account_groups g ON g.id = a.group_id`

// LinkByHash finds a link by its token's hash.
func (r *Reader) LinkByHash(ctx context.Context, hash []byte) (*LinkRow, error) {
	var (
		l                 LinkRow
		created, expires  int64
		revoked, redeemed sql.NullInt64
	)
	err := r.q.QueryRowContext(ctx, `SELECT `+linkCols+linkFrom+` WHERE i.token_hash = $1`, hash).Scan(
		&l.ID, &l.AccountID, &l.Kind, &l.Channel, &l.TokenPrefix, &created, &expires, &revoked, &redeemed,
		&l.OrgID, &l.Username, &l.DisplayName, &l.Language, &l.SecurityModel, &l.ITEmail, &l.Disabled, &l.Stage)
	if err != nil {
		return nil, mapErr(err)
	}
	l.CreatedAt, l.ExpiresAt = fromMS(created), fromMS(expires)
	l.RevokedAt, l.RedeemedAt = nullTime(revoked), nullTime(redeemed)
	return &l, nil
}

// CreateLink stores a link's hash.
func (tx *Tx) CreateLink(ctx context.Context, l *model.Link, hash []byte) error {
	id, err := tx.insertID(ctx, `INSERT INTO invitations (account_id, kind, channel, token_hash, token_prefix, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		l.AccountID, l.Kind, l.Channel, hash, l.TokenPrefix, ms(l.CreatedAt), ms(l.ExpiresAt))
	l.ID = id
	return err
}

// RevokeLinks kills an account's live links of the given kinds and
// returns how many it killed.
func (tx *Tx) RevokeLinks(ctx context.Context, accountID int64, kinds ...model.LinkKind) (int, error) {
	q := `UPDATE invitations SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL AND redeemed_at IS NULL`
	args := []any{ms(time.Now()), accountID}
	if len(kinds) > 0 {
		q += ` AND kind IN (`
		for i, k := range kinds {
			if i > 0 {
				q += ", "
			}
			args = append(args, k)
			q += fmt.Sprintf("$%d", len(args))
		}
		q += `)`
	}
	res, err := tx.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// RedeemLink uses up a live activation link. Exactly one of several
// concurrent callers gets ok; the others see the row already redeemed.
func (tx *Tx) RedeemLink(ctx context.Context, id int64, now time.Time) (ok bool, err error) {
	res, err := tx.exec(ctx, `UPDATE invitations SET redeemed_at = $1
		WHERE id = $2 AND redeemed_at IS NULL AND revoked_at IS NULL AND expires_at > $1`, ms(now), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Links lists an account's links, newest first.
func (r *Reader) Links(ctx context.Context, accountID int64) ([]model.Link, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, account_id, kind, channel, token_prefix, created_at, expires_at, revoked_at, redeemed_at
		FROM invitations WHERE account_id = $1 ORDER BY id DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	defer rows.Close()
	out := []model.Link{}
	for rows.Next() {
		var (
			l                 model.Link
			created, expires  int64
			revoked, redeemed sql.NullInt64
		)
		if err := rows.Scan(&l.ID, &l.AccountID, &l.Kind, &l.Channel, &l.TokenPrefix, &created, &expires, &revoked, &redeemed); err != nil {
			return nil, err
		}
		l.CreatedAt, l.ExpiresAt = fromMS(created), fromMS(expires)
		l.RevokedAt, l.RedeemedAt = nullTime(revoked), nullTime(redeemed)
		out = append(out, l)
	}
	return out, rows.Err()
}

// CreateDevice stores a device and its credential's hash.
func (tx *Tx) CreateDevice(ctx context.Context, d *model.Device, hash []byte) error {
	id, err := tx.insertID(ctx, `INSERT INTO devices (account_id, device_id, platform, model, app_version, credential_hash, credential_prefix, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.AccountID, d.DeviceID, d.Platform, d.Model, d.AppVersion, hash, d.CredentialPrefix, ms(d.CreatedAt))
	d.ID = id
	return err
}

// RevokeDevices kills the live credentials of an account's devices, except
// keepID, and returns how many it killed.
func (tx *Tx) RevokeDevices(ctx context.Context, accountID, keepID int64) (int, error) {
	res, err := tx.exec(ctx, `UPDATE devices SET revoked_at = $1 WHERE account_id = $2 AND id <> $3 AND revoked_at IS NULL`,
		ms(time.Now()), accountID, keepID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// RevokeDevice kills one live device credential; ErrNotFound when the
// account has no such live device.
func (tx *Tx) RevokeDevice(ctx context.Context, accountID, id int64) error {
	return tx.execOne(ctx, `UPDATE devices SET revoked_at = $1 WHERE account_id = $2 AND id = $3 AND revoked_at IS NULL`,
		ms(time.Now()), accountID, id)
}

// TouchDevice records a device's fetch.
func (tx *Tx) TouchDevice(ctx context.Context, id int64, at time.Time) error {
	return tx.execOne(ctx, `UPDATE devices SET last_seen_at = $1 WHERE id = $2`, ms(at), id)
}

// DeviceByCredential finds a live device by its credential's hash.
func (r *Reader) DeviceByCredential(ctx context.Context, hash []byte) (*model.Device, error) {
	rows, err := r.devices(ctx, `WHERE credential_hash = $1 AND revoked_at IS NULL`, hash)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return &rows[0], nil
}

// Devices lists an account's devices, newest first.
func (r *Reader) Devices(ctx context.Context, accountID int64) ([]model.Device, error) {
	return r.devices(ctx, `WHERE account_id = $1 ORDER BY id DESC`, accountID)
}

func (r *Reader) devices(ctx context.Context, where string, args ...any) ([]model.Device, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, account_id, device_id, platform, model, app_version, credential_prefix, created_at, last_seen_at, revoked_at
		FROM devices `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	defer rows.Close()
	out := []model.Device{}
	for rows.Next() {
		var (
			d             model.Device
			created       int64
			seen, revoked sql.NullInt64
		)
		if err := rows.Scan(&d.ID, &d.AccountID, &d.DeviceID, &d.Platform, &d.Model, &d.AppVersion, &d.CredentialPrefix, &created, &seen, &revoked); err != nil {
			return nil, err
		}
		d.CreatedAt = fromMS(created)
		d.LastSeenAt, d.RevokedAt = nullTime(seen), nullTime(revoked)
		out = append(out, d)
	}
	return out, rows.Err()
}
