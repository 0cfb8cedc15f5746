package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/activator-voip/activator/internal/model"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Stats is the connection pool's state and the count of database errors
// since the store was opened; the metrics read it at scrape.
type Stats struct {
	Pool sql.DBStats
	// Errors counts the statements and transactions the database failed:
	// connection losses, timeouts, a full disk, ... Not the answers the
	// domain expects (no such row, a unique value taken) nor a cancelled
	// request.
	Errors uint64
}

// Stats returns the pool's state and the error count.
func (s *Store) Stats() Stats {
	return Stats{Pool: s.db.Stats(), Errors: s.health.errs.Load()}
}

// isDatabaseError says whether err is the database failing, not an
// answer: a constraint that refused a row, no row, or a cancellation
// are answers.
func isDatabaseError(err error) bool {
	if err == nil || errors.Is(err, sql.ErrNoRows) || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return !strings.HasPrefix(pgErr.Code, "23") // class 23: integrity constraint violation
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code()&0xff != sqlite3.SQLITE_CONSTRAINT
	}
	return true
}

// MessageCount is how many messages of one gateway are in one state, and
// when the oldest of them was queued.
type MessageCount struct {
	Gateway, State string
	Count          int64
	Oldest         time.Time
}

// QueueCounts counts the messages queued or being sent, by gateway and
// state, with the oldest one's queueing time: a range of the messages_due
// index, as cheap as the queue is short. For the metrics.
func (r *Reader) QueueCounts(ctx context.Context) ([]MessageCount, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT gateway, state, COUNT(*), MIN(created_at) FROM messages
		WHERE state IN ($1, $2) GROUP BY gateway, state`, model.MessageQueued, model.MessageSending)
	if err != nil {
		return nil, fmt.Errorf("counting the queue: %w", err)
	}
	defer rows.Close()
	var out []MessageCount
	for rows.Next() {
		var c MessageCount
		var oldest int64
		if err := rows.Scan(&c.Gateway, &c.State, &c.Count, &oldest); err != nil {
			return nil, fmt.Errorf("counting the queue: %w", err)
		}
		c.Oldest = fromMS(oldest)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting the queue: %w", err)
	}
	return out, nil
}

// StateCounts counts every message by state, all gateways: one scan of
// the messages_due index, not of the rows. For the metrics.
func (r *Reader) StateCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT state, COUNT(*) FROM messages GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting messages: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("counting messages: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting messages: %w", err)
	}
	return out, nil
}
