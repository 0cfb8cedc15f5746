package store

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// With Width batches under way, the work arriving waits and becomes one
// batch, run once a batch ends; never more than Width run at once, and
// each caller returns only after the batch holding its work has run.
func TestBatchesRunAtMostWidthAtOnce(t *testing.T) {
	for _, width := range []int{0, 1, 2, 3} {
		lanes := max(width, 1)
		b := &Batches[*int]{Width: width}
		var running, most atomic.Int32
		release := make(chan struct{})
		entered := make(chan struct{}, lanes)
		var batches [][]*int
		var mu sync.Mutex
		run := func(batch []*int) {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			if *batch[0] < lanes {
				entered <- struct{}{}
				<-release
			}
			mu.Lock()
			batches = append(batches, batch)
			mu.Unlock()
			for _, w := range batch {
				*w += 1000 // ran
			}
			running.Add(-1)
		}
		var wg sync.WaitGroup
		join := func(v int) {
			w := v
			wg.Go(func() {
				b.Join(&w, run)
				if w != v+1000 {
					t.Errorf("width %d: work %d returned before its batch ran", width, v)
				}
			})
		}
		// The first lanes callers each lead a batch of their own and are
		// held in it; the next ten wait, together.
		for i := range lanes {
			join(i)
			<-entered
		}
		for i := range 10 {
			join(lanes + i)
		}
		for deadline := time.Now().Add(10 * time.Second); b.Waiting() < 10; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("width %d: %d callers wait, want 10", width, b.Waiting())
			}
		}
		close(release)
		wg.Wait()
		if m := most.Load(); int(m) != lanes {
			t.Errorf("width %d: %d batches ran at once, want %d", width, m, lanes)
		}
		sizes := map[int]int{}
		for _, x := range batches {
			sizes[len(x)]++
		}
		if len(batches) != lanes+1 || sizes[1] != lanes || sizes[10] != 1 {
			t.Errorf("width %d: batches of these sizes: %v, want %d of one and one of the ten that waited", width, sizes, lanes)
		}
	}
}

// Under many callers at once, each work runs exactly once, in one batch.
func TestBatchesRunEachWorkOnce(t *testing.T) {
	for _, width := range []int{1, 2} {
		b := &Batches[*int]{Width: width}
		var ran atomic.Int64
		run := func(batch []*int) {
			for _, w := range batch {
				*w++
				ran.Add(1)
			}
		}
		const n = 2000
		works := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { b.Join(&works[i], run) })
		}
		wg.Wait()
		for i, w := range works {
			if w != 1 {
				t.Fatalf("width %d: work %d ran %d times", width, i, w)
			}
		}
		if ran.Load() != n || b.Waiting() != 0 || b.running != 0 {
			t.Fatalf("width %d: %d ran, %d waiting, %d batches under way", width, ran.Load(), b.Waiting(), b.running)
		}
	}
}
