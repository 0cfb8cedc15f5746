package activation

import (
	"context"
	"errors"
	"sync"

	"github.com/activator-voip/activator/internal/store"
)

// redeemGroup commits the redeems that arrive together in one transaction
// on SQLite, where every transaction takes the one write lock and makes a
// commit of its own: with many devices activating at once, redeems queued
// for the lock one transaction each, and the queue was the redeem's p99.
// Nothing waits to fill a group: the first redeem commits at once with
// what is pending; those that arrive meanwhile go in the next commit,
// led by one of them as soon as the first is done. Each redeem answers
// only after the commit that holds its writes, so an activation is as
// durable at its answer as with a transaction of its own.
//
// A redeem's writes must be all made or none: its function returns a
// noWrite error (a refusal decided before its first write, such as a link
// another redeem used up) to be left out of the commit while the others
// of its group are kept. Any other error rolls the group back, and each
// of its redeems is then made again in a transaction of its own, so one
// redeem's failure is only its own.
//
// It runs no goroutine of its own: a redeem leads a commit and hands the
// next one to a redeem waiting, so none stays behind to be stopped.
type redeemGroup struct {
	store   *store.Store
	mu      sync.Mutex
	pending []*groupedRedeem
	busy    bool
}

type groupedRedeem struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *store.Tx) error
	done chan groupResult // buffered: its result, or first the lead of the next commit
}

type groupResult struct {
	err  error
	lead bool
}

// noWrite marks a redeem's refusal made before any of its writes.
type noWrite struct{ err error }

func (e noWrite) Error() string { return e.err.Error() }
func (e noWrite) Unwrap() error { return e.err }

// plain is err without its noWrite mark.
func plain(err error) error {
	var nw noWrite
	if errors.As(err, &nw) {
		return nw.err
	}
	return err
}

// write runs fn in a transaction with the redeems that arrive at the same
// time and returns when that transaction has committed or failed.
func (g *redeemGroup) write(ctx context.Context, fn func(ctx context.Context, tx *store.Tx) error) error {
	me := &groupedRedeem{ctx: ctx, fn: fn, done: make(chan groupResult, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, me)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead {
		r := <-me.done
		if !r.lead {
			return r.err
		}
	}
	g.mu.Lock()
	batch := g.pending
	g.pending = nil
	g.mu.Unlock()
	g.commit(batch)
	g.mu.Lock()
	if len(g.pending) > 0 {
		next := g.pending[0]
		g.mu.Unlock()
		next.done <- groupResult{lead: true}
	} else {
		g.busy = false
		g.mu.Unlock()
	}
	return (<-me.done).err
}

// commit makes batch's redeems in one transaction and gives each its
// answer. The transaction is not the leader's to cancel: a leader whose
// client went away still commits the others' redeems.
func (g *redeemGroup) commit(batch []*groupedRedeem) {
	errs := make([]error, len(batch))
	err := g.store.Tx(context.WithoutCancel(batch[0].ctx), func(tx *store.Tx) error {
		for i, w := range batch {
			errs[i] = w.fn(w.ctx, tx)
			if errs[i] != nil && !errors.As(errs[i], new(noWrite)) {
				return errs[i]
			}
		}
		return nil
	})
	for i, w := range batch {
		switch {
		case err == nil:
			w.done <- groupResult{err: plain(errs[i])}
		case len(batch) == 1:
			w.done <- groupResult{err: plain(err)}
		default:
			w.done <- groupResult{err: plain(g.store.Tx(w.ctx, func(tx *store.Tx) error { return w.fn(w.ctx, tx) }))}
		}
	}
}
