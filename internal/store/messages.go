package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// MessageRow is a queued message with its delivery bookkeeping.
type MessageRow struct {
	model.Message
	OrgID       int64
	MaxAttempts int
	// ClaimedBy names the delivery worker instance that last claimed the
	// message; LockedUntil is when its lease runs out (nil unless sending).
	ClaimedBy   string
	LockedUntil *time.Time
	// SealedText is the message's whole text, sealed, as ClaimMessages
	// returns it for the send (nil: none, the text is Body and HTML);
	// other reads leave it nil.
	SealedText []byte
}

// A Claim is one delivery worker's hold on one message: the message, the
// instance that claimed it and the attempt the claim counted. Every write
// about the attempt names its claim, so a worker whose lease ran out cannot
// overwrite what the claim that took the message over does with it. The
// writes are idempotent while the claim holds: a write that committed but
// whose answer was lost can be made again.
type Claim struct {
	ID      int64
	Owner   string
	Attempt int
}

// Claim is the claim the row was returned with by ClaimMessages.
func (m *MessageRow) Claim() Claim { return Claim{ID: m.ID, Owner: m.ClaimedBy, Attempt: m.Attempts} }

// ErrClaimLost means a message is no longer held by the claim a write
// named: its lease ran out and another claim took it, or it was handed back.
var ErrClaimLost = errors.New("the message is no longer held by this claim")

// MessagesChannel is the PostgreSQL notification channel on which a
// transaction that queues a message, or puts one back in the queue,
// announces it when it commits (a trigger of migration 0005 sends it).
const MessagesChannel = "activator_messages"

const messageCols = `id, org_id, account_id, invitation_id, username, channel, kind, gateway, recipient, subject, body, html,
	state, attempts, max_attempts, last_error, provider_id, created_at, next_attempt_at, sent_at, delivered_at, receipt_status,
	claimed_by, locked_until`

func scanMessage(sc interface{ Scan(...any) error }, extra ...any) (*MessageRow, error) {
	var (
		m             MessageRow
		acc, inv      nullInt
		created, next int64
		sent          sql.NullInt64
		delivered     sql.NullInt64
		locked        sql.NullInt64
	)
	dest := append([]any{&m.ID, &m.OrgID, &acc, &inv, &m.Username, &m.Channel, &m.Kind, &m.Gateway, &m.Recipient, &m.Subject, &m.Body, &m.HTML,
		&m.State, &m.Attempts, &m.MaxAttempts, &m.LastError, &m.ProviderID, &created, &next, &sent, &delivered, &m.ReceiptStatus,
		&m.ClaimedBy, &locked}, extra...)
	err := sc.Scan(dest...)
	if err != nil {
		return nil, mapErr(err)
	}
	if acc.v != nil {
		m.AccountID = *acc.v
	}
	if inv.v != nil {
		m.LinkID = *inv.v
	}
	m.CreatedAt, m.NextAttemptAt = fromMS(created), fromMS(next)
	m.SentAt = nullTime(sent)
	m.DeliveredAt = nullTime(delivered)
	m.LockedUntil = nullTime(locked)
	return &m, nil
}

// EnqueueMessage writes a message in state queued, due now. Called in the
// same transaction as the link it carries, so neither exists without the other.
func (tx *Tx) EnqueueMessage(ctx context.Context, m *MessageRow) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	var inv *int64
	if m.LinkID != 0 {
		inv = &m.LinkID
	}
	id, err := tx.insertID(ctx, `INSERT INTO messages (org_id, account_id, invitation_id, username, channel, kind, gateway, recipient,
		subject, body, html, state, attempts, max_attempts, created_at, updated_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $14, $14)`,
		m.OrgID, m.AccountID, inv, m.Username, m.Channel, m.Kind, m.Gateway, m.Recipient, m.Subject, m.Body, m.HTML,
		model.MessageQueued, m.MaxAttempts, ms(now))
	m.ID, m.State, m.CreatedAt, m.NextAttemptAt = id, model.MessageQueued, now, now
	return err
}

// ClaimMessages takes up to limit due messages for sending on behalf of
// the instance owner: sending ones whose lease ran out (their sender
// died) first, then queued ones whose time has come, earliest first. Each
// claimed message has its attempt counted and is leased until now+lease;
// its row's Claim names the claim, and its SealedText is the text to
// send, so a send needs no second read.
//
// Each kind is read on its own index in its order (messages_leases,
// messages_due) and only as far as limit, so a claim costs the rows it
// takes however long the queue is: one query with an OR of both had the
// database read and sort every due message on each claim. Queued
// messages due in the same millisecond go in id order on SQLite (the
// index ends with the rowid) and in the index's order on PostgreSQL,
// where sorting by id as well would read the whole millisecond's batch.
func (tx *Tx) ClaimMessages(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]MessageRow, error) {
	if limit <= 0 {
		return nil, nil
	}
	// On SQLite the state and the time are compared as +$4 and +$3: where
	// the database was analysed, a parameter compared bare with an indexed
	// column has its value read by the planner, and then every new value
	// bound has SQLite prepare the statement again, on every claim.
	state, at := `$4`, `$3`
	if tx.dialect == SQLite {
		state, at = `+$4`, `+$3`
	}
	out, err := tx.claim(ctx, owner, now, lease, limit, `state = `+state+` AND locked_until < `+at, `locked_until`, model.MessageSending)
	if err != nil {
		return nil, err
	}
	if len(out) < limit {
		order := `next_attempt_at`
		if tx.dialect == SQLite {
			order += `, id`
		}
		queued, err := tx.claim(ctx, owner, now, lease, limit-len(out), `state = `+state+` AND next_attempt_at <= `+at, order, model.MessageQueued)
		if err != nil {
			return nil, err
		}
		out = append(out, queued...)
	}
	return out, nil
}

// claim leases up to limit messages in state, read WHERE cond ORDER BY
// order: the placeholders are those of ClaimMessages' one query.
func (tx *Tx) claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, cond, order, state string) ([]MessageRow, error) {
	rows, err := tx.q.QueryContext(ctx, tx.claimQuery(cond, order), model.MessageSending, ms(now.Add(lease)), ms(now), state, limit, owner)
	if err != nil {
		return nil, fmt.Errorf("claiming messages: %w", mapErr(err))
	}
	defer rows.Close()
	var out []MessageRow
	for rows.Next() {
		var sealed []byte
		m, err := scanMessage(rows, &sealed)
		if err != nil {
			return nil, err
		}
		m.SealedText = sealed
		out = append(out, *m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claiming messages: %w", mapErr(err))
	}
	// RETURNING keeps no order: give the rows the one they were read in.
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		return a.NextAttemptAt.Before(b.NextAttemptAt) || a.NextAttemptAt.Equal(b.NextAttemptAt) && a.ID < b.ID
	})
	return out, nil
}

// claimQuery is the statement of claim. On PostgreSQL the ids are read
// into an array first and the rows then found by their primary key: as
// "id IN (...)", the generic plan of its driver's prepared statement
// (which cannot know the LIMIT) joined the ids to a scan of the whole
// table on every claim.
func (r *Reader) claimQuery(cond, order string) string {
	// On SQLite the LIMIT is a CAST for the reason ClaimMessages' times
	// and states are +$3 and +$4: a bare parameter is read by the planner,
	// and each new value then prepares the statement again.
	ids := `id IN (SELECT id FROM messages WHERE ` + cond + ` ORDER BY ` + order + ` LIMIT CAST($5 AS INTEGER))`
	if r.dialect == Postgres {
		ids = `id = ANY(ARRAY(SELECT id FROM messages WHERE ` + cond + ` ORDER BY ` + order + ` LIMIT $5 FOR UPDATE SKIP LOCKED))`
	}
	return `UPDATE messages SET state = $1, attempts = attempts + 1, locked_until = $2, updated_at = $3, claimed_by = $6
		WHERE ` + ids + `
		RETURNING ` + messageCols + `, sealed_text`
}

// claimed runs an UPDATE of claim c's message, "SET set WHERE cond AND
// <the row is c's>"; ErrClaimLost when the message is no longer c's. The
// placeholders of set and cond come first; the claim's are the next three.
func (tx *Tx) claimed(ctx context.Context, c Claim, set, cond string, args ...any) error {
	n := len(args)
	err := tx.execOne(ctx, `UPDATE messages SET `+set+` WHERE `+cond+fmt.Sprintf(` AND id = $%d AND claimed_by = $%d AND attempts = $%d`, n+1, n+2, n+3),
		append(args, c.ID, c.Owner, c.Attempt)...)
	if errors.Is(err, ErrNotFound) {
		return ErrClaimLost
	}
	return err
}

// RenewLease extends the lease of a message being sent to until, while
// its send (or the record of it) takes longer than the lease: another
// instance must not take over a live sender's message.
func (tx *Tx) RenewLease(ctx context.Context, c Claim, until time.Time) error {
	return tx.claimed(ctx, c, `locked_until = $1`, `state = $2`, ms(until), model.MessageSending)
}

// MarkMessageSent records a delivery to the gateway. It drops the sealed
// text itself, as the trigger of migration 0009 would, which then has
// nothing to do: on SQLite that saves a second UPDATE of the row.
// A delivery receipt that came in while the send was being recorded (the
// provider can be that fast) has already set the final state: it is kept.
func (tx *Tx) MarkMessageSent(ctx context.Context, c Claim, providerID string, at time.Time) error {
	return tx.claimed(ctx, c, `
		state = CASE WHEN receipt_status <> '' AND state IN ($4, $5) THEN state ELSE $1 END,
		last_error = CASE WHEN receipt_status <> '' AND state = $5 THEN last_error ELSE '' END,
		provider_id = $2, sent_at = $3, updated_at = $3, locked_until = NULL, sealed_text = NULL`, `TRUE`,
		model.MessageSent, providerID, ms(at), model.MessageDelivered, model.MessageFailed)
}

// SentMessage is one send to a gateway, to record with MarkMessagesSent.
type SentMessage struct {
	Claim      Claim
	ProviderID string
	At         time.Time
}

// The sends MarkMessagesSent records, as one JSON array: one statement,
// prepared once, whatever their number.
const (
	sentRowsSQLite = `(SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.owner') AS owner,
		json_extract(value, '$.attempt') AS attempt, json_extract(value, '$.provider_id') AS provider_id, json_extract(value, '$.at') AS at
		FROM json_each($4))`
	sentRowsPostgres = `jsonb_to_recordset($4::jsonb) AS v_(id bigint, owner text, attempt integer, provider_id text, at bigint)`
)

// MarkMessagesSent records several sends at once, each as
// MarkMessageSent does, in one statement: the outcomes of the sends that
// finish together. It returns the ids of the messages no longer held by
// the claim it was given (ErrClaimLost for MarkMessageSent), which it
// leaves as they were.
func (tx *Tx) MarkMessagesSent(ctx context.Context, sent []SentMessage) (lost map[int64]bool, err error) {
	if len(sent) == 0 {
		return nil, nil
	}
	type row struct {
		ID         int64  `json:"id"`
		Owner      string `json:"owner"`
		Attempt    int    `json:"attempt"`
		ProviderID string `json:"provider_id"`
		At         int64  `json:"at"`
	}
	rs := make([]row, len(sent))
	for i, s := range sent {
		rs[i] = row{s.Claim.ID, s.Claim.Owner, s.Claim.Attempt, s.ProviderID, ms(s.At)}
	}
	b, err := json.Marshal(rs)
	if err != nil {
		return nil, fmt.Errorf("recording sent messages: %w", err)
	}
	from := sentRowsPostgres
	if tx.dialect == SQLite {
		from = sentRowsSQLite + ` AS v_`
	}
	rows, err := tx.q.QueryContext(ctx, `UPDATE messages SET
		state = CASE WHEN receipt_status <> '' AND state IN ($2, $3) THEN state ELSE $1 END,
		last_error = CASE WHEN receipt_status <> '' AND state = $3 THEN last_error ELSE '' END,
		provider_id = v_.provider_id, sent_at = v_.at, updated_at = v_.at, locked_until = NULL, sealed_text = NULL
		FROM `+from+`
		WHERE messages.id = v_.id AND messages.claimed_by = v_.owner AND messages.attempts = v_.attempt
		RETURNING messages.id`, model.MessageSent, model.MessageDelivered, model.MessageFailed, string(b))
	if err != nil {
		return nil, fmt.Errorf("recording sent messages: %w", mapErr(err))
	}
	defer rows.Close()
	held := make(map[int64]bool, len(sent))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("recording sent messages: %w", mapErr(err))
		}
		held[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recording sent messages: %w", mapErr(err))
	}
	for _, s := range sent {
		if !held[s.Claim.ID] {
			if lost == nil {
				lost = map[int64]bool{}
			}
			lost[s.Claim.ID] = true
		}
	}
	return lost, nil
}

// MarkMessageRetry puts a message back in the queue for a later attempt.
func (tx *Tx) MarkMessageRetry(ctx context.Context, c Claim, lastError string, next time.Time) error {
	return tx.claimed(ctx, c, `state = $1, last_error = $2, next_attempt_at = $3, updated_at = $4, locked_until = NULL`, `TRUE`,
		model.MessageQueued, lastError, ms(next), ms(time.Now()))
}

// MarkMessageFailed gives a message up.
func (tx *Tx) MarkMessageFailed(ctx context.Context, c Claim, lastError string) error {
	return tx.claimed(ctx, c, `state = $1, last_error = $2, updated_at = $3, locked_until = NULL, sealed_text = NULL`, `TRUE`,
		model.MessageFailed, lastError, ms(time.Now()))
}

// ReleaseMessage hands a claimed message back unsent (its worker is
// stopping): queued again as it was, the claim's attempt not counted, the
// lease cleared, so any instance sends it at once.
func (tx *Tx) ReleaseMessage(ctx context.Context, c Claim) error {
	return tx.claimed(ctx, c, `state = $1, attempts = attempts - 1, locked_until = NULL, claimed_by = '', updated_at = $2`,
		`state = $3`, model.MessageQueued, ms(time.Now()), model.MessageSending)
}

// ReleaseStaleClaims puts back in the queue, due at once, every message
// still being sent by owner: called when the instance starts, when none of
// its sends can be running, so a restart does not wait out its own leases.
// The attempts stay counted: the sends may have reached the provider.
func (tx *Tx) ReleaseStaleClaims(ctx context.Context, owner string) (int64, error) {
	res, err := tx.exec(ctx, `UPDATE messages SET state = $1, locked_until = NULL, claimed_by = '', updated_at = $2
		WHERE state = $3 AND claimed_by = $4`, model.MessageQueued, ms(time.Now()), model.MessageSending, owner)
	if err != nil {
		return 0, fmt.Errorf("releasing stale claims: %w", err)
	}
	return res.RowsAffected()
}

// NextMessageDue is when the queue next needs its worker, read from the
// indexes: the earliest next attempt of a queued message, or the earliest
// lease to run out. ok is false when nothing is queued or being sent.
func (r *Reader) NextMessageDue(ctx context.Context) (at time.Time, ok bool, err error) {
	var due sql.NullInt64
	err = r.q.QueryRowContext(ctx, `SELECT MIN(due) FROM (
		SELECT MIN(next_attempt_at) AS due FROM messages WHERE state = $1
		UNION ALL
		SELECT MIN(locked_until) AS due FROM messages WHERE state = $2) AS d`,
		model.MessageQueued, model.MessageSending).Scan(&due)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading the next due message: %w", mapErr(err))
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return fromMS(due.Int64), true, nil
}

// MessageFilter narrows a message listing.
type MessageFilter struct {
	State     string
	AccountID int64
	Limit     int
	// Before and After page by id: see Page.
	Before, After int64
}

// Messages lists messages, newest first.
func (r *Reader) Messages(ctx context.Context, orgID int64, f MessageFilter) ([]model.Message, error) {
	out, _, err := r.MessagesPage(ctx, orgID, f)
	return out, err
}

// MessagesPage lists one page of messages, newest first, and where the
// pages beside it start.
func (r *Reader) MessagesPage(ctx context.Context, orgID int64, f MessageFilter) ([]model.Message, PageInfo, error) {
	q, a := r.messagesQuery(orgID, f)
	rows, err := r.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, PageInfo{}, fmt.Errorf("listing messages: %w", err)
	}
	defer rows.Close()
	out := []model.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, PageInfo{}, err
		}
		out = append(out, m.Message)
	}
	if err := rows.Err(); err != nil {
		return nil, PageInfo{}, fmt.Errorf("listing messages: %w", err)
	}
	out, info := finish(Page{Limit: f.Limit, Before: f.Before, After: f.After}, out, func(m model.Message) int64 { return m.ID })
	return out, info, nil
}

func (r *Reader) messagesQuery(orgID int64, f MessageFilter) (string, []any) {
	var a args
	where := []string{"org_id = " + a.add(orgID)}
	if f.State != "" {
		where = append(where, "state = "+a.add(f.State))
	}
	if f.AccountID != 0 {
		where = append(where, "account_id = "+a.add(f.AccountID))
	}
	cond, tail := Page{Limit: f.Limit, Before: f.Before, After: f.After}.clause("id", a.add)
	if cond != "" {
		where = append(where, cond)
	}
	return `SELECT ` + messageCols + ` FROM messages WHERE ` + strings.Join(where, " AND ") + tail, a
}

// MessageByID finds a message.
func (r *Reader) MessageByID(ctx context.Context, id int64) (*MessageRow, error) {
	return scanMessage(r.q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE id = $1`, id))
}

// PutOutbox keeps a message in the outbox, in the message's own
// organisation (read from its row: a gateway is told no organisation, so
// none can be named wrong). Delivering the same message twice keeps one
// copy; a message that is not in the queue is ErrNotFound.
func (tx *Tx) PutOutbox(ctx context.Context, it *model.OutboxItem) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	var orgID int64
	if err := tx.q.QueryRowContext(ctx, `SELECT org_id FROM messages WHERE id = $1`, it.MessageID).Scan(&orgID); err != nil {
		return fmt.Errorf("keeping message %d in the outbox: %w", it.MessageID, mapErr(err))
	}
	_, err := tx.exec(ctx, `INSERT INTO outbox (org_id, message_id, channel, recipient, subject, body, html, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_id) DO NOTHING`,
		orgID, it.MessageID, it.Channel, it.Recipient, it.Subject, it.Body, it.HTML, ms(now))
	it.CreatedAt = now
	return err
}

const outboxCols = `id, message_id, channel, recipient, subject, body, html, created_at`

func scanOutbox(sc interface{ Scan(...any) error }) (*model.OutboxItem, error) {
	var (
		it      model.OutboxItem
		created int64
	)
	if err := sc.Scan(&it.ID, &it.MessageID, &it.Channel, &it.Recipient, &it.Subject, &it.Body, &it.HTML, &created); err != nil {
		return nil, mapErr(err)
	}
	it.CreatedAt = fromMS(created)
	return &it, nil
}

// Outbox lists the outbox, newest first.
func (r *Reader) Outbox(ctx context.Context, orgID int64, limit int) ([]model.OutboxItem, error) {
	out, _, err := r.OutboxPage(ctx, orgID, Page{Limit: limit})
	return out, err
}

// OutboxPage lists one page of the outbox, newest first, and where the
// pages beside it start.
func (r *Reader) OutboxPage(ctx context.Context, orgID int64, p Page) ([]model.OutboxItem, PageInfo, error) {
	q, a := outboxQuery(orgID, p)
	rows, err := r.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, PageInfo{}, fmt.Errorf("listing the outbox: %w", err)
	}
	defer rows.Close()
	out := []model.OutboxItem{}
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, PageInfo{}, err
		}
		out = append(out, *it)
	}
	if err := rows.Err(); err != nil {
		return nil, PageInfo{}, fmt.Errorf("listing the outbox: %w", err)
	}
	out, info := finish(p, out, func(it model.OutboxItem) int64 { return it.ID })
	return out, info, nil
}

func outboxQuery(orgID int64, p Page) (string, []any) {
	var a args
	where := "org_id = " + a.add(orgID)
	p.Offset = 0
	cond, tail := p.clause("id", a.add)
	if cond != "" {
		where += " AND " + cond
	}
	return `SELECT ` + outboxCols + ` FROM outbox WHERE ` + where + tail, a
}

// OutboxItem finds one outbox item.
func (r *Reader) OutboxItem(ctx context.Context, orgID, id int64) (*model.OutboxItem, error) {
	return scanOutbox(r.q.QueryRowContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE org_id = $1 AND id = $2`, orgID, id))
}

// Delivery receipts: finding the message a receipt speaks of and
// recording what it says.

// ReceiptTarget is the message a delivery receipt speaks of.
type ReceiptTarget struct {
	ID         int64
	OrgID      int64
	AccountID  int64
	Channel    string
	State      string
	ProviderID string
	Recipient  string
}

func scanReceiptTarget(row *row) (*ReceiptTarget, error) {
	var (
		t   ReceiptTarget
		acc sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.OrgID, &acc, &t.Channel, &t.State, &t.ProviderID, &t.Recipient); err != nil {
		return nil, mapErr(err)
	}
	t.AccountID = acc.Int64
	return &t, nil
}

const receiptCols = `id, org_id, account_id, channel, state, provider_id, recipient`

// MessageOfGateway finds a message by id among those sent through gateway.
func (r *Reader) MessageOfGateway(ctx context.Context, orgID int64, gateway string, id int64) (*ReceiptTarget, error) {
	return scanReceiptTarget(r.q.QueryRowContext(ctx, `SELECT `+receiptCols+` FROM messages WHERE org_id = $1 AND gateway = $2 AND id = $3`, orgID, gateway, id))
}

// MessageByProviderID finds a message by the id its gateway's provider gave it.
func (r *Reader) MessageByProviderID(ctx context.Context, orgID int64, gateway, providerID string) (*ReceiptTarget, error) {
	return scanReceiptTarget(r.q.QueryRowContext(ctx, `SELECT `+receiptCols+` FROM messages
		WHERE org_id = $1 AND gateway = $2 AND provider_id = $3 ORDER BY id DESC LIMIT 1`, orgID, gateway, providerID))
}

// LatestSentTo finds the newest message sent through gateway to recipient
// and not yet delivered: for providers whose receipts name only the number.
func (r *Reader) LatestSentTo(ctx context.Context, orgID int64, gateway, recipient string) (*ReceiptTarget, error) {
	return scanReceiptTarget(r.q.QueryRowContext(ctx, `SELECT `+receiptCols+` FROM messages
		WHERE org_id = $1 AND gateway = $2 AND recipient = $3 AND state = $4 ORDER BY id DESC LIMIT 1`, orgID, gateway, recipient, model.MessageSent))
}

// MarkMessageDelivered records a receipt saying the message arrived. A
// message already failed or delivered keeps its state; the receipt's status is kept.
func (tx *Tx) MarkMessageDelivered(ctx context.Context, id int64, status string, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE messages SET state = $1, delivered_at = $2, receipt_status = $3, updated_at = $4
		WHERE id = $5 AND state IN ($6, $7)`, model.MessageDelivered, ms(at), status, ms(time.Now()), id, model.MessageSent, model.MessageSending)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// MarkMessageUndelivered records a receipt saying the message will never arrive.
func (tx *Tx) MarkMessageUndelivered(ctx context.Context, id int64, status, reason string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE messages SET state = $1, last_error = $2, receipt_status = $3, updated_at = $4, locked_until = NULL
		WHERE id = $5 AND state IN ($6, $7)`, model.MessageFailed, reason, status, ms(time.Now()), id, model.MessageSent, model.MessageSending)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// SetReceiptStatus records an intermediate status (buffered, accepted...).
func (tx *Tx) SetReceiptStatus(ctx context.Context, id int64, status string) error {
	_, err := tx.exec(ctx, `UPDATE messages SET receipt_status = $1, updated_at = $2 WHERE id = $3`, status, ms(time.Now()), id)
	return err
}
