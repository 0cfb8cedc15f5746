package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// ErrDefaultOrganisation refuses to delete the default organisation.
var ErrDefaultOrganisation = errors.New("the default organisation cannot be deleted")

// ErrOrganisationHasAccounts refuses to delete an organisation that still
// has accounts.
var ErrOrganisationHasAccounts = errors.New("the organisation still has accounts")

// OrganisationRow is an organisation as stored. Name is its display name.
type OrganisationRow struct {
	ID          int64
	Slug        string
	Name        string
	SuspendedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// MaxAccounts and MaxMessagesPerDay are the provider's quotas on the
	// organisation; 0 is none.
	MaxAccounts       int64
	MaxMessagesPerDay int64
	// AllowCallsTo are the organisations the provider lets this one's
	// accounts call and message, by id; none: calls stay inside it.
	AllowCallsTo []int64
}

const organisationCols = `id, slug, name, suspended_at, created_at, updated_at, max_accounts, max_messages_per_day, allow_calls_to`

func scanOrganisation(sc interface{ Scan(...any) error }) (*OrganisationRow, error) {
	var (
		o                OrganisationRow
		suspended        sql.NullInt64
		created, updated int64
		calls            string
	)
	if err := sc.Scan(&o.ID, &o.Slug, &o.Name, &suspended, &created, &updated, &o.MaxAccounts, &o.MaxMessagesPerDay, &calls); err != nil {
		return nil, mapErr(err)
	}
	for _, f := range strings.Split(calls, ",") {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil {
			o.AllowCallsTo = append(o.AllowCallsTo, id)
		}
	}
	if suspended.Valid {
		t := fromMS(suspended.Int64)
		o.SuspendedAt = &t
	}
	o.CreatedAt, o.UpdatedAt = fromMS(created), fromMS(updated)
	return &o, nil
}

// Organisations lists every organisation by slug.
func (r *Reader) Organisations(ctx context.Context) ([]OrganisationRow, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+organisationCols+` FROM organisations ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("listing organisations: %w", mapErr(err))
	}
	defer rows.Close()
	var out []OrganisationRow
	for rows.Next() {
		o, err := scanOrganisation(rows)
		if err != nil {
			return nil, fmt.Errorf("listing organisations: %w", err)
		}
		out = append(out, *o)
	}
	return out, rows.Err()
}

// OrganisationByID finds an organisation by its id.
func (r *Reader) OrganisationByID(ctx context.Context, id int64) (*OrganisationRow, error) {
	return scanOrganisation(r.q.QueryRowContext(ctx, `SELECT `+organisationCols+` FROM organisations WHERE id = $1`, id))
}

// OrganisationBySlug finds an organisation by its slug.
func (r *Reader) OrganisationBySlug(ctx context.Context, slug string) (*OrganisationRow, error) {
	return scanOrganisation(r.q.QueryRowContext(ctx, `SELECT `+organisationCols+` FROM organisations WHERE slug = $1`, slug))
}

// CreateOrganisation stores a new organisation (its slug and name) and
// fills in its id and times; a slug or name already taken is a
// *ConflictError naming the column.
func (tx *Tx) CreateOrganisation(ctx context.Context, o *OrganisationRow) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id, err := tx.insertID(ctx, `INSERT INTO organisations (slug, name, created_at, updated_at, max_accounts, max_messages_per_day, allow_calls_to)
		VALUES ($1, $2, $3, $3, $4, $5, $6)`, o.Slug, o.Name, ms(now), o.MaxAccounts, o.MaxMessagesPerDay, joinIDs(o.AllowCallsTo))
	if err != nil {
		return fmt.Errorf("creating organisation %s: %w", o.Slug, err)
	}
	o.ID, o.CreatedAt, o.UpdatedAt, o.SuspendedAt = id, now, now, nil
	return nil
}

// joinIDs is a list of organisation ids as stored: "3,5".
func joinIDs(ids []int64) string {
	fs := make([]string, len(ids))
	for i, id := range ids {
		fs[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(fs, ",")
}

// UpdateOrganisation stores an organisation's slug, name, quotas and the
// organisations it may call.
func (tx *Tx) UpdateOrganisation(ctx context.Context, o *OrganisationRow) error {
	// updated_at moves forward by at least a millisecond, so caches keyed
	// by it always see a change.
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !now.After(o.UpdatedAt) {
		now = o.UpdatedAt.Add(time.Millisecond)
	}
	if err := tx.execOne(ctx, `UPDATE organisations SET slug = $1, name = $2, updated_at = $3, max_accounts = $4, max_messages_per_day = $5,
		allow_calls_to = $6 WHERE id = $7`, o.Slug, o.Name, ms(now), o.MaxAccounts, o.MaxMessagesPerDay, joinIDs(o.AllowCallsTo), o.ID); err != nil {
		return fmt.Errorf("updating organisation %d: %w", o.ID, err)
	}
	o.UpdatedAt = now
	return nil
}

// SuspendOrganisation marks an organisation suspended from now on; one
// already suspended keeps its first suspension time.
func (tx *Tx) SuspendOrganisation(ctx context.Context, id int64) error {
	now := ms(time.Now())
	if err := tx.execOne(ctx, `UPDATE organisations SET suspended_at = COALESCE(suspended_at, $1), updated_at = $1 WHERE id = $2`, now, id); err != nil {
		return fmt.Errorf("suspending organisation %d: %w", id, err)
	}
	return nil
}

// ResumeOrganisation ends an organisation's suspension.
func (tx *Tx) ResumeOrganisation(ctx context.Context, id int64) error {
	if err := tx.execOne(ctx, `UPDATE organisations SET suspended_at = NULL, updated_at = $1 WHERE id = $2`, ms(time.Now()), id); err != nil {
		return fmt.Errorf("resuming organisation %d: %w", id, err)
	}
	return nil
}

// DeleteOrganisation deletes an organisation with no accounts, and its
// settings and profiles. It refuses the default organisation (ErrDefaultOrganisation),
// one with accounts (ErrOrganisationHasAccounts), and one any other row
// still names (ErrInUse: its operators, tokens, groups, gateways...).
func (tx *Tx) DeleteOrganisation(ctx context.Context, id int64) error {
	if id == model.DefaultOrgID {
		return ErrDefaultOrganisation
	}
	// One indexed row tells, however many accounts there are.
	var n int
	if err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM accounts WHERE org_id = $1 LIMIT 1) AS a`, id).Scan(&n); err != nil {
		return fmt.Errorf("deleting organisation %d: %w", id, mapErr(err))
	}
	if n > 0 {
		return fmt.Errorf("deleting organisation %d: %w", id, ErrOrganisationHasAccounts)
	}
	// What creating it made goes with it: its settings and its profiles
	// (a profile a group still uses is ErrInUse).
	if _, err := tx.exec(ctx, `DELETE FROM settings WHERE org_id = $1`, id); err != nil {
		return fmt.Errorf("deleting organisation %d's settings: %w", id, err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM profiles WHERE org_id = $1`, id); err != nil {
		return fmt.Errorf("deleting organisation %d's profiles: %w", id, err)
	}
	if err := tx.execOne(ctx, `DELETE FROM organisations WHERE id = $1`, id); err != nil {
		return fmt.Errorf("deleting organisation %d: %w", id, err)
	}
	// No other organisation may call it any more: an id SQLite gives
	// again to a later organisation must not inherit the permission.
	others, err := tx.Organisations(ctx)
	if err != nil {
		return err
	}
	for _, o := range others {
		if i := slices.Index(o.AllowCallsTo, id); i >= 0 {
			o.AllowCallsTo = slices.Delete(o.AllowCallsTo, i, i+1)
			if err := tx.UpdateOrganisation(ctx, &o); err != nil {
				return err
			}
		}
	}
	return nil
}

// MessageStateCounts counts an organisation's messages by state, from
// the messages_org_state index alone.
func (r *Reader) MessageStateCounts(ctx context.Context, orgID int64) (map[string]int, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT state, COUNT(*) FROM messages WHERE org_id = $1 GROUP BY state`, orgID)
	if err != nil {
		return nil, fmt.Errorf("counting messages: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("counting messages: %w", err)
		}
		out[state] = n
	}
	return out, rows.Err()
}

// ActivationsPerDay counts an organisation's accounts activated on each
// UTC day from since on, keyed by the day's start; days without any are
// absent.
func (r *Reader) ActivationsPerDay(ctx context.Context, orgID int64, since time.Time) (map[time.Time]int, error) {
	const day = int64(24 * time.Hour / time.Millisecond)
	rows, err := r.q.QueryContext(ctx, `SELECT activated_at / $1, COUNT(*) FROM accounts
		WHERE org_id = $2 AND activated_at IS NOT NULL AND activated_at >= $3 GROUP BY 1`, day, orgID, ms(since))
	if err != nil {
		return nil, fmt.Errorf("counting activations: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[time.Time]int{}
	for rows.Next() {
		var d, n int64
		if err := rows.Scan(&d, &n); err != nil {
			return nil, fmt.Errorf("counting activations: %w", err)
		}
		out[fromMS(d*day)] = int(n)
	}
	return out, rows.Err()
}

// MessagesQueuedSince counts the messages an organisation queued from
// since on, from the messages_org_created index.
func (r *Reader) MessagesQueuedSince(ctx context.Context, orgID int64, since time.Time) (int64, error) {
	var n int64
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE org_id = $1 AND created_at >= $2`, orgID, ms(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting today's messages: %w", mapErr(err))
	}
	return n, nil
}
