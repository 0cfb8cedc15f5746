package store

import (
	"context"
	"fmt"

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

// SetDigest stores an account's digest hashes made with realm from the
// SIP password sealed as sealedPassword, if that is still the account's:
// false when the password changed since it was read (a redeem or a
// deactivation, which stored hashes of their own).
func (tx *Tx) SetDigest(ctx context.Context, id int64, sealedPassword []byte, ha1MD5, ha1SHA256, realm string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE accounts SET ha1_md5 = $1, ha1_sha256 = $2, ha1_realm = $3 WHERE id = $4 AND sip_password = $5`,
		ha1MD5, ha1SHA256, realm, id, sealedPassword)
	if err != nil {
		return false, fmt.Errorf("storing re-hashed digest: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
