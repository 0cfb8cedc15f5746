package activation

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// Redeems that arrive while a commit is under way are committed together
// in the next one; each learns its own outcome: of two redeems of one link
// in a group one wins and the other is told the link is used, without
// undoing the rest, and a redeem that fails after its writes is lost alone.
func TestRedeemGroupCommitsConcurrentRedeemsTogether(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		dom.Devices.shared = store.NewSharedCommit(st) // its own: no other writer of the store joins its groups
		mustGroup(t, dom, "sales")
		boom := errors.New("boom")

		// round holds a first redeem inside its commit (and every other
		// commit that may run beside it, on PostgreSQL) until the others
		// wait for the next one, then lets them go.
		round := func(reqs []model.RedeemRequest, fail int) ([]error, []*store.Tx) {
			first := redeemReq(sendToken(t, dom, mustAccount(t, dom).Username, model.LinkActivation))
			release, entered := make(chan struct{}), make(chan struct{})
			firstErr := make(chan error, 1)
			go func() {
				_, err := dom.Devices.redeem(ctx, first, func(context.Context, *store.Tx, *model.Device) error {
					close(entered)
					<-release
					return nil
				})
				firstErr <- err
			}()
			<-entered
			for range dom.Devices.shared.Width() - 1 {
				held := make(chan struct{})
				go func() {
					_ = dom.Devices.shared.Tx(ctx, func(context.Context, *store.Tx) error {
						close(held)
						<-release
						return nil
					})
				}()
				<-held
			}
			errs, txs := make([]error, len(reqs)), make([]*store.Tx, len(reqs))
			var wg sync.WaitGroup
			for i, req := range reqs {
				wg.Go(func() {
					_, errs[i] = dom.Devices.redeem(ctx, req, func(_ context.Context, tx *store.Tx, _ *model.Device) error {
						txs[i] = tx
						if i == fail {
							return boom
						}
						return nil
					})
				})
			}
			g := dom.Devices.shared
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				n := g.Waiting()
				if n == len(reqs) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d redeems waiting for the first commit", n, len(reqs))
				}
			}
			close(release)
			if err := <-firstErr; err != nil {
				t.Fatalf("the first redeem: %v", err)
			}
			wg.Wait()
			return errs, txs
		}
		accountsOf := func(n int) ([]string, []model.RedeemRequest) {
			var names []string
			var reqs []model.RedeemRequest
			for range n {
				a := mustAccount(t, dom)
				names = append(names, a.Username)
				reqs = append(reqs, redeemReq(sendToken(t, dom, a.Username, model.LinkActivation)))
			}
			return names, reqs
		}
		status := func(username string) string {
			d, err := dom.Accounts.Get(ctx, username, admin)
			if err != nil {
				t.Fatal(err)
			}
			return d.Account.Status
		}

		// Five redeems and a second redeem of the first's link: one
		// transaction, one winner of the link.
		names, reqs := accountsOf(5)
		reqs = append(reqs, reqs[0])
		reqs[5].Device.ID = "dev-2"
		errs, txs := round(reqs, -1)
		used := 0
		for i, err := range errs {
			switch {
			case errors.Is(err, ErrLinkUsed) && (i == 0 || i == 5):
				used++
			case err != nil:
				t.Fatalf("redeem %d: %v", i, err)
			}
		}
		if used != 1 {
			t.Fatalf("two redeems of one link in a group: %d told it is used, want 1 (%v)", used, errs)
		}
		var shared *store.Tx
		for i, tx := range txs {
			if tx == nil {
				continue // the loser of the link made no write
			}
			if shared == nil {
				shared = tx
			}
			if tx != shared {
				t.Fatalf("redeem %d committed apart from the others of its group", i)
			}
		}
		for _, u := range names {
			if s := status(u); s != model.StageActivated {
				t.Fatalf("account %s after its redeem: %s", u, s)
			}
		}

		// A redeem failing after its writes: the others still activate,
		// its account does not, and its link stays usable.
		names, reqs = accountsOf(4)
		errs, _ = round(reqs, 2)
		for i, err := range errs {
			if want := i == 2; errors.Is(err, boom) != want || (!want && err != nil) {
				t.Fatalf("redeem %d: %v", i, err)
			}
			want := model.StageActivated
			if i == 2 {
				want = model.StageInvited
			}
			if s := status(names[i]); s != want {
				t.Fatalf("account %d after the failed group: %s, want %s", i, s, want)
			}
		}
		if _, err := dom.Devices.Redeem(ctx, reqs[2]); err != nil {
			t.Fatalf("the failed redeem's link afterwards: %v", err)
		}
	})
}
