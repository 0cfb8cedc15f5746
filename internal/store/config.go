package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

const profileCols = `id, name, is_default, settings, created_at, updated_at`

func scanProfile(sc interface{ Scan(...any) error }) (*model.Profile, error) {
	var (
		p                model.Profile
		settings         string
		created, updated int64
	)
	if err := sc.Scan(&p.ID, &p.Name, &p.IsDefault, &settings, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	if err := json.Unmarshal([]byte(settings), &p.Settings); err != nil {
		return nil, fmt.Errorf("profile %q: stored settings: %w", p.Name, err)
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

// Profiles lists an organisation's profiles by name.
func (r *Reader) Profiles(ctx context.Context, orgID int64) ([]model.Profile, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+profileCols+` FROM profiles WHERE org_id = $1 ORDER BY name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	defer rows.Close()
	out := []model.Profile{}
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// ProfileByName finds a profile.
func (r *Reader) ProfileByName(ctx context.Context, orgID int64, name string) (*model.Profile, error) {
	return scanProfile(r.q.QueryRowContext(ctx, `SELECT `+profileCols+` FROM profiles WHERE org_id = $1 AND name = $2`, orgID, name))
}

// ProfileByID finds a profile.
func (r *Reader) ProfileByID(ctx context.Context, id int64) (*model.Profile, error) {
	return scanProfile(r.q.QueryRowContext(ctx, `SELECT `+profileCols+` FROM profiles WHERE id = $1`, id))
}

// DefaultProfile finds the organisation's default profile.
func (r *Reader) DefaultProfile(ctx context.Context, orgID int64) (*model.Profile, error) {
	return scanProfile(r.q.QueryRowContext(ctx, `SELECT `+profileCols+` FROM profiles WHERE org_id = $1 AND is_default`, orgID))
}

// CreateProfile inserts a profile.
func (tx *Tx) CreateProfile(ctx context.Context, orgID int64, p *model.Profile) error {
	settings, err := json.Marshal(p.Settings)
	if err != nil {
		return fmt.Errorf("encoding profile settings: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	p.ID, err = tx.insertID(ctx, `INSERT INTO profiles (org_id, name, is_default, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		orgID, p.Name, p.IsDefault, string(settings), ms(now))
	p.CreatedAt, p.UpdatedAt = now, now
	return err
}

// UpdateProfile stores a profile's name and settings.
func (tx *Tx) UpdateProfile(ctx context.Context, p *model.Profile) error {
	settings, err := json.Marshal(p.Settings)
	if err != nil {
		return fmt.Errorf("encoding profile settings: %w", err)
	}
	p.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	return tx.execOne(ctx, `UPDATE profiles SET name = $1, settings = $2, updated_at = $3 WHERE id = $4`,
		p.Name, string(settings), ms(p.UpdatedAt), p.ID)
}

// DeleteProfile deletes a profile; ErrInUse while a group or account uses it.
func (tx *Tx) DeleteProfile(ctx context.Context, id int64) error {
	return tx.execOne(ctx, `DELETE FROM profiles WHERE id = $1`, id)
}

const groupCols = `g.id, g.name, g.it_email, COALESCE(p.name, ''), g.profile_id, g.created_at`

const groupFrom = ` FROM account_groups g LEFT JOIN profiles p ON p.id = g.profile_id`

// GroupRow is a group with its profile id.
type GroupRow struct {
	model.Group
	ProfileID *int64
}

func scanGroup(sc interface{ Scan(...any) error }) (*GroupRow, error) {
	var (
		g       GroupRow
		pid     nullInt
		created int64
	)
	if err := sc.Scan(&g.ID, &g.Name, &g.ITEmail, &g.Profile, &pid, &created); err != nil {
		return nil, mapErr(err)
	}
	g.ProfileID = pid.ptr()
	g.CreatedAt = fromMS(created)
	return &g, nil
}

// Groups lists an organisation's groups by name.
func (r *Reader) Groups(ctx context.Context, orgID int64) ([]model.Group, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+groupCols+groupFrom+` WHERE g.org_id = $1 ORDER BY g.name`, orgID)
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	defer rows.Close()
	out := []model.Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g.Group)
	}
	return out, rows.Err()
}

// GroupByName finds a group.
func (r *Reader) GroupByName(ctx context.Context, orgID int64, name string) (*GroupRow, error) {
	return scanGroup(r.q.QueryRowContext(ctx, `SELECT `+groupCols+groupFrom+` WHERE g.org_id = $1 AND g.name = $2`, orgID, name))
}

// GroupByID finds a group.
func (r *Reader) GroupByID(ctx context.Context, id int64) (*GroupRow, error) {
	return scanGroup(r.q.QueryRowContext(ctx, `SELECT `+groupCols+groupFrom+` WHERE g.id = $1`, id))
}

// CreateGroup inserts a group.
func (tx *Tx) CreateGroup(ctx context.Context, orgID int64, g *GroupRow) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id, err := tx.insertID(ctx, `INSERT INTO account_groups (org_id, name, it_email, profile_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		orgID, g.Name, g.ITEmail, g.ProfileID, ms(now))
	g.ID, g.CreatedAt = id, now
	return err
}

// UpdateGroup stores a group's fields.
func (tx *Tx) UpdateGroup(ctx context.Context, g *GroupRow) error {
	return tx.execOne(ctx, `UPDATE account_groups SET name = $1, it_email = $2, profile_id = $3 WHERE id = $4`,
		g.Name, g.ITEmail, g.ProfileID, g.ID)
}

// DeleteGroup deletes a group; ErrInUse while it has accounts.
func (tx *Tx) DeleteGroup(ctx context.Context, id int64) error {
	return tx.execOne(ctx, `DELETE FROM account_groups WHERE id = $1`, id)
}

// AppURLs lists the download URLs.
func (r *Reader) AppURLs(ctx context.Context, orgID int64) ([]model.AppURL, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT platform, security_model, url FROM app_urls WHERE org_id = $1 ORDER BY platform, security_model`, orgID)
	if err != nil {
		return nil, fmt.Errorf("listing download URLs: %w", err)
	}
	defer rows.Close()
	out := []model.AppURL{}
	for rows.Next() {
		var a model.AppURL
		if err := rows.Scan(&a.Platform, &a.SecurityModel, &a.URL); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// PutAppURL sets a download URL.
func (tx *Tx) PutAppURL(ctx context.Context, orgID int64, a model.AppURL) error {
	_, err := tx.exec(ctx, `INSERT INTO app_urls (org_id, platform, security_model, url, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (org_id, platform, security_model) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at`,
		orgID, a.Platform, string(a.SecurityModel), a.URL, ms(time.Now()))
	return err
}

// DeleteAppURL removes a download URL.
func (tx *Tx) DeleteAppURL(ctx context.Context, orgID int64, platform string, m model.SecurityModel) error {
	return tx.execOne(ctx, `DELETE FROM app_urls WHERE org_id = $1 AND platform = $2 AND security_model = $3`, orgID, platform, string(m))
}

// Settings returns the settings an administrator has set.
func (r *Reader) Settings(ctx context.Context, orgID int64) (map[string]string, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT key, value FROM settings WHERE org_id = $1`, orgID)
	if err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// OrgNameSettings reads, for every organisation, the settings a request
// names it by (sip_domain, sip_host and public_base_url, whose host the SIP
// domain falls back to), in one query: the registrar tells the
// organisation a request is for from its domain, the web from its host. An
// organisation that sets none of them has an empty map.
func (r *Reader) OrgNameSettings(ctx context.Context) (map[int64]map[string]string, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT o.id, s.key, s.value FROM organisations o
		LEFT JOIN settings s ON s.org_id = o.id AND s.key IN ($1, $2, $3)`,
		model.SettingSIPDomain, model.SettingSIPHost, model.SettingPublicBaseURL)
	if err != nil {
		return nil, fmt.Errorf("reading the settings that name each organisation: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]string{}
	for rows.Next() {
		var (
			id   int64
			k, v sql.NullString
		)
		if err := rows.Scan(&id, &k, &v); err != nil {
			return nil, fmt.Errorf("reading the settings that name each organisation: %w", err)
		}
		if out[id] == nil {
			out[id] = map[string]string{}
		}
		if k.Valid {
			out[id][k.String] = v.String
		}
	}
	return out, rows.Err()
}

// PutSetting sets one setting. Setting sip_domain re-scopes the
// organisation's accounts' usernames in the same transaction
// (rescopeAccounts): a *UsernameClashError when one would collide.
func (tx *Tx) PutSetting(ctx context.Context, orgID int64, key, value string) error {
	_, err := tx.exec(ctx, `INSERT INTO settings (org_id, key, value, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		orgID, key, value, ms(time.Now()))
	if err == nil && key == model.SettingSIPDomain {
		err = tx.rescopeAccounts(ctx, orgID, value != "")
	}
	return err
}

// DeleteSetting removes one setting, if set: what reads it sees its default.
func (tx *Tx) DeleteSetting(ctx context.Context, orgID int64, key string) error {
	_, err := tx.exec(ctx, `DELETE FROM settings WHERE org_id = $1 AND key = $2`, orgID, key)
	if err == nil && key == model.SettingSIPDomain {
		err = tx.rescopeAccounts(ctx, orgID, false)
	}
	return err
}

// UsernameClashError means an organisation's accounts cannot move into
// another username scope: Username is taken there by another
// organisation's account.
type UsernameClashError struct{ Username string }

func (e *UsernameClashError) Error() string {
	return "username " + e.Username + " is taken in that SIP domain by another organisation's account"
}

// UsernameScope is the username scope of an organisation's accounts: the
// organisation itself when it has a SIP domain of its own, else the
// default organisation, whose SIP domain it shares.
func UsernameScope(orgID int64, ownDomain bool) int64 {
	if ownDomain && orgID != model.DefaultOrgID {
		return orgID
	}
	return model.DefaultOrgID
}

// UsernamesTaken reports which of names some account has in username
// scope scope, whichever organisation's: the usernames an import drew
// that another organisation sharing the scope already uses.
func (r *Reader) UsernamesTaken(ctx context.Context, scope int64, names []string) (map[string]bool, error) {
	taken := map[string]bool{}
	if len(names) == 0 {
		return taken, nil
	}
	list, err := json.Marshal(names)
	if err != nil {
		return nil, fmt.Errorf("encoding usernames: %w", err)
	}
	in := `SELECT value FROM json_each($2)`
	if r.dialect == Postgres {
		in = `SELECT jsonb_array_elements_text($2::jsonb)`
	}
	rows, err := r.q.QueryContext(ctx, `SELECT username FROM accounts WHERE username_scope = $1 AND username IN (`+in+`)`, scope, string(list))
	if err != nil {
		return nil, fmt.Errorf("reading usernames in use: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("reading usernames in use: %w", err)
		}
		taken[u] = true
	}
	return taken, rows.Err()
}

// OrgUsernameScope reads the username scope of an organisation's accounts
// from its sip_domain setting (as the database's insert trigger does).
func (r *Reader) OrgUsernameScope(ctx context.Context, orgID int64) (int64, error) {
	var own bool
	err := r.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM settings WHERE org_id = $1 AND key = $2 AND value <> '')`,
		orgID, model.SettingSIPDomain).Scan(&own)
	if err != nil {
		return 0, fmt.Errorf("reading the username scope: %w", err)
	}
	return UsernameScope(orgID, own), nil
}

// rescopeAccounts moves an organisation's accounts into the username scope
// its SIP domain now gives them: its own (ownDomain) or the default
// organisation's. Moving into the shared scope is refused with a
// *UsernameClashError naming the first username another organisation's
// account has there; nothing is moved then, and the caller's transaction
// is rolled back.
func (tx *Tx) rescopeAccounts(ctx context.Context, orgID int64, ownDomain bool) error {
	scope := UsernameScope(orgID, ownDomain)
	var clash string
	err := tx.q.QueryRowContext(ctx, `SELECT a.username FROM accounts a
		JOIN accounts b ON b.username_scope = $2 AND b.username = a.username AND b.org_id <> $1
		WHERE a.org_id = $1 AND a.username_scope <> $2 ORDER BY a.username LIMIT 1`, orgID, scope).Scan(&clash)
	switch {
	case err == nil:
		return &UsernameClashError{Username: clash}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("checking usernames in the new SIP domain: %w", mapErr(err))
	}
	if _, err := tx.exec(ctx, `UPDATE accounts SET username_scope = $1 WHERE org_id = $2 AND username_scope <> $1`, scope, orgID); err != nil {
		return fmt.Errorf("moving the accounts' usernames into the new SIP domain: %w", err)
	}
	return nil
}

// nullInt scans a nullable integer.
type nullInt struct{ v *int64 }

func (n *nullInt) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		n.v = nil
	case int64:
		n.v = &x
	case int32:
		y := int64(x)
		n.v = &y
	default:
		return fmt.Errorf("scanning nullable integer: unexpected %T", src)
	}
	return nil
}

func (n nullInt) ptr() *int64 { return n.v }

// EffectiveProfileOf is the profile an account's configuration follows,
// in one query: its own, else its group's, else its organisation's
// default; source says which ("account", "group" or "default").
func (r *Reader) EffectiveProfileOf(ctx context.Context, accountID int64) (p *model.Profile, source string, err error) {
	p, err = scanProfile(prefixScan{r.q.QueryRowContext(ctx, `SELECT `+effectiveProfileSource+`,
		ep.id, ep.name, ep.is_default, ep.settings, ep.created_at, ep.updated_at
		FROM accounts a JOIN account_groups g ON g.id = a.group_id`+effectiveProfileJoin+`
		WHERE a.id = $1`, accountID), []any{&source}})
	return p, source, err
}
