package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// takeNumbers gives accounts of the seeded group the numbers given.
func takeNumbers(t *testing.T, s *store.Store, groupID int64, numbers ...string) {
	t.Helper()
	ctx := context.Background()
	err := s.Tx(ctx, func(tx *store.Tx) error {
		for _, n := range numbers {
			a := &store.AccountRow{OrgID: org, Account: model.Account{GroupID: groupID, Username: "u" + n, DisplayName: "x",
				SecurityModel: model.EndToEnd, VirtualNumber: n, Kind: "wizard", Stage: model.StageNew}}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return fmt.Errorf("number %s: %w", n, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFreeVirtualNumberFindsTheNextGapAndWraps(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s) // holds 100001, outside the range below
		nr := store.NumberRange{From: 10, To: 19, Digits: 4}
		// Numbers of another length or with a + are not of the range, even
		// where they read as the same value.
		takeNumbers(t, s, acc.GroupID, "0010", "0011", "0012", "0015", "0016", "0019", "+012", "013", "00014")
		cases := []struct {
			start uint64
			want  string
		}{
			{13, "0013"}, // free: itself
			{10, "0013"}, // taken: the first free one after it
			{15, "0017"},
			{17, "0017"},
			{19, "0013"}, // taken at the end of the range: wraps to the start
		}
		for _, c := range cases {
			got, ok, err := s.FreeVirtualNumber(ctx, org, nr, c.start)
			if err != nil || !ok || got != c.want {
				t.Errorf("start %d: got %q %v %v, want %q", c.start, got, ok, err, c.want)
			}
		}
		if used, err := s.VirtualNumbersUsed(ctx, org, nr); err != nil || used != 6 {
			t.Errorf("numbers used: got %d %v, want 6", used, err)
		}
		takeNumbers(t, s, acc.GroupID, "0013", "0014", "0017", "0018")
		for start := nr.From; start <= nr.To; start++ {
			if got, ok, err := s.FreeVirtualNumber(ctx, org, nr, start); err != nil || ok {
				t.Errorf("full range, start %d: got %q %v %v, want none", start, got, ok, err)
			}
		}
		if _, _, err := s.FreeVirtualNumber(ctx, org, nr, 20); err == nil {
			t.Error("a start outside the range must be refused")
		}
	})
}
