package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// GatewayRow is a configured gateway as stored: its settings and receipt
// key are sealed; the domain opens them.
type GatewayRow struct {
	ID         int64
	OrgID      int64
	Name       string
	KindName   string // the name of its kind (messaging.Kind)
	Channel    string
	Settings   []byte // sealed JSON object of the kind's settings
	ReceiptKey []byte // sealed secret carried in the receipt callback URL
	DefaultFor string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const gatewayCols = `id, org_id, name, kind, channel, settings, receipt_key, default_for, created_at, updated_at`

func scanGateway(sc interface{ Scan(...any) error }) (*GatewayRow, error) {
	var (
		g                GatewayRow
		created, updated int64
	)
	if err := sc.Scan(&g.ID, &g.OrgID, &g.Name, &g.KindName, &g.Channel, &g.Settings, &g.ReceiptKey, &g.DefaultFor, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	g.CreatedAt, g.UpdatedAt = fromMS(created), fromMS(updated)
	return &g, nil
}

// Gateways lists an organisation's gateways by name.
func (r *Reader) Gateways(ctx context.Context, orgID int64) ([]GatewayRow, error) {
	return r.gateways(ctx, `SELECT `+gatewayCols+` FROM gateways WHERE org_id = $1 ORDER BY name`, orgID)
}

// GatewaysNamed finds the gateways of every organisation that have a name:
// a provider's receipt callback names its gateway, not the organisation.
func (r *Reader) GatewaysNamed(ctx context.Context, name string) ([]GatewayRow, error) {
	return r.gateways(ctx, `SELECT `+gatewayCols+` FROM gateways WHERE name = $1 ORDER BY org_id`, name)
}

func (r *Reader) gateways(ctx context.Context, query string, args ...any) ([]GatewayRow, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing gateways: %w", err)
	}
	defer rows.Close()
	var out []GatewayRow
	for rows.Next() {
		g, err := scanGateway(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	return out, rows.Err()
}

// GatewayByName finds a gateway.
func (r *Reader) GatewayByName(ctx context.Context, orgID int64, name string) (*GatewayRow, error) {
	return scanGateway(r.q.QueryRowContext(ctx, `SELECT `+gatewayCols+` FROM gateways WHERE org_id = $1 AND name = $2`, orgID, name))
}

// DefaultGateway finds the gateway that is the default of a channel.
func (r *Reader) DefaultGateway(ctx context.Context, orgID int64, channel string) (*GatewayRow, error) {
	return scanGateway(r.q.QueryRowContext(ctx, `SELECT `+gatewayCols+` FROM gateways WHERE org_id = $1 AND default_for = $2`, orgID, channel))
}

// GatewayUpdatedAt tells when a gateway last changed, so a cached copy can
// be checked cheaply.
func (r *Reader) GatewayUpdatedAt(ctx context.Context, orgID int64, name string) (time.Time, error) {
	var v int64
	err := r.q.QueryRowContext(ctx, `SELECT updated_at FROM gateways WHERE org_id = $1 AND name = $2`, orgID, name).Scan(&v)
	if err != nil {
		return time.Time{}, mapErr(err)
	}
	return fromMS(v), nil
}

// CreateGateway inserts a gateway. A name or a channel default already
// taken is a ConflictError.
func (tx *Tx) CreateGateway(ctx context.Context, g *GatewayRow) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id, err := tx.insertID(ctx, `INSERT INTO gateways (org_id, name, kind, channel, settings, receipt_key, default_for, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
		g.OrgID, g.Name, g.KindName, g.Channel, g.Settings, g.ReceiptKey, g.DefaultFor, ms(now))
	if err != nil {
		return err
	}
	g.ID, g.CreatedAt, g.UpdatedAt = id, now, now
	return nil
}

// UpdateGateway stores a gateway's name, settings and default.
func (tx *Tx) UpdateGateway(ctx context.Context, g *GatewayRow) error {
	// updated_at moves forward by at least a millisecond, so caches keyed by
	// it always see a change.
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !now.After(g.UpdatedAt) {
		now = g.UpdatedAt.Add(time.Millisecond)
	}
	err := tx.execOne(ctx, `UPDATE gateways SET name = $1, settings = $2, default_for = $3, updated_at = $4 WHERE id = $5`,
		g.Name, g.Settings, g.DefaultFor, ms(now), g.ID)
	if err == nil {
		g.UpdatedAt = now
	}
	return err
}

// ClearDefaultGateway makes no gateway the default of channel.
func (tx *Tx) ClearDefaultGateway(ctx context.Context, orgID int64, channel string) error {
	_, err := tx.exec(ctx, `UPDATE gateways SET default_for = '', updated_at = $1 WHERE org_id = $2 AND default_for = $3`,
		ms(time.Now()), orgID, channel)
	return err
}

// DeleteGateway removes a gateway. A group still routed through it makes
// ErrInUse. Messages keep its name; queued ones fail when they come due.
func (tx *Tx) DeleteGateway(ctx context.Context, id int64) error {
	return tx.execOne(ctx, `DELETE FROM gateways WHERE id = $1`, id)
}

// SetGroupGateway routes a group's messages on channel through a gateway.
func (tx *Tx) SetGroupGateway(ctx context.Context, groupID int64, channel string, gatewayID int64) error {
	_, err := tx.exec(ctx, `INSERT INTO group_gateways (group_id, channel, gateway_id) VALUES ($1, $2, $3)
		ON CONFLICT (group_id, channel) DO UPDATE SET gateway_id = excluded.gateway_id`, groupID, channel, gatewayID)
	return err
}

// DeleteGroupGateway removes a group's override for channel.
func (tx *Tx) DeleteGroupGateway(ctx context.Context, groupID int64, channel string) (bool, error) {
	res, err := tx.exec(ctx, `DELETE FROM group_gateways WHERE group_id = $1 AND channel = $2`, groupID, channel)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// GroupGatewayName names the gateway a group's messages on channel go
// through, or "" when the group has no override.
func (r *Reader) GroupGatewayName(ctx context.Context, groupID int64, channel string) (string, error) {
	var name string
	err := r.q.QueryRowContext(ctx, `SELECT g.name FROM group_gateways gg JOIN gateways g ON g.id = gg.gateway_id
		WHERE gg.group_id = $1 AND gg.channel = $2`, groupID, channel).Scan(&name)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return name, mapErr(err)
}

// GroupGateways lists every group override of an organisation.
func (r *Reader) GroupGateways(ctx context.Context, orgID int64) ([]model.GroupGateway, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT ag.name, gg.channel, g.name FROM group_gateways gg
		JOIN account_groups ag ON ag.id = gg.group_id JOIN gateways g ON g.id = gg.gateway_id
		WHERE ag.org_id = $1 ORDER BY ag.name, gg.channel`, orgID)
	if err != nil {
		return nil, fmt.Errorf("listing group gateways: %w", err)
	}
	defer rows.Close()
	out := []model.GroupGateway{}
	for rows.Next() {
		var gg model.GroupGateway
		if err := rows.Scan(&gg.Group, &gg.Channel, &gg.Gateway); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, gg)
	}
	return out, rows.Err()
}
