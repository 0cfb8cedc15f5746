package messaging

import (
	"context"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// SetSleepClock makes w sleep between its rounds on after instead of the
// real clock: a test sees how long the worker asks to sleep and decides
// when it wakes.
func SetSleepClock(w *Worker, after func(time.Duration) <-chan time.Time) { w.after = after }

// SeedAccount makes the default organisation, a group and an account,
// for the package's tests inside and outside it.
func SeedAccount(tb testing.TB, st *store.Store) int64 {
	tb.Helper()
	ctx := context.Background()
	var id int64
	err := st.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.EnsureOrganisation(ctx, model.DefaultOrgID, "default"); err != nil {
			return err
		}
		g := &store.GroupRow{Group: model.Group{Name: "g"}}
		if err := tx.CreateGroup(ctx, model.DefaultOrgID, g); err != nil {
			return err
		}
		a := &store.AccountRow{OrgID: model.DefaultOrgID, Account: model.Account{GroupID: g.ID, Username: "100", DisplayName: "A",
			SecurityModel: model.EndToEnd, VirtualNumber: "1", Kind: "wizard", Stage: model.StageInvited}}
		err := tx.CreateAccount(ctx, a)
		id = a.ID
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return id
}
