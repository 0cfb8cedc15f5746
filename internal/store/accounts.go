package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	HA1Realm    string // the realm HA1MD5 and HA1SHA256 were made with; "": not known (made before it was kept)
}

const accountCols = `a.id, a.org_id, a.group_id, g.name, a.username, a.display_name, a.email, a.mobile, a.security_model,
	a.profile_id, COALESCE(p.name, ''), a.virtual_number, a.language, a.description, a.kind, a.stage, a.disabled,
	a.sip_password, a.ha1_md5, a.ha1_sha256, a.created_at, a.updated_at, a.activated_at, a.one_device, a.ha1_realm`

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
		&a.SIPPassword, &a.HA1MD5, &a.HA1SHA256, &created, &updated, &activated, &a.OneDevice, &a.HA1Realm)
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
	Search  string // words, each the start of a word of the name, username, virtual number, mobile or e-mail
	// SecurityModel narrows to one security model; empty: any.
	SecurityModel string
	Limit         int
	Offset        int
	// Before and After page by id: see Page.
	Before, After int64
}

func (f AccountFilter) page() Page {
	return Page{Limit: f.Limit, Before: f.Before, After: f.After, Offset: f.Offset}
}

// Accounts lists accounts, newest first.
func (r *Reader) Accounts(ctx context.Context, orgID int64, f AccountFilter) ([]model.Account, error) {
	out, _, err := r.AccountsPage(ctx, orgID, f)
	return out, err
}

// AccountsPage lists one page of accounts, newest first, and where the
// pages beside it start.
func (r *Reader) AccountsPage(ctx context.Context, orgID int64, f AccountFilter) ([]model.Account, PageInfo, error) {
	q, a := r.accountsQuery(orgID, f)
	rows, err := r.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, PageInfo{}, fmt.Errorf("listing accounts: %w", err)
	}
	defer rows.Close()
	out := []model.Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, PageInfo{}, err
		}
		out = append(out, a.Account)
	}
	if err := rows.Err(); err != nil {
		return nil, PageInfo{}, fmt.Errorf("listing accounts: %w", err)
	}
	out, info := finish(f.page(), out, func(a model.Account) int64 { return a.ID })
	return out, info, nil
}

// eventsQuery reads an account's timeline from events_account (account_id, id).
const eventsQuery = `SELECT id, kind, at, actor, detail FROM events WHERE account_id = $1 ORDER BY id`

// searchPrefix is the longest start of a word that both engines' search
// indexes hold as a term of its own (migration 0019: FTS5's prefix
// indexes, PostgreSQL's search_terms): a search word up to this long is
// read from one list, newest first; a longer one merges the whole words it
// starts.
const searchPrefix = 8

// searchWords splits a search into the words both indexes hold: runs of
// letters and digits (what SQLite's unicode61 tokenizer keeps). Every
// other character separates words, so no word holds a quote or an
// operator of either engine's query syntax.
func searchWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Co, r)
	})
}

// searchMatch is a search as the engine's full-text query: each word a
// prefix, all of them required. SQLite's FTS5 reads a quoted string with
// its own tokenizer (a word it splits further is a phrase, still of word
// starts). On PostgreSQL a word of up to searchPrefix characters is a term
// of search_terms itself, looked up exactly; a longer one is a prefix.
func (r *Reader) searchMatch(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		switch {
		case r.dialect != Postgres:
			parts[i] = `"` + w + `"*`
		case utf8.RuneCountInString(w) <= searchPrefix:
			parts[i] = w
		default:
			parts[i] = w + ":*"
		}
	}
	if r.dialect == Postgres {
		return strings.Join(parts, " & ")
	}
	return strings.Join(parts, " ")
}

// sqlString is s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// accountsQuery is the one query of an account listing, with its
// arguments; the store's tests read its plan.
func (r *Reader) accountsQuery(orgID int64, f AccountFilter) (string, []any) {
	return r.accountsSelect(accountCols, orgID, f)
}

// accountsSelect is the query of the accounts f selects, in f's page,
// reading cols (of accounts a, account_groups g and profiles p): a listing
// and an export share their FROM and WHERE.
func (r *Reader) accountsSelect(cols string, orgID int64, f AccountFilter) (string, []any) {
	var a args
	where := []string{"a.org_id = " + a.add(orgID)}
	if f.GroupID != nil {
		where = append(where, "a.group_id = "+a.add(*f.GroupID))
	}
	if f.SecurityModel != "" {
		where = append(where, "a.security_model = "+a.add(f.SecurityModel))
	}
	switch {
	case f.Status == model.StatusDisabled:
		where = append(where, "a.disabled = "+a.add(true))
	case f.Status != "":
		where = append(where, "a.stage = "+a.add(f.Status), "a.disabled = "+a.add(false))
	}
	// A search on SQLite is driven by the index, newest first, with the
	// page's bound and limit on its rowid, so FTS5 stops at the page's end
	// however many accounts match. PostgreSQL's planner picks between the
	// GIN index (few matches) and the primary key walked backwards (many).
	from, col := accountFrom, "a.id"
	if f.Search != "" {
		words := searchWords(f.Search)
		switch {
		case len(words) == 0:
			where = append(where, "1 = 0") // nothing but separators: no word to start
		case r.dialect == Postgres:
			// The query is written into the statement, not bound: whether
			// the index or the primary key serves it depends on how common
			// its terms are, and a prepared statement's generic plan
			// would choose once for every search. It holds only letters,
			// digits, & and :*.
			where = append(where, "a.search_terms @@ to_tsquery('pg_catalog.simple', "+sqlString(r.searchMatch(words))+")")
		default:
			// CROSS JOIN keeps accounts_fts the outer loop.
			from = ` FROM accounts_fts CROSS JOIN accounts a ON a.id = accounts_fts.rowid` +
				` JOIN account_groups g ON g.id = a.group_id LEFT JOIN profiles p ON p.id = a.profile_id`
			col = "accounts_fts.rowid"
			// The organisation's term keeps a small organisation's search
			// from reading a large one's matches; the words are looked for
			// in the five fields, not in org_id.
			where = append(where, "accounts_fts MATCH "+a.add(`org_id : "`+strconv.FormatInt(orgID, 10)+
				`" AND {display_name username virtual_number mobile email} : (`+r.searchMatch(words)+`)`))
		}
	}
	cond, tail := f.page().clause(col, a.add)
	if cond != "" {
		where = append(where, cond)
	}
	return `SELECT ` + cols + from + ` WHERE ` + strings.Join(where, " AND ") + tail, a
}

// accountByUsernameQuery finds an organisation's account by its username
// through the one index usernames have, UNIQUE (username_scope, username):
// an account's scope is its own organisation or the default one (whose
// SIP domain the organisations without their own share), so the two
// scopes are all it may be in.
const accountByUsernameQuery = `SELECT ` + accountCols + accountFrom +
	` WHERE a.username_scope IN ($1, $3) AND a.username = $2 AND a.org_id = $1`

// AccountByUsername finds an account.
func (r *Reader) AccountByUsername(ctx context.Context, orgID int64, username string) (*AccountRow, error) {
	return scanAccount(r.q.QueryRowContext(ctx, accountByUsernameQuery, orgID, username, model.DefaultOrgID))
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
	if err == nil && a.OneDevice {
		// Set apart, so the insert stays the one the upgrade tests make
		// on schemas from before migration 0015.
		err = tx.execOne(ctx, `UPDATE accounts SET one_device = $1 WHERE id = $2`, true, id)
	}
	return err
}

// UpdateAccount stores the fields an operator edits.
func (tx *Tx) UpdateAccount(ctx context.Context, a *AccountRow) error {
	a.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	return tx.execOne(ctx, `UPDATE accounts SET group_id = $1, display_name = $2, email = $3, mobile = $4, security_model = $5,
		profile_id = $6, virtual_number = $7, language = $8, description = $9, updated_at = $10, one_device = $11 WHERE id = $12`,
		a.GroupID, a.DisplayName, a.Email, a.Mobile, string(a.SecurityModel), a.ProfileID, a.VirtualNumber,
		a.Language, a.Description, ms(a.UpdatedAt), a.OneDevice, a.ID)
}

// SetSIPPassword replaces an account's SIP password and its digest hashes,
// made with realm.
func (tx *Tx) SetSIPPassword(ctx context.Context, id int64, sealedPassword []byte, ha1MD5, ha1SHA256, realm string) error {
	return tx.execOne(ctx, `UPDATE accounts SET sip_password = $1, ha1_md5 = $2, ha1_sha256 = $3, ha1_realm = $4, updated_at = $5 WHERE id = $6`,
		sealedPassword, ha1MD5, ha1SHA256, realm, ms(time.Now()), id)
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

// ActivateAccount gives an enabled account fresh SIP secrets, their
// digest hashes made with realm, and moves it to activated; ErrNotFound
// when the account is gone or disabled (a disable that commits first is
// not undone).
func (tx *Tx) ActivateAccount(ctx context.Context, id int64, sealedPassword []byte, ha1MD5, ha1SHA256, realm string, at time.Time) error {
	return tx.execOne(ctx, `UPDATE accounts SET stage = $1, sip_password = $3, ha1_md5 = $4, ha1_sha256 = $5, ha1_realm = $6,
		activated_at = $7, updated_at = $7 WHERE id = $8 AND disabled = $2`,
		model.StageActivated, false, sealedPassword, ha1MD5, ha1SHA256, realm, ms(at), id)
}

// DeleteAccount deletes an account with its links, devices and events.
func (tx *Tx) DeleteAccount(ctx context.Context, id int64) error {
	return tx.execOne(ctx, `DELETE FROM accounts WHERE id = $1`, id)
}

// AddEvent appends to an account's timeline.
func (tx *Tx) AddEvent(ctx context.Context, orgID, accountID int64, kind model.EventKind, actor string, detail map[string]string) error {
	d, err := eventDetail(detail)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO events (org_id, account_id, kind, at, actor, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		orgID, accountID, kind, ms(time.Now()), actor, d)
	return err
}

// eventDetail is an event's detail as its column holds it: JSON, or
// empty for none.
func eventDetail(detail map[string]string) (string, error) {
	if len(detail) == 0 {
		return "", nil
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return "", fmt.Errorf("encoding event detail: %w", err)
	}
	return string(b), nil
}

// NewEvent is an event for AddEvents to write.
type NewEvent struct {
	OrgID, AccountID int64
	Kind             model.EventKind
	Actor            string
	Detail           map[string]string
}

// AddEvents writes several events, as AddEvent does each, in one
// statement whatever their number (their rows read from one JSON array),
// the events of the sends recorded together.
func (tx *Tx) AddEvents(ctx context.Context, evs []NewEvent) error {
	if len(evs) == 0 {
		return nil
	}
	type row struct {
		OrgID     int64  `json:"org_id"`
		AccountID int64  `json:"account_id"`
		Kind      string `json:"kind"`
		Actor     string `json:"actor"`
		Detail    string `json:"detail"`
	}
	rs := make([]row, len(evs))
	for i, e := range evs {
		d, err := eventDetail(e.Detail)
		if err != nil {
			return err
		}
		rs[i] = row{OrgID: e.OrgID, AccountID: e.AccountID, Kind: string(e.Kind), Actor: e.Actor, Detail: d}
	}
	b, err := json.Marshal(rs)
	if err != nil {
		return fmt.Errorf("encoding events: %w", err)
	}
	q := `INSERT INTO events (org_id, account_id, kind, at, actor, detail)
		SELECT org_id, account_id, kind, $2::bigint, actor, detail
		FROM jsonb_to_recordset($1::jsonb) AS v(org_id bigint, account_id bigint, kind text, actor text, detail text)`
	if tx.dialect == SQLite {
		q = `INSERT INTO events (org_id, account_id, kind, at, actor, detail)
		SELECT json_extract(value, '$.org_id'), json_extract(value, '$.account_id'), json_extract(value, '$.kind'), $2,
			json_extract(value, '$.actor'), json_extract(value, '$.detail')
		FROM json_each($1) ORDER BY key`
	}
	if _, err := tx.exec(ctx, q, string(b), ms(time.Now())); err != nil {
		return fmt.Errorf("writing events: %w", err)
	}
	return nil
}

// Events lists an account's timeline, oldest first.
func (r *Reader) Events(ctx context.Context, accountID int64) ([]model.Event, error) {
	rows, err := r.q.QueryContext(ctx, eventsQuery, accountID)
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
// among enabled accounts, and "disabled". The counts are kept by triggers
// on the accounts table (migration 0012), so this reads a few rows
// however many accounts there are.
func (r *Reader) AccountCounts(ctx context.Context, orgID int64) (map[string]int, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT status, SUM(n) FROM account_counts WHERE org_id = $1 GROUP BY status`, orgID)
	if err != nil {
		return nil, fmt.Errorf("counting accounts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			k string
			n int64
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("counting accounts: %w", err)
		}
		if n != 0 {
			out[k] = int(n)
		}
	}
	return out, rows.Err()
}
