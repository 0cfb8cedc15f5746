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
	// Width is how many batches may run at once (0: one). The next batch
	// starts at once while fewer run; past that the work arriving waits
	// for the first of them to end.
	Width int

	mu      sync.Mutex
	pending []*batched[W]
	running int // batches under way; pending is empty unless Width of them are
}

type batched[W any] struct {
	work W
	lead chan []*batched[W] // buffered: the batch its caller is to run, its own work first; nil, the batch holding its work has run
}

// Join adds work to the next batch and returns once that batch has run:
// run(batch), called by this caller or by the one leading the batch, sets
// each work's results before Join returns.
func (b *Batches[W]) Join(work W, run func(batch []W)) {
	me := &batched[W]{work: work, lead: make(chan []*batched[W], 1)}
	var batch []*batched[W]
	b.mu.Lock()
	b.pending = append(b.pending, me)
	if b.running < max(b.Width, 1) {
		b.running++
		batch, b.pending = b.pending, nil
	}
	b.mu.Unlock()
	if batch == nil {
		if batch = <-me.lead; batch == nil {
			return
		}
		// Handed a batch: the work that arrived while this caller woke up
		// goes in it too, as no batch has taken it yet.
		b.mu.Lock()
		batch = append(batch, b.pending...)
		b.pending = nil
		b.mu.Unlock()
	}
	works := make([]W, len(batch))
	for i, x := range batch {
		works[i] = x.work
	}
	run(works)
	for _, x := range batch {
		if x != me {
			x.lead <- nil
		}
	}
	// The work that arrived meanwhile is the next batch, handed whole to
	// one of its callers: taken here, no other leader can take it too.
	b.mu.Lock()
	next := b.pending
	b.pending = nil
	if len(next) == 0 {
		b.running--
	}
	b.mu.Unlock()
	if len(next) > 0 {
		next[0].lead <- next
	}
}

// Waiting is how many callers' work waits for the next batch.
func (b *Batches[W]) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}
