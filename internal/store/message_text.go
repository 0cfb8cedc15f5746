package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// Message texts at rest (migration 0009). A message's body and HTML carry
// its link. The body and html columns of messages and outbox hold them
// with the link tokens masked, and that is all a listing or a view reads;
// the whole text is in sealed_text, sealed with the secret key, which the
// store never holds: activation seals it, the delivery worker opens it to
// send. A message's sealed text is dropped by a trigger as the message is
// sent, delivered or failed; the outbox's sealed copy stays, for an admin
// to read while the link lives. Rows an earlier version wrote in clear
// have text_masked false until the start-up pass masks them.

// SealMessageText keeps the whole text of a message just queued, sealed,
// beside the masked text EnqueueMessage wrote: called right after it, in
// the same transaction, so the whole text is never in the database in clear.
func (tx *Tx) SealMessageText(ctx context.Context, id int64, sealed []byte) error {
	return tx.execOne(ctx, `UPDATE messages SET sealed_text = $1, text_masked = TRUE WHERE id = $2`, sealed, id)
}

// SealOutboxText keeps the whole text of the outbox's copy of a message
// sealed, beside the masked text PutOutbox wrote: called right after it,
// in the same transaction.
func (tx *Tx) SealOutboxText(ctx context.Context, messageID int64, sealed []byte) error {
	return tx.execOne(ctx, `UPDATE outbox SET sealed_text = $1, text_masked = TRUE WHERE message_id = $2`, sealed, messageID)
}

// MessageSealedText is the sealed whole text of a message, for its send:
// nil once the message was sent, delivered or failed, and for a message
// written without one (an earlier version's, until activator starts again).
func (r *Reader) MessageSealedText(ctx context.Context, id int64) ([]byte, error) {
	var sealed []byte
	err := r.q.QueryRowContext(ctx, `SELECT sealed_text FROM messages WHERE id = $1`, id).Scan(&sealed)
	if err != nil {
		return nil, mapErr(err)
	}
	return sealed, nil
}

// ClearText is a message or outbox row whose text is in clear: written by
// an earlier version, before texts were masked.
type ClearText struct {
	ID         int64
	Body, HTML string
}

func (r *Reader) clearTexts(ctx context.Context, table string, limit int) ([]ClearText, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, body, html FROM `+table+` WHERE NOT text_masked ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing %s texts kept in clear: %w", table, err)
	}
	defer rows.Close()
	var out []ClearText
	for rows.Next() {
		var c ClearText
		if err := rows.Scan(&c.ID, &c.Body, &c.HTML); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ClearMessageTexts lists up to limit messages whose text is in clear, by id.
func (r *Reader) ClearMessageTexts(ctx context.Context, limit int) ([]ClearText, error) {
	return r.clearTexts(ctx, "messages", limit)
}

// ClearOutboxTexts lists up to limit outbox messages whose text is in clear, by id.
func (r *Reader) ClearOutboxTexts(ctx context.Context, limit int) ([]ClearText, error) {
	return r.clearTexts(ctx, "outbox", limit)
}

// MaskMessageText replaces the clear text of a message by its masked
// form, and keeps sealed, the whole one only while the message may still
// be sent (queued, or being sent).
func (tx *Tx) MaskMessageText(ctx context.Context, id int64, body, html string, sealed []byte) error {
	if _, err := tx.exec(ctx, `UPDATE messages SET body = $1, html = $2, text_masked = TRUE WHERE id = $3 AND NOT text_masked`,
		body, html, id); err != nil {
		return fmt.Errorf("masking the text of message %d: %w", id, err)
	}
	if _, err := tx.exec(ctx, `UPDATE messages SET sealed_text = $1 WHERE id = $2 AND state IN ($3, $4)`,
		sealed, id, model.MessageQueued, model.MessageSending); err != nil {
		return fmt.Errorf("sealing the text of message %d: %w", id, err)
	}
	return nil
}

// MaskOutboxText replaces the clear text of an outbox message by its
// masked form and keeps the whole one sealed.
func (tx *Tx) MaskOutboxText(ctx context.Context, id int64, body, html string, sealed []byte) error {
	_, err := tx.exec(ctx, `UPDATE outbox SET body = $1, html = $2, sealed_text = $3, text_masked = TRUE WHERE id = $4 AND NOT text_masked`,
		body, html, sealed, id)
	if err != nil {
		return fmt.Errorf("masking the text of outbox message %d: %w", id, err)
	}
	return nil
}

// OutboxSecret is what showing an outbox message whole needs: its sealed
// text, and the state of the link it carries.
type OutboxSecret struct {
	Sealed []byte // nil for a row an earlier version wrote in clear, until the start-up pass
	// HasLink: the message carries a link, and the link still exists (an
	// account's links go with it when it is deleted).
	HasLink       bool
	LinkExpiresAt time.Time
	LinkUsed      bool // redeemed or revoked
}

// OutboxSecretOf reads the sealed text of an outbox message and the state
// of its link.
func (r *Reader) OutboxSecretOf(ctx context.Context, orgID, id int64) (*OutboxSecret, error) {
	var (
		s                 OutboxSecret
		expires           sql.NullInt64
		revoked, redeemed sql.NullInt64
	)
	err := r.q.QueryRowContext(ctx, `SELECT o.sealed_text, i.expires_at, i.revoked_at, i.redeemed_at
		FROM outbox o LEFT JOIN messages m ON m.id = o.message_id LEFT JOIN invitations i ON i.id = m.invitation_id
		WHERE o.org_id = $1 AND o.id = $2`, orgID, id).Scan(&s.Sealed, &expires, &revoked, &redeemed)
	if err != nil {
		return nil, mapErr(err)
	}
	s.HasLink = expires.Valid
	s.LinkExpiresAt = fromMS(expires.Int64)
	s.LinkUsed = revoked.Valid || redeemed.Valid
	return &s, nil
}

// Compact makes what was overwritten in an SQLite database gone from its
// files too, not only from its tables: VACUUM rewrites the file without
// its free pages, and a truncating checkpoint empties the write-ahead log.
// The start-up pass runs it after masking texts an earlier version kept in
// clear. On PostgreSQL it does nothing: old row versions stay in its files
// until autovacuum reuses their space (pg_dump never carries them), and
// VACUUM FULL, which locks the tables, is the operator's call.
func (s *Store) Compact(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.db.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("compacting the database: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("compacting the database: %w", err)
	}
	return nil
}
