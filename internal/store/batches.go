package store

import "sync"

// Batches runs the work that arrives while a batch is under way as the
// next batch, led by one of the callers whose work is in it: the shape of
// a group commit (SharedCommit, the delivery worker's). Nothing waits to
// fill a batch: the first caller runs at once with what is pending; work
// that arrives meanwhile goes in the next batch, run by one of its
// callers as soon as the first is done. Each caller returns once the batch
// holding its work has run, with the work's results set by the run.
//
// It runs no goroutine of its own: a caller leads a batch and hands the
// next one to a caller waiting, so none stays behind to be stopped.
type Batches[W any] struct {
	mu      sync.Mutex
	pending []*batched[W]
	busy    bool // a caller is running a batch; the next is handed to a waiting caller
}

type batched[W any] struct {
	work W
	lead chan bool // buffered: true, its caller runs the next batch; false, its batch has run
}

// Join adds work to the next batch and returns once that batch has run:
// run(batch), called by this caller or by the one leading the batch, sets
// each work's results before Join returns.
func (b *Batches[W]) Join(work W, run func(batch []W)) {
	me := &batched[W]{work: work, lead: make(chan bool, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, me)
	lead := !b.busy
	b.busy = true
	b.mu.Unlock()
	if !lead && !<-me.lead {
		return
	}
	b.mu.Lock()
	batch := b.pending
	b.pending = nil
	b.mu.Unlock()
	works := make([]W, len(batch))
	for i, x := range batch {
		works[i] = x.work
	}
	run(works)
	for _, x := range batch {
		if x != me {
			x.lead <- false
		}
	}
	b.mu.Lock()
	if len(b.pending) > 0 {
		next := b.pending[0]
		b.mu.Unlock()
		next.lead <- true
	} else {
		b.busy = false
		b.mu.Unlock()
	}
}

// Waiting is how many callers' work waits for the next batch.
func (b *Batches[W]) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}
