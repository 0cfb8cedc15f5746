package messaging

import (
	"context"
	"errors"

	"github.com/activator-voip/activator/internal/store"
)

// groupCommit writes the outcomes of the sends that finish together in
// one transaction: each commit is a write lock taken on SQLite and a
// flush of the write-ahead log on PostgreSQL, and one per message was
// most of what a busy queue cost. Nothing waits to fill a batch: the
// first writer commits at once what is pending; writers that arrive
// meanwhile go in the next commit, made by one of them as soon as the
// first is done. Each writer gets the answer of the commit its write was
// in, so a record is as durable when record returns as it was with a
// transaction of its own.
//
// The sends of a commit are recorded in one statement and their events
// in another, and the same transaction claims the next message of each
// writer that asks for one (the sender whose slot the outcome frees), so
// a busy queue makes one write transaction per round, not a claim and a
// record.
//
// Its commits are store.Batches' batches, led by their writers (no
// goroutine of its own).
type groupCommit struct {
	store *store.Store
	// claim, when set, claims up to n due messages in a commit's
	// transaction, for the writers that asked for their next message.
	claim   func(ctx context.Context, tx *store.Tx, n int) ([]store.MessageRow, error)
	batches store.Batches[*groupWrite]
}

// groupWrite is one writer's part of a commit: a write of its own (fn),
// or a send to record with the commit's other sends (sent, and its
// event when it has one).
type groupWrite struct {
	fn     func(ctx context.Context, tx *store.Tx) error
	sent   *store.SentMessage
	event  *store.NewEvent
	next   bool        // the writer takes its next message from the commit's claim
	result groupResult // set by the commit that holds it
}

type groupResult struct {
	err  error
	next *store.MessageRow // with next: the message claimed for the writer, if one was due
}

// write runs fn in a transaction, with the writes that arrive at the same
// time, and returns when that transaction has committed or failed. fn
// must make no write when it returns store.ErrClaimLost (its message is
// no longer the claim's): the other writes of its transaction are kept.
// Any other error of fn rolls its transaction back; each of its writes is
// then made again in a transaction of its own, so one write's failure is
// only its own.
func (g *groupCommit) write(ctx context.Context, fn func(ctx context.Context, tx *store.Tx) error) error {
	return g.do(ctx, &groupWrite{fn: fn}).err
}

// do makes w in the next commit, as write does, and returns its result:
// its error (store.ErrClaimLost for a send whose claim was lost) and,
// when it asked, the message claimed for it.
func (g *groupCommit) do(ctx context.Context, me *groupWrite) groupResult {
	g.batches.Join(me, func(batch []*groupWrite) { g.commit(ctx, batch) })
	return me.result
}

// commit makes batch's writes in one transaction, and gives each writer
// its answer. When that transaction fails, each write is made again
// alone, with no claim: the messages it would have claimed are claimed
// by the worker's next round.
func (g *groupCommit) commit(ctx context.Context, batch []*groupWrite) {
	results := make([]groupResult, len(batch))
	claims := false
	for _, w := range batch {
		claims = claims || w.next && g.claim != nil
	}
	err := g.store.Tx(ctx, func(tx *store.Tx) error { return g.apply(ctx, tx, batch, results, claims) })
	for i, w := range batch {
		switch {
		case err == nil:
			w.result = results[i]
		case len(batch) == 1 && !claims:
			w.result = groupResult{err: err}
		default:
			one := make([]groupResult, 1)
			err := g.store.Tx(ctx, func(tx *store.Tx) error {
				if err := g.apply(ctx, tx, batch[i:i+1], one, false); err != nil {
					return err
				}
				return one[0].err // a lost claim: nothing was written
			})
			w.result = groupResult{err: err}
		}
	}
}

// apply makes writes in tx and sets each one's result; it returns the
// error that must roll tx back.
func (g *groupCommit) apply(ctx context.Context, tx *store.Tx, writes []*groupWrite, results []groupResult, claims bool) error {
	var (
		sent    []store.SentMessage
		senders []int
	)
	for i, w := range writes {
		results[i] = groupResult{}
		if w.sent != nil {
			sent = append(sent, *w.sent)
			senders = append(senders, i)
			continue
		}
		results[i].err = w.fn(ctx, tx)
		if results[i].err != nil && !errors.Is(results[i].err, store.ErrClaimLost) {
			return results[i].err
		}
	}
	if len(sent) > 0 {
		lost, err := tx.MarkMessagesSent(ctx, sent)
		if err != nil {
			return err
		}
		var events []store.NewEvent
		for _, i := range senders {
			switch w := writes[i]; {
			case lost[w.sent.Claim.ID]:
				results[i].err = store.ErrClaimLost
			case w.event != nil:
				events = append(events, *w.event)
			}
		}
		if err := tx.AddEvents(ctx, events); err != nil {
			return err
		}
	}
	if !claims {
		return nil
	}
	var takers []int
	for i, w := range writes {
		if w.next {
			takers = append(takers, i)
		}
	}
	next, err := g.claim(ctx, tx, len(takers))
	if err != nil {
		return err
	}
	for k := range next {
		results[takers[k]].next = &next[k]
	}
	return nil
}
