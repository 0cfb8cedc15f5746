package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/activator-voip/activator/internal/model"
)

// DeviceRedeem is what a device's redeem writes: the link it uses up, the
// account it activates with a new SIP password, and the device it adds.
type DeviceRedeem struct {
	LinkID         int64
	AccountID      int64
	OrgID          int64
	SealedPassword []byte
	HA1MD5         string
	HA1SHA256      string
	HA1Realm       string        // the realm both hashes were made with: the organisation's SIP domain
	Device         *model.Device // AccountID, its facts and CreatedAt set; ID is set by RedeemDevice
	CredentialHash []byte
	At             time.Time // the redeem's time: the link's redeemed_at, the account's activated_at
}

// ErrLinkLost is RedeemDevice's answer when it did not use the link up:
// another redeem did, or the link was revoked or expired since it was
// read, or its account was disabled or bound to another device (its
// one_device set and a live device of another device_id). It has then
// made no write.
var ErrLinkLost = errors.New("store: link not redeemable")

// redeemableAccount is the condition on the link's account ($3 false, $4
// the redeeming device's device_id) under which the link is used up: it
// is part of the deciding write, so a refusal has written nothing and no
// read before it can go stale.
const redeemableAccount = `EXISTS (SELECT 1 FROM accounts a WHERE a.id = invitations.account_id AND a.disabled = $3
	AND (a.one_device = $3 OR NOT EXISTS (SELECT 1 FROM devices d WHERE d.account_id = a.id AND d.revoked_at IS NULL AND d.device_id <> $4)))`

// RedeemDevice makes a redeem's writes: it uses the link up if it is still
// live and its account may be activated from the device (ErrLinkLost
// otherwise: of concurrent callers exactly one wins), activates the
// account if it is still enabled (ErrNotFound otherwise, on PostgreSQL
// when it was disabled in between),
// stores the device, revokes the account's other devices and live links
// and records the activated event, whose detail is the device and, if any
// lost their access, how many earlier devices did. It returns that number.
// On an error the caller must roll the transaction back: some of the
// writes may have been made.
//
// On PostgreSQL it is one statement, one round trip; SQLite, in process,
// makes them one by one.
func (tx *Tx) RedeemDevice(ctx context.Context, w DeviceRedeem) (revoked int, err error) {
	head, tail, err := activatedDetail(w.Device)
	if err != nil {
		return 0, err
	}
	if tx.dialect == Postgres {
		return tx.redeemDevicePostgres(ctx, w, head, tail)
	}
	res, err := tx.exec(ctx, `UPDATE invitations SET redeemed_at = $1
		WHERE id = $2 AND redeemed_at IS NULL AND revoked_at IS NULL AND expires_at > $1 AND `+redeemableAccount,
		ms(w.At), w.LinkID, false, w.Device.DeviceID)
	if err != nil {
		return 0, fmt.Errorf("redeeming link: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, errors.Join(ErrLinkLost, err)
	}
	if err := tx.ActivateAccount(ctx, w.AccountID, w.SealedPassword, w.HA1MD5, w.HA1SHA256, w.HA1Realm, w.At); err != nil {
		return 0, err
	}
	if err := tx.CreateDevice(ctx, w.Device, w.CredentialHash); err != nil {
		return 0, fmt.Errorf("storing device: %w", err)
	}
	if revoked, err = tx.RevokeDevices(ctx, w.AccountID, w.Device.ID); err != nil {
		return 0, fmt.Errorf("revoking earlier devices: %w", err)
	}
	if _, err := tx.RevokeLinks(ctx, w.AccountID); err != nil {
		return 0, fmt.Errorf("revoking other links: %w", err)
	}
	_, err = tx.exec(ctx, `INSERT INTO events (org_id, account_id, kind, at, actor, detail) VALUES ($1, $2, $3, $4, '', $5)`,
		w.OrgID, w.AccountID, model.EventActivated, ms(time.Now()), head+revokedPart(revoked)+tail)
	if err != nil {
		return 0, fmt.Errorf("recording the activation: %w", err)
	}
	return revoked, nil
}

// redeemDevicePostgres is Tx.RedeemDevice in one statement. Its parts see
// one snapshot: the device it inserts is not among those it revokes, and
// the link it uses up is left out of those it revokes by its id.
const redeemDevicePostgres = `WITH l AS (
	UPDATE invitations SET redeemed_at = $1
	WHERE id = $2 AND redeemed_at IS NULL AND revoked_at IS NULL AND expires_at > $1 AND ` + redeemableAccount + `
	RETURNING account_id
), a AS (
	UPDATE accounts SET stage = $5, sip_password = $6, ha1_md5 = $7, ha1_sha256 = $8, ha1_realm = $19, activated_at = $1, updated_at = $1
	WHERE id = (SELECT account_id FROM l) AND disabled = $3
	RETURNING id, org_id
), d AS (
	INSERT INTO devices (account_id, device_id, platform, model, app_version, credential_hash, credential_prefix, created_at)
	SELECT id, $4, $9, $10, $11, $12, $13, $18 FROM a
	RETURNING id
), r AS (
	UPDATE devices SET revoked_at = $14 WHERE account_id = (SELECT id FROM a) AND revoked_at IS NULL
	RETURNING id
), x AS (
	UPDATE invitations SET revoked_at = $14
	WHERE account_id = (SELECT id FROM a) AND id <> $2 AND revoked_at IS NULL AND redeemed_at IS NULL
), n AS (
	SELECT count(*) AS n FROM r
), e AS (
	INSERT INTO events (org_id, account_id, kind, at, actor, detail)
	SELECT a.org_id, a.id, $15, $14, '',
		$16::text || CASE WHEN n.n > 0 THEN ',"devices_revoked":"' || n.n || '"' ELSE '' END || $17::text
	FROM a, n
)
SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM a), COALESCE((SELECT id FROM d), 0), (SELECT n FROM n),
	1 / ((SELECT count(*) FROM a) - (SELECT count(*) FROM l) + 1)`

// redeemPartial is the SQLSTATE (division_by_zero) of the last column of
// redeemDevicePostgres when the link was used up but the account not
// activated (it was disabled since the link's update read it): the
// statement fails, so that its writes, made or none, never commit apart,
// whatever its caller does with the transaction after the error.
const redeemPartial = "22012"

func (tx *Tx) redeemDevicePostgres(ctx context.Context, w DeviceRedeem, head, tail string) (int, error) {
	d := w.Device
	var (
		links, accounts, id, revoked, whole int64
		pgErr                               *pgconn.PgError
	)
	err := tx.q.QueryRowContext(ctx, redeemDevicePostgres,
		ms(w.At), w.LinkID, false, d.DeviceID, model.StageActivated, w.SealedPassword, w.HA1MD5, w.HA1SHA256,
		d.Platform, d.Model, d.AppVersion, w.CredentialHash, d.CredentialPrefix,
		ms(time.Now()), model.EventActivated, head, tail, ms(d.CreatedAt), w.HA1Realm).Scan(&links, &accounts, &id, &revoked, &whole)
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == redeemPartial:
		return 0, ErrNotFound
	case err != nil:
		return 0, fmt.Errorf("redeeming link: %w", mapErr(err))
	case links == 0:
		return 0, ErrLinkLost
	case accounts == 0:
		return 0, ErrNotFound
	}
	d.ID = id
	return int(revoked), nil
}

// activatedDetail is the activated event's detail, the JSON object
// AddEvent would store for the device's facts and devices_revoked, split
// where devices_revoked goes (its keys in order, as encoding/json sorts a
// map's): head and tail around revokedPart.
func activatedDetail(d *model.Device) (head, tail string, err error) {
	q := func(s string) string {
		b, e := json.Marshal(s)
		if e != nil && err == nil {
			err = fmt.Errorf("encoding event detail: %w", e)
		}
		return string(b)
	}
	head = `{"app_version":` + q(d.AppVersion) + `,"device_id":` + q(d.DeviceID)
	tail = `,"model":` + q(d.Model) + `,"platform":` + q(d.Platform) + `}`
	return head, tail, err
}

func revokedPart(n int) string {
	if n == 0 {
		return ""
	}
	return `,"devices_revoked":"` + strconv.Itoa(n) + `"`
}

// RedeemRead is what a redeem reads before its write, in one query
// (LinkAndProfileByHash).
type RedeemRead struct {
	Link    *LinkRow
	Account *AccountRow // the link's whole account, as AccountByID reads it
	// Profile is the profile the account's configuration follows, as
	// EffectiveProfileOf reads it, and ProfileSource where it comes from
	// ("account", "group" or "default"); nil when there is none.
	Profile       *model.Profile
	ProfileSource string
}

// effectiveProfileSource and effectiveProfileJoin find the profile of an
// account a of group g, as ep: its own, else its group's, else its
// organisation's default.
const (
	effectiveProfileSource = `CASE WHEN a.profile_id IS NOT NULL THEN 'account' WHEN g.profile_id IS NOT NULL THEN 'group' ELSE 'default' END`
	effectiveProfileJoin   = ` JOIN profiles ep ON ep.id = COALESCE(a.profile_id, g.profile_id,
		(SELECT d.id FROM profiles d WHERE d.org_id = a.org_id AND d.is_default))`
)

// LinkAndProfileByHash is LinkByHash with the link's whole account and
// its effective profile, in one query: a redeem needs all three before
// its write, and read apart they were three queries on every redeem (two
// round trips on PostgreSQL). Read afresh with the link, the profile is
// never older than the redeem.
func (r *Reader) LinkAndProfileByHash(ctx context.Context, hash []byte) (*RedeemRead, error) {
	var (
		l                 LinkRow
		created, expires  int64
		revoked, redeemed sql.NullInt64
		itEmail, source   string
		pid, pcreated     int64
		pupdated          int64
		pname, psettings  string
		pdefault          bool
	)
	// The profile is a LEFT JOIN: an account without one is still found
	// (its link is known), and its redeem fails for want of a profile.
	a, err := scanAccount(prefixScan{r.q.QueryRowContext(ctx, `SELECT i.id, i.account_id, i.kind, i.channel, i.token_prefix, i.created_at,
		i.expires_at, i.revoked_at, i.redeemed_at, g.it_email, `+effectiveProfileSource+`,
		COALESCE(ep.id, 0), COALESCE(ep.name, ''), COALESCE(ep.is_default, false), COALESCE(ep.settings, '{}'),
		COALESCE(ep.created_at, 0), COALESCE(ep.updated_at, 0),
		`+accountCols+accountFrom+` JOIN invitations i ON i.account_id = a.id
		LEFT`+effectiveProfileJoin+`
		WHERE i.token_hash = $1`, hash),
		[]any{&l.ID, &l.AccountID, &l.Kind, &l.Channel, &l.TokenPrefix, &created, &expires, &revoked, &redeemed, &itEmail, &source,
			&pid, &pname, &pdefault, &psettings, &pcreated, &pupdated}})
	if err != nil {
		return nil, err
	}
	l.CreatedAt, l.ExpiresAt = fromMS(created), fromMS(expires)
	l.RevokedAt, l.RedeemedAt = nullTime(revoked), nullTime(redeemed)
	l.OrgID, l.Username, l.DisplayName, l.Language, l.SecurityModel = a.OrgID, a.Username, a.DisplayName, a.Language, a.SecurityModel
	l.ITEmail, l.Disabled, l.Stage = itEmail, a.Disabled, a.Stage
	out := &RedeemRead{Link: &l, Account: a}
	if pid != 0 {
		p := &model.Profile{ID: pid, Name: pname, IsDefault: pdefault, CreatedAt: fromMS(pcreated), UpdatedAt: fromMS(pupdated)}
		if err := json.Unmarshal([]byte(psettings), &p.Settings); err != nil {
			return nil, fmt.Errorf("profile %q: stored settings: %w", p.Name, err)
		}
		out.Profile, out.ProfileSource = p, source
	}
	return out, nil
}

// prefixScan scans a row whose first columns go to pre.
type prefixScan struct {
	sc  interface{ Scan(...any) error }
	pre []any
}

func (p prefixScan) Scan(dest ...any) error { return p.sc.Scan(append(p.pre, dest...)...) }
