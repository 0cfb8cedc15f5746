package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/activator-voip/activator/internal/model"
)

// StaleDigest is an account whose digest hashes may not be for its
// organisation's SIP domain: what re-hashing them needs.
type StaleDigest struct {
	ID          int64
	Username    string
	SIPPassword []byte // sealed
	HA1MD5      string
	HA1SHA256   string
	HA1Realm    string // the realm they were made with; "": not known
	SIPEnabled  bool   // activated and enabled: it may register
}

// StaleDigests lists, in id order after the account id after, up to
// limit accounts of an organisation holding a SIP password whose digest
// hashes were not made with realm (those of an unknown realm included).
// Read by keyset on accounts_org_id, a walk of a million accounts reads
// each once.
func (r *Reader) StaleDigests(ctx context.Context, orgID int64, realm string, after int64, limit int) ([]StaleDigest, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, username, sip_password, ha1_md5, ha1_sha256, ha1_realm, stage, disabled
		FROM accounts WHERE org_id = $1 AND id > $2 AND sip_password IS NOT NULL AND ha1_realm <> $3 ORDER BY id LIMIT $4`,
		orgID, after, realm, limit)
	if err != nil {
		return nil, fmt.Errorf("reading digests to re-hash: %w", mapErr(err))
	}
	defer rows.Close()
	var out []StaleDigest
	for rows.Next() {
		var (
			d        StaleDigest
			stage    string
			disabled bool
		)
		if err := rows.Scan(&d.ID, &d.Username, &d.SIPPassword, &d.HA1MD5, &d.HA1SHA256, &d.HA1Realm, &stage, &disabled); err != nil {
			return nil, fmt.Errorf("reading digests to re-hash: %w", mapErr(err))
		}
		d.SIPEnabled = stage == model.StageActivated && !disabled
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading digests to re-hash: %w", mapErr(err))
	}
	return out, nil
}

// Digest is an account's digest hashes made with a realm from the SIP
// password sealed as SealedPassword.
type Digest struct {
	AccountID      int64
	SealedPassword []byte
	HA1MD5         string
	HA1SHA256      string
}

// SetDigests stores each account's digest hashes, made with realm, if the
// password they were made from is still the account's (a redeem or a
// deactivation since it was read stored hashes of its own), and returns
// the accounts it stored them for. On PostgreSQL it is one statement for
// the lot, one round trip where one per account made re-hashing a
// million accounts take minutes; SQLite, in process, updates them one by
// one.
func (tx *Tx) SetDigests(ctx context.Context, realm string, ds []Digest) (map[int64]bool, error) {
	done := make(map[int64]bool, len(ds))
	if len(ds) == 0 {
		return done, nil
	}
	if tx.dialect != Postgres {
		for _, d := range ds {
			res, err := tx.exec(ctx, `UPDATE accounts SET ha1_md5 = $1, ha1_sha256 = $2, ha1_realm = $3 WHERE id = $4 AND sip_password = $5`,
				d.HA1MD5, d.HA1SHA256, realm, d.AccountID, d.SealedPassword)
			if err != nil {
				return nil, fmt.Errorf("storing re-hashed digests: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return nil, err
			} else if n > 0 {
				done[d.AccountID] = true
			}
		}
		return done, nil
	}
	var q strings.Builder
	args := make([]any, 0, 1+4*len(ds))
	args = append(args, realm)
	q.WriteString(`WITH v (id, pw, m, s) AS (VALUES `)
	for i, d := range ds {
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		if i == 0 { // the first row types the columns
			fmt.Fprintf(&q, "($%d::bigint, $%d::bytea, $%d::text, $%d::text)", n+1, n+2, n+3, n+4)
		} else {
			fmt.Fprintf(&q, "($%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4)
		}
		args = append(args, d.AccountID, d.SealedPassword, d.HA1MD5, d.HA1SHA256)
	}
	q.WriteString(`) UPDATE accounts a SET ha1_md5 = v.m, ha1_sha256 = v.s, ha1_realm = $1 FROM v
		WHERE a.id = v.id AND a.sip_password = v.pw RETURNING a.id`)
	rows, err := tx.q.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("storing re-hashed digests: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("storing re-hashed digests: %w", mapErr(err))
		}
		done[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storing re-hashed digests: %w", mapErr(err))
	}
	return done, nil
}
