package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// Writes that arrive while a commit is under way are committed together
// in the next one, and each learns its own outcome: a refusal made before
// any write leaves the others of its commit alone; a failure after a
// write rolls the commit back and the others are made again alone.
func TestSharedCommitCommitsConcurrentWritesTogether(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecRaw(ctx, `CREATE TABLE group_writes (v INTEGER NOT NULL)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		g := store.NewSharedCommit(s)
		refused, boom := errors.New("refused"), errors.New("boom")
		insert := func(ctx context.Context, tx *store.Tx, v int) error {
			_, err := tx.ExecRaw(ctx, `INSERT INTO group_writes (v) VALUES ($1)`, v)
			return err
		}
		// round holds a first write inside its commit until the others
		// wait for the next one, then lets them go. Write i inserts
		// base+i; write refuse refuses before writing, write fail fails
		// after it.
		round := func(base, n, refuse, fail int) ([]error, []*store.Tx) {
			release, entered, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				firstDone <- g.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
					close(entered)
					<-release
					return insert(ctx, tx, base-1)
				})
			}()
			<-entered
			holdOtherCommits(t, g, release)
			errs, txs := make([]error, n), make([]*store.Tx, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					errs[i] = g.Tx(ctx, func(ctx context.Context, tx *store.Tx) error {
						txs[i] = tx
						if i == refuse {
							return store.NoWrite(refused)
						}
						if err := insert(ctx, tx, base+i); err != nil {
							return err
						}
						if i == fail {
							return boom
						}
						return nil
					})
				})
			}
			for deadline := time.Now().Add(10 * time.Second); g.Waiting() < n; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d writes waiting for the next commit, want %d", g.Waiting(), n)
				}
			}
			close(release)
			wg.Wait()
			if err := <-firstDone; err != nil {
				t.Fatalf("the first commit: %v", err)
			}
			return errs, txs
		}
		stored := func(v int) bool {
			var n int64
			err := s.Tx(ctx, func(tx *store.Tx) error {
				res, err := tx.ExecRaw(ctx, `UPDATE group_writes SET v = v WHERE v = $1`, v)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n == 1
		}

		errs, txs := round(100, 4, 2, -1)
		for i, err := range errs {
			want := error(nil)
			if i == 2 {
				want = refused
			}
			if err != want {
				t.Errorf("write %d: want %v, got %v", i, want, err)
			}
			if txs[i] != txs[0] {
				t.Errorf("write %d was made in a transaction of its own, want the group's", i)
			}
			if stored(100+i) != (i != 2) {
				t.Errorf("write %d: stored %v, want %v", i, stored(100+i), i != 2)
			}
		}

		errs, txs = round(200, 4, -1, 1)
		for i, err := range errs {
			want := error(nil)
			if i == 1 {
				want = boom
			}
			if !errors.Is(err, want) || (want == nil && err != nil) {
				t.Errorf("after a failed write, write %d: want %v, got %v", i, want, err)
			}
			if stored(200+i) != (i != 1) {
				t.Errorf("after a failed write, write %d: stored %v, want %v", i, stored(200+i), i != 1)
			}
			if i != 1 && txs[i] == txs[1] {
				t.Errorf("write %d was kept in the failed write's transaction", i)
			}
		}
	})
}

// The store's own group, on either engine: the writes of SharedTx that
// arrive while one commits wait and share the next commit.
func TestSharedTxSharesACommit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		release, entered, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			firstDone <- s.SharedTx(ctx, func(ctx context.Context, tx *store.Tx) error {
				close(entered)
				<-release
				return nil
			})
		}()
		<-entered
		g := store.OwnSharedCommit(s)
		holdOtherCommits(t, g, release)
		const n = 3
		txs := make([]*store.Tx, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := s.SharedTx(ctx, func(ctx context.Context, tx *store.Tx) error { txs[i] = tx; return nil }); err != nil {
					t.Errorf("write %d: %v", i, err)
				}
			})
		}
		others := make(chan struct{})
		go func() { wg.Wait(); close(others) }()
		for deadline := time.Now().Add(10 * time.Second); g.Waiting() < n; time.Sleep(time.Millisecond) {
			select {
			case <-others:
				t.Fatal("writes were made while another's commit was under way")
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writes wait for the next commit, want %d", g.Waiting(), n)
			}
		}
		close(release)
		<-others
		if txs[0] != txs[1] || txs[1] != txs[2] {
			t.Error("the writes that waited together were not committed together")
		}
		if err := <-firstDone; err != nil {
			t.Fatal(err)
		}
	})
}

// holdOtherCommits fills every commit of g that may run beside one
// already held (on PostgreSQL two run at once) with a write that waits
// for release, so that the writes made next wait for a commit.
func holdOtherCommits(t *testing.T, g *store.SharedCommit, release <-chan struct{}) {
	t.Helper()
	for range g.Width() - 1 {
		entered := make(chan struct{})
		go func() {
			if err := g.Tx(context.Background(), func(context.Context, *store.Tx) error {
				close(entered)
				<-release
				return nil
			}); err != nil {
				t.Errorf("a write holding a commit: %v", err)
			}
		}()
		<-entered
	}
}
