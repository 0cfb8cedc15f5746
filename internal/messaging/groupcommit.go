package messaging

import (
	"context"
	"errors"
	"sync"

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
// It runs no goroutine of its own: a writer leads a commit and hands the
// next one to a writer waiting, so none stays behind to be stopped.
type groupCommit struct {
	store   *store.Store
	mu      sync.Mutex
	pending []*groupWrite
	busy    bool // a writer is committing; the next commit is handed to a waiting writer
}

type groupWrite struct {
	fn   func(ctx context.Context, tx *store.Tx) error
	done chan groupResult // buffered: its result, or first the lead of the next commit
}

type groupResult struct {
	err  error
	lead bool // the commit is this writer's to make, with what is pending
}

// write runs fn in a transaction, with the writes that arrive at the same
// time, and returns when that transaction has committed or failed. fn
// must make no write when it returns store.ErrClaimLost (its message is
// no longer the claim's): the other writes of its transaction are kept.
// Any other error of fn rolls its transaction back; each of its writes is
// then made again in a transaction of its own, so one write's failure is
// only its own.
func (g *groupCommit) write(ctx context.Context, fn func(ctx context.Context, tx *store.Tx) error) error {
	me := &groupWrite{fn: fn, done: make(chan groupResult, 1)}
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
	g.commit(ctx, batch)
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

// commit makes batch's writes in one transaction, and gives each writer
// its answer.
func (g *groupCommit) commit(ctx context.Context, batch []*groupWrite) {
	errs := make([]error, len(batch))
	err := g.store.Tx(ctx, func(tx *store.Tx) error {
		for i, w := range batch {
			errs[i] = w.fn(ctx, tx)
			if errs[i] != nil && !errors.Is(errs[i], store.ErrClaimLost) {
				return errs[i]
			}
		}
		return nil
	})
	for i, w := range batch {
		switch {
		case err == nil:
			w.done <- groupResult{err: errs[i]}
		case len(batch) == 1:
			w.done <- groupResult{err: err}
		default:
			w.done <- groupResult{err: g.store.Tx(ctx, func(tx *store.Tx) error { return w.fn(ctx, tx) })}
		}
	}
}
