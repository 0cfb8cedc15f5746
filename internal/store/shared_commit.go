package store

import (
	"context"
	"errors"
)

// SharedCommit commits the writes that arrive together in one transaction. On
// SQLite every transaction takes the one write lock and makes a commit of
// its own: with many writers at once (devices redeeming, phones
// registering) they queued for the lock one transaction each, and the
// commits were most of what each cost. Nothing waits to fill a group:
// the first writer commits at once with what is pending; writes that
// arrive meanwhile go in the next commit, led by one of their writers as
// soon as the first is done. Each writer returns only after the commit
// that holds its writes, so a write is as durable when Tx returns as
// with a transaction of its own.
//
// A write must be all made or none: its function returns NoWrite(err) (a
// refusal decided before its first write) to be left out of the commit
// while the others of its group are kept. Any other error rolls the
// group back, and each of its writes is then made again in a transaction
// of its own, so one write's failure is only its own: a function may run
// twice, and must leave nothing behind but its writes when it fails.
//
// Its commits are Batches' batches, led by their writers (no goroutine
// of its own).
type SharedCommit struct {
	store   *Store
	batches Batches[*groupWrite]
}

type groupWrite struct {
	ctx context.Context
	fn  func(ctx context.Context, tx *Tx) error
	err error // set by the commit that holds it
}

// NewSharedCommit makes a group commit on s. On SQLite one commit runs at
// a time (it holds the one write lock). On PostgreSQL two may: a commit's
// writes are statements made one after the other on one connection, and
// with one at a time the redeems queued behind it while a third of the
// machine's two cores was idle; two keep the server busy while either
// waits for its log flush or for activator.
func NewSharedCommit(s *Store) *SharedCommit {
	g := &SharedCommit{store: s}
	if s.dialect == Postgres {
		g.batches.Width = 2
	}
	return g
}

// noWrite marks a refusal made before any write.
type noWrite struct{ err error }

func (e noWrite) Error() string { return e.err.Error() }
func (e noWrite) Unwrap() error { return e.err }

// NoWrite marks err, returned by a SharedCommit's write before any of its
// writes, as leaving the rest of its commit alone. Tx returns err itself.
func NoWrite(err error) error { return noWrite{err} }

// plain is err without its NoWrite mark.
func plain(err error) error {
	var nw noWrite
	if errors.As(err, &nw) {
		return nw.err
	}
	return err
}

// SharedTx runs fn as a write of the store's own SharedCommit: the hot
// paths' writes (a landing page's view, a redeem, a REGISTER) that arrive
// together are committed together. On SQLite every transaction waits for
// the one write lock and makes a commit of its own. On PostgreSQL writers
// do not wait for each other, but each transaction of a hot path paid
// for itself what one shared among many pays once: its commit's flush of
// the write-ahead log, and the locks on every table and index its
// statement touches (a redeem's statement touches four tables and their
// nineteen indexes, more than a backend's sixteen fast-path lock slots,
// so each of them went through the shared lock table). A redeem's
// PostgreSQL CPU time halved in one transaction with the others arriving
// meanwhile (docs/performance.md).
func (s *Store) SharedTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return s.shared.Tx(ctx, fn)
}

// Tx runs fn in a transaction with the writes that arrive at the same
// time and returns when that transaction has committed or failed.
func (g *SharedCommit) Tx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	me := &groupWrite{ctx: ctx, fn: fn}
	g.batches.Join(me, g.commit)
	return me.err
}

// commit makes batch's writes in one transaction and gives each its
// answer. The transaction is not the leader's to cancel: a leader whose
// client went away still commits the others' writes.
func (g *SharedCommit) commit(batch []*groupWrite) {
	errs := make([]error, len(batch))
	err := g.store.Tx(context.WithoutCancel(batch[0].ctx), func(tx *Tx) error {
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
			w.err = plain(errs[i])
		case len(batch) == 1:
			w.err = plain(err)
		default:
			w.err = plain(g.store.Tx(w.ctx, func(tx *Tx) error { return w.fn(w.ctx, tx) }))
		}
	}
}

// Width is how many of its commits may run at once.
func (g *SharedCommit) Width() int { return max(g.batches.Width, 1) }

// Waiting is how many writes wait for the next commit.
func (g *SharedCommit) Waiting() int { return g.batches.Waiting() }
