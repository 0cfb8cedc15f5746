package messaging

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// The writes that arrive while a commit is under way go in the next
// commit, together; each writer learns its own outcome: a write whose
// claim was lost does not undo the others, and a write that fails makes
// its batch's writes again one by one, so only its own is lost.
func TestGroupCommitBatchesWritesAndKeepsTheirOutcomesApart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecRaw(ctx, `CREATE TABLE group_commit_test (n INTEGER PRIMARY KEY)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		insert := func(ctx context.Context, tx *store.Tx, n int) error {
			_, err := tx.ExecRaw(ctx, `INSERT INTO group_commit_test (n) VALUES ($1)`, n)
			return err
		}
		rows := func() map[int]bool {
			got := map[int]bool{}
			for n := range 100 {
				var c int
				if err := s.Tx(ctx, func(tx *store.Tx) error {
					r, err := tx.ExecRaw(ctx, `UPDATE group_commit_test SET n = n WHERE n = $1`, n)
					if err == nil {
						var k int64
						k, err = r.RowsAffected()
						c = int(k)
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if c > 0 {
					got[n] = true
				}
			}
			return got
		}
		boom := errors.New("boom")

		// round holds a first write's commit until the others are waiting,
		// then lets them go: they are committed together, after it.
		round := func(base int, fns map[int]func(ctx context.Context, tx *store.Tx) error) (map[int]error, map[int]map[*store.Tx]bool) {
			g := &groupCommit{store: s}
			release := make(chan struct{})
			var mu sync.Mutex
			txs := map[int]map[*store.Tx]bool{}
			seen := func(n int, tx *store.Tx) {
				mu.Lock()
				defer mu.Unlock()
				if txs[n] == nil {
					txs[n] = map[*store.Tx]bool{}
				}
				txs[n][tx] = true
			}
			errs := map[int]error{}
			var wg sync.WaitGroup
			first, entered := make(chan error, 1), make(chan struct{})
			go func() {
				first <- g.write(ctx, func(ctx context.Context, tx *store.Tx) error {
					close(entered)
					<-release
					return insert(ctx, tx, base)
				})
			}()
			<-entered // the first write is committing: the others wait for the next commit
			for n, fn := range fns {
				wg.Go(func() {
					err := g.write(ctx, func(ctx context.Context, tx *store.Tx) error { seen(n, tx); return fn(ctx, tx) })
					mu.Lock()
					errs[n] = err
					mu.Unlock()
				})
			}
			for deadline := time.Now().Add(10 * time.Second); ; {
				n := g.batches.Waiting()
				if n == len(fns) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d writes waiting for the first commit", n, len(fns))
				}
				time.Sleep(time.Millisecond)
			}
			close(release)
			if err := <-first; err != nil {
				t.Fatalf("the first write: %v", err)
			}
			wg.Wait()
			return errs, txs
		}

		// Ten writes and a lost claim, all in one transaction.
		fns := map[int]func(ctx context.Context, tx *store.Tx) error{}
		for n := 1; n <= 10; n++ {
			fns[n] = func(ctx context.Context, tx *store.Tx) error { return insert(ctx, tx, n) }
		}
		fns[11] = func(context.Context, *store.Tx) error { return store.ErrClaimLost }
		errs, txs := round(0, fns)
		all := map[*store.Tx]bool{}
		for n := 1; n <= 11; n++ {
			for tx := range txs[n] {
				all[tx] = true
			}
			if want := error(nil); n == 11 {
				if !errors.Is(errs[n], store.ErrClaimLost) {
					t.Fatalf("the write whose claim was lost: %v", errs[n])
				}
			} else if errs[n] != want {
				t.Fatalf("write %d: %v", n, errs[n])
			}
		}
		if len(all) != 1 {
			t.Fatalf("the writes waiting for a commit went in %d transactions, want 1", len(all))
		}

		// A write that fails in a batch: the others are made again alone.
		fns = map[int]func(ctx context.Context, tx *store.Tx) error{}
		for n := 21; n <= 25; n++ {
			fns[n] = func(ctx context.Context, tx *store.Tx) error { return insert(ctx, tx, n) }
		}
		fns[26] = func(ctx context.Context, tx *store.Tx) error {
			if err := insert(ctx, tx, 26); err != nil {
				return err
			}
			return fmt.Errorf("after its insert: %w", boom)
		}
		errs, _ = round(20, fns)
		for n := 21; n <= 25; n++ {
			if errs[n] != nil {
				t.Fatalf("write %d, in a batch with one that failed: %v", n, errs[n])
			}
		}
		if !errors.Is(errs[26], boom) {
			t.Fatalf("the failing write: %v", errs[26])
		}

		want := map[int]bool{0: true, 20: true}
		for n := 1; n <= 10; n++ {
			want[n] = true
		}
		for n := 21; n <= 25; n++ {
			want[n] = true
		}
		got := rows()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("rows committed: %v, want %v (26's insert rolled back with its error)", got, want)
		}
	})
}

// The sends waiting for a commit are recorded together, with their
// events, and the same transaction claims the next message of each
// writer that asks for one; a send whose claim was lost is refused alone.
func TestGroupCommitRecordsSendsAndClaimsTheNextMessagesTogether(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := SeedAccount(t, s)
		var ids []int64
		for i := range 8 {
			ids = append(ids, enqueueIn(t, s, acc, fmt.Sprintf("+3900%d", i)))
		}
		var claimed []store.MessageRow
		if err := s.Tx(ctx, func(tx *store.Tx) (err error) {
			claimed, err = tx.ClaimMessages(ctx, "w", time.Now(), time.Minute, 4)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		claimTxs := map[*store.Tx]int{}
		g := &groupCommit{store: s, claim: func(ctx context.Context, tx *store.Tx, n int) ([]store.MessageRow, error) {
			mu.Lock()
			claimTxs[tx] += n
			mu.Unlock()
			return tx.ClaimMessages(ctx, "w", time.Now(), time.Minute, n)
		}}

		// The first write holds its commit until the four sends wait for the next.
		release, entered, first := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			first <- g.write(ctx, func(context.Context, *store.Tx) error { close(entered); <-release; return nil })
		}()
		<-entered
		results := make([]groupResult, 4)
		var wg sync.WaitGroup
		for i, m := range claimed {
			c := m.Claim()
			if i == 3 {
				c.Attempt++ // a claim that was lost
			}
			wg.Go(func() {
				results[i] = g.do(ctx, &groupWrite{
					sent:  &store.SentMessage{Claim: c, ProviderID: fmt.Sprint("P", i), At: time.Now()},
					event: &store.NewEvent{OrgID: model.DefaultOrgID, AccountID: acc, Kind: model.EventMessageSent, Detail: map[string]string{"message_id": fmt.Sprint(m.ID)}},
					next:  i != 2,
				})
			})
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			n := g.batches.Waiting()
			if n == 4 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of 4 sends waiting for the first commit", n)
			}
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		wg.Wait()

		if len(claimTxs) != 1 {
			t.Fatalf("claims made in %d transactions, want the one commit of the sends", len(claimTxs))
		}
		for _, n := range claimTxs {
			if n != 3 {
				t.Fatalf("the commit claimed for %d writers, want the 3 that asked", n)
			}
		}
		next := map[int64]bool{}
		for i, r := range results {
			switch {
			case i == 3 && !errors.Is(r.err, store.ErrClaimLost):
				t.Errorf("the send of a lost claim: %v", r.err)
			case i != 3 && r.err != nil:
				t.Errorf("send %d: %v", i, r.err)
			case i == 2 && r.next != nil:
				t.Errorf("a writer that asked for no message got %d", r.next.ID)
			case i != 2 && r.next == nil:
				t.Errorf("writer %d asked for its next message and got none", i)
			}
			if r.next != nil {
				next[r.next.ID] = true
				if r.next.State != model.MessageSending || r.next.ClaimedBy != "w" {
					t.Errorf("the next message as claimed: %+v", r.next)
				}
			}
		}
		unclaimed := map[int64]bool{}
		for _, id := range ids {
			unclaimed[id] = true
		}
		for _, m := range claimed {
			delete(unclaimed, m.ID)
		}
		for id := range next {
			if !unclaimed[id] {
				t.Errorf("message %d claimed again", id)
			}
		}
		if len(next) != 3 {
			t.Errorf("%d distinct messages claimed for 3 writers", len(next))
		}
		for i, m := range claimed {
			got, err := s.MessageByID(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := i != 3; (got.State == model.MessageSent) != want || want && got.ProviderID != fmt.Sprint("P", i) {
				t.Errorf("message %d recorded as %s %q", i, got.State, got.ProviderID)
			}
		}
		evs, err := s.Events(ctx, acc)
		if err != nil {
			t.Fatal(err)
		}
		sentEvents := 0
		for _, e := range evs {
			if e.Kind == model.EventMessageSent {
				sentEvents++
				if e.Detail["message_id"] == fmt.Sprint(claimed[3].ID) {
					t.Errorf("the event of the send whose claim was lost was written")
				}
			}
		}
		if sentEvents != 3 {
			t.Errorf("%d sent events, want 3", sentEvents)
		}
	})
}

// enqueueIn queues an SMS to recipient for account.
func enqueueIn(t *testing.T, st *store.Store, account int64, recipient string) int64 {
	t.Helper()
	m := &store.MessageRow{OrgID: model.DefaultOrgID, MaxAttempts: 3, Message: model.Message{AccountID: account,
		Channel: model.ChannelSMS, Kind: model.MessageActivation, Gateway: "outbox", Recipient: recipient, Body: "hello"}}
	if err := st.Tx(context.Background(), func(tx *store.Tx) error { return tx.EnqueueMessage(context.Background(), m) }); err != nil {
		t.Fatal(err)
	}
	return m.ID
}
