package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// A redeem reads the account before its transaction: an account disabled
// in between is not activated, and stays disabled.
func TestActivateAccountLeavesADisabledAccountAlone(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SetAccountDisabled(ctx, acc.ID, true) }); err != nil {
			t.Fatal(err)
		}
		err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.ActivateAccount(ctx, acc.ID, []byte("sealed"), "md5hash", "sha256hash", "example.com", time.Now())
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("activating a disabled account: want ErrNotFound, got %v", err)
		}
		a, err := s.AccountByID(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Disabled || a.Stage == model.StageActivated {
			t.Fatalf("the disabled account after an activation was refused: disabled %v, stage %s", a.Disabled, a.Stage)
		}
	})
}
