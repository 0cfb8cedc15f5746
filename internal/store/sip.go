package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// SIPAccount is what the registrar needs of an account to authenticate and
// route: identity, digest hashes and whether it may register.
type SIPAccount struct {
	ID            int64
	OrgID         int64
	Username      string
	DisplayName   string
	VirtualNumber string
	HA1MD5        string
	HA1SHA256     string
	Enabled       bool // activated and not disabled
}

const sipAccountCols = `id, org_id, username, display_name, virtual_number, ha1_md5, ha1_sha256, stage, disabled`

func scanSIPAccount(row *row) (*SIPAccount, error) {
	var (
		a        SIPAccount
		stage    string
		disabled bool
	)
	if err := row.Scan(&a.ID, &a.OrgID, &a.Username, &a.DisplayName, &a.VirtualNumber, &a.HA1MD5, &a.HA1SHA256, &stage, &disabled); err != nil {
		return nil, mapErr(err)
	}
	a.Enabled = mayRegister(stage, disabled, a.HA1MD5)
	return &a, nil
}

// mayRegister is SIPAccount.Enabled from the account's columns.
func mayRegister(stage string, disabled bool, ha1MD5 string) bool {
	return stage == model.StageActivated && !disabled && ha1MD5 != ""
}

// SIPAccountByUsername finds an account by its SIP username in a username
// scope: the organisation whose SIP domain the username lives in
// (AccountRow.UsernameScope; the default organisation's for every
// organisation without a SIP domain of its own). It is the registrar's one
// account look-up by name. The registrar still checks the account's
// organisation against the request's own.
func (r *Reader) SIPAccountByUsername(ctx context.Context, scope int64, username string) (*SIPAccount, error) {
	return scanSIPAccount(r.q.QueryRowContext(ctx, `SELECT `+sipAccountCols+` FROM accounts WHERE username_scope = $1 AND username = $2`, scope, username))
}

// SIPAccountRegistering is SIPAccountByUsername for a REGISTER: the
// account and its live bindings at now (newest first, as Registrations
// lists them) in one read, the registrar's one query for a refresh it
// answers without writing.
func (r *Reader) SIPAccountRegistering(ctx context.Context, scope int64, username string, now time.Time) (*SIPAccount, []model.Registration, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT a.id, a.org_id, a.username, a.display_name, a.virtual_number, a.ha1_md5, a.ha1_sha256, a.stage, a.disabled,
		g.id, g.contact, g.transport, g.source, g.user_agent, g.created_at, g.updated_at, g.expires_at
		FROM accounts a LEFT JOIN sip_registrations g ON g.account_id = a.id AND g.expires_at > $3
		WHERE a.username_scope = $1 AND a.username = $2`, scope, username, ms(now))
	if err != nil {
		return nil, nil, fmt.Errorf("reading a registering account: %w", err)
	}
	defer rows.Close()
	var (
		a     *SIPAccount
		regs  = []model.Registration{}
		stage string
		dis   bool
	)
	for rows.Next() {
		var (
			acct                      SIPAccount
			id, created, updated, exp sql.NullInt64
			contact, tr, src, agent   sql.NullString
		)
		if err := rows.Scan(&acct.ID, &acct.OrgID, &acct.Username, &acct.DisplayName, &acct.VirtualNumber, &acct.HA1MD5, &acct.HA1SHA256, &stage, &dis,
			&id, &contact, &tr, &src, &agent, &created, &updated, &exp); err != nil {
			return nil, nil, fmt.Errorf("reading a registering account: %w", err)
		}
		if a == nil {
			acct.Enabled = mayRegister(stage, dis, acct.HA1MD5)
			a = &acct
		}
		if id.Valid {
			regs = append(regs, model.Registration{ID: id.Int64, AccountID: a.ID, Username: a.Username, Contact: contact.String,
				Transport: tr.String, Source: src.String, UserAgent: agent.String,
				CreatedAt: fromMS(created.Int64), UpdatedAt: fromMS(updated.Int64), ExpiresAt: fromMS(exp.Int64)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading a registering account: %w", err)
	}
	if a == nil {
		return nil, nil, ErrNotFound
	}
	// Newest first, sorted here: an ORDER BY made SQLite build a
	// temporary B-tree for an account's few rows on every REGISTER.
	slices.SortFunc(regs, func(x, y model.Registration) int {
		if c := y.UpdatedAt.Compare(x.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
	return a, regs, nil
}

// Binding is a REGISTER's one binding to store, with the registered
// event written when the binding is new.
type Binding struct {
	OrgID        int64
	Registration *model.Registration // AccountID, Contact, Transport, Source, UserAgent, UpdatedAt (now), ExpiresAt
	Detail       map[string]string   // the registered event's
}

// PutBinding stores one binding as PutRegistration does, writes its
// registered event when it is new, and returns the account's live
// bindings after it, newest first, as Registrations lists them, in the
// commit the writes arriving meanwhile share (SharedTx). On PostgreSQL
// the three are one statement, where they were six round trips.
func (s *Store) PutBinding(ctx context.Context, b Binding) (created bool, live []model.Registration, err error) {
	err = s.SharedTx(ctx, func(ctx context.Context, tx *Tx) error {
		created, live, err = tx.putBinding(ctx, b)
		return err
	})
	return created, live, err
}

func (tx *Tx) putBinding(ctx context.Context, b Binding) (created bool, live []model.Registration, err error) {
	reg := b.Registration
	if tx.dialect == Postgres {
		return tx.putBindingPostgres(ctx, b)
	}
	if created, err = tx.PutRegistration(ctx, reg); err != nil {
		return false, nil, err
	}
	if created {
		if err := tx.AddEvent(ctx, b.OrgID, reg.AccountID, model.EventRegistered, "", b.Detail); err != nil {
			return false, nil, err
		}
	}
	live, err = tx.Registrations(ctx, reg.AccountID, reg.UpdatedAt)
	return created, live, err
}

func (tx *Tx) putBindingPostgres(ctx context.Context, b Binding) (created bool, live []model.Registration, err error) {
	reg := b.Registration
	detail, err := eventDetail(b.Detail)
	if err != nil {
		return false, nil, err
	}
	// The statement's parts see the database as it was before it: the
	// binding just written comes from the upsert's RETURNING, the others
	// from the table.
	rows, err := tx.q.QueryContext(ctx, `WITH up AS (
			INSERT INTO sip_registrations (account_id, contact, transport, source, user_agent, created_at, updated_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
			ON CONFLICT (account_id, contact) DO UPDATE SET transport = excluded.transport, source = excluded.source,
				user_agent = excluded.user_agent, updated_at = excluded.updated_at, expires_at = excluded.expires_at
			RETURNING id, contact, transport, source, user_agent, created_at, updated_at, expires_at, (xmax = 0) AS created
		), ev AS (
			INSERT INTO events (org_id, account_id, kind, at, actor, detail)
			SELECT $8, $1, $9, $6, '', $10 FROM up WHERE up.created
		)
		SELECT * FROM (
			SELECT id, contact, transport, source, user_agent, created_at, updated_at, expires_at, created FROM up
			UNION ALL
			SELECT g.id, g.contact, g.transport, g.source, g.user_agent, g.created_at, g.updated_at, g.expires_at, false
			FROM sip_registrations g WHERE g.account_id = $1 AND g.expires_at > $6 AND g.contact <> $2
		) b WHERE b.expires_at > $6 ORDER BY b.updated_at DESC, b.id DESC`,
		reg.AccountID, reg.Contact, reg.Transport, reg.Source, reg.UserAgent, ms(reg.UpdatedAt), ms(reg.ExpiresAt),
		b.OrgID, model.EventRegistered, detail)
	if err != nil {
		return false, nil, fmt.Errorf("storing a binding: %w", mapErr(err))
	}
	defer rows.Close()
	live = []model.Registration{}
	for rows.Next() {
		var (
			g                   model.Registration
			c, updated, expires int64
			isNew               bool
		)
		if err := rows.Scan(&g.ID, &g.Contact, &g.Transport, &g.Source, &g.UserAgent, &c, &updated, &expires, &isNew); err != nil {
			return false, nil, fmt.Errorf("storing a binding: %w", err)
		}
		g.AccountID, g.Username = reg.AccountID, reg.Username
		g.CreatedAt, g.UpdatedAt, g.ExpiresAt = fromMS(c), fromMS(updated), fromMS(expires)
		if g.Contact == reg.Contact {
			reg.ID, reg.CreatedAt, created = g.ID, g.CreatedAt, isNew
		}
		live = append(live, g)
	}
	if err := rows.Err(); err != nil {
		return false, nil, fmt.Errorf("storing a binding: %w", mapErr(err))
	}
	return created, live, nil
}

// SIPAccountByNumber finds an account by its virtual number.
func (r *Reader) SIPAccountByNumber(ctx context.Context, orgID int64, number string) (*SIPAccount, error) {
	return scanSIPAccount(r.q.QueryRowContext(ctx, `SELECT `+sipAccountCols+` FROM accounts WHERE org_id = $1 AND virtual_number = $2`, orgID, number))
}

// PutRegistration stores a binding, replacing the account's binding of the
// same contact, and reports whether it is new.
//
// It is one INSERT ... ON CONFLICT DO UPDATE: two REGISTERs of the same
// contact at once (a phone retrying, two instances on one PostgreSQL
// database) both land, one creating the binding and the other refreshing
// it, where an UPDATE followed by an INSERT let both find nothing to
// update and the second INSERT fail on the unique (account_id, contact).
// PostgreSQL tells an inserted row by its xmax (0: no earlier version);
// SQLite has no such column, but its write transactions begin IMMEDIATE
// (they hold the database's write lock from the start), so a read of the
// binding before the upsert, in the same transaction, cannot be overtaken.
func (tx *Tx) PutRegistration(ctx context.Context, reg *model.Registration) (created bool, err error) {
	const upsert = `INSERT INTO sip_registrations (account_id, contact, transport, source, user_agent, created_at, updated_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
		ON CONFLICT (account_id, contact) DO UPDATE SET transport = excluded.transport, source = excluded.source,
			user_agent = excluded.user_agent, updated_at = excluded.updated_at, expires_at = excluded.expires_at
		RETURNING id, created_at, `
	args := []any{reg.AccountID, reg.Contact, reg.Transport, reg.Source, reg.UserAgent, ms(reg.UpdatedAt), ms(reg.ExpiresAt)}
	var createdAt int64
	if tx.dialect == Postgres {
		err = tx.q.QueryRowContext(ctx, upsert+`(xmax = 0)`, args...).Scan(&reg.ID, &createdAt, &created)
	} else {
		var existed bool
		if err := tx.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sip_registrations WHERE account_id = $1 AND contact = $2)`,
			reg.AccountID, reg.Contact).Scan(&existed); err != nil {
			return false, fmt.Errorf("reading registration: %w", err)
		}
		var one int
		err = tx.q.QueryRowContext(ctx, upsert+`1`, args...).Scan(&reg.ID, &createdAt, &one)
		created = !existed
	}
	if err != nil {
		return false, fmt.Errorf("storing registration: %w", mapErr(err))
	}
	reg.CreatedAt = fromMS(createdAt)
	return created, nil
}

// DeleteRegistration removes one binding and reports whether it existed.
func (tx *Tx) DeleteRegistration(ctx context.Context, accountID int64, contact string) (bool, error) {
	res, err := tx.exec(ctx, `DELETE FROM sip_registrations WHERE account_id = $1 AND contact = $2`, accountID, contact)
	if err != nil {
		return false, fmt.Errorf("removing registration: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteRegistrations removes every binding of an account.
func (tx *Tx) DeleteRegistrations(ctx context.Context, accountID int64) (int, error) {
	res, err := tx.exec(ctx, `DELETE FROM sip_registrations WHERE account_id = $1`, accountID)
	if err != nil {
		return 0, fmt.Errorf("removing registrations: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DeleteExpiredRegistrations removes bindings that expired before now.
func (tx *Tx) DeleteExpiredRegistrations(ctx context.Context, now time.Time) (int, error) {
	res, err := tx.exec(ctx, `DELETE FROM sip_registrations WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("removing expired registrations: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Registrations lists an account's live bindings, newest first.
func (r *Reader) Registrations(ctx context.Context, accountID int64, now time.Time) ([]model.Registration, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT g.id, g.account_id, a.username, g.contact, g.transport, g.source, g.user_agent,
		g.created_at, g.updated_at, g.expires_at
		FROM sip_registrations g JOIN accounts a ON a.id = g.account_id
		WHERE g.account_id = $1 AND g.expires_at > $2 ORDER BY g.updated_at DESC, g.id DESC`, accountID, ms(now))
	if err != nil {
		return nil, fmt.Errorf("listing registrations: %w", err)
	}
	defer rows.Close()
	out := []model.Registration{}
	for rows.Next() {
		var (
			g                         model.Registration
			created, updated, expires int64
		)
		if err := rows.Scan(&g.ID, &g.AccountID, &g.Username, &g.Contact, &g.Transport, &g.Source, &g.UserAgent, &created, &updated, &expires); err != nil {
			return nil, err
		}
		g.CreatedAt, g.UpdatedAt, g.ExpiresAt = fromMS(created), fromMS(updated), fromMS(expires)
		out = append(out, g)
	}
	return out, rows.Err()
}

// LinphoneDevice is the provisioning state of a device that redeemed
// through "Open in Linphone".
type LinphoneDevice struct {
	DeviceID       int64
	FetchBy        time.Time
	FirstFetchedAt *time.Time
}

// CreateLinphoneDevice marks a device as Linphone's: its URL must be
// fetched first before fetchBy.
func (tx *Tx) CreateLinphoneDevice(ctx context.Context, deviceID int64, fetchBy time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO linphone_devices (device_id, fetch_by) VALUES ($1, $2)`, deviceID, ms(fetchBy))
	return err
}

// LinphoneDeviceByID reads a Linphone device's provisioning state.
func (r *Reader) LinphoneDeviceByID(ctx context.Context, deviceID int64) (*LinphoneDevice, error) {
	var (
		d       LinphoneDevice
		fetchBy int64
		first   sql.NullInt64
	)
	err := r.q.QueryRowContext(ctx, `SELECT device_id, fetch_by, first_fetched_at FROM linphone_devices WHERE device_id = $1`, deviceID).
		Scan(&d.DeviceID, &fetchBy, &first)
	if err != nil {
		return nil, mapErr(err)
	}
	d.FetchBy, d.FirstFetchedAt = fromMS(fetchBy), nullTime(first)
	return &d, nil
}

// ErrFetchWindowClosed means a Linphone URL was not fetched in time.
var ErrFetchWindowClosed = errors.New("first fetch window closed")

// FetchLinphoneDevice records a fetch: the first one must come before the
// window closes; later ones are re-provisioning.
func (tx *Tx) FetchLinphoneDevice(ctx context.Context, deviceID int64, now time.Time) error {
	res, err := tx.exec(ctx, `UPDATE linphone_devices SET first_fetched_at = COALESCE(first_fetched_at, $1)
		WHERE device_id = $2 AND (first_fetched_at IS NOT NULL OR fetch_by > $1)`, ms(now), deviceID)
	if err != nil {
		return fmt.Errorf("recording the fetch: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrFetchWindowClosed
	}
	return nil
}
