package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestExportPageReadsTheListingsRows walks every filter's pages with
// ExportPage and with AccountsPage: the export reads its own columns, but
// the same accounts in the same order, with the same values.
func TestExportPageReadsTheListingsRows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		rows := addAccounts(t, s, acc.GroupID, 40)
		var other *store.GroupRow
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			p := &model.Profile{Name: "own", Settings: model.DefaultProfileSettings()}
			if err := tx.CreateProfile(ctx, org, p); err != nil {
				return err
			}
			other = &store.GroupRow{Group: model.Group{Name: "support", ITEmail: "it@example.com"}}
			if err := tx.CreateGroup(ctx, org, other); err != nil {
				return err
			}
			for i, r := range rows {
				if i%3 == 0 {
					r.GroupID, r.ProfileID = other.ID, &p.ID
					// Texts holding what the export's packing of SQLite's
					// columns uses (lengths and colons), and more than ASCII.
					r.Description, r.Mobile, r.Language = fmt.Sprintf("5:note %d: 12:ab, ünï 😀", i), fmt.Sprintf("+3933312345%02d", i), "it"
					r.DisplayName = fmt.Sprintf("Zoë \"%d\":", i)
					if err := tx.UpdateAccount(ctx, r); err != nil {
						return err
					}
				}
				switch i % 4 {
				case 1:
					if _, err := tx.AdvanceStage(ctx, r.ID, model.StageInvited); err != nil {
						return err
					}
				case 2:
					at := time.Date(2026, 3, 1, 9, 30, i, 0, time.UTC)
					if err := tx.ActivateAccount(ctx, r.ID, []byte("sealed"), "md5", "sha256", "example.com", at); err != nil {
						return err
					}
				}
				if i%7 == 0 {
					if err := tx.SetAccountDisabled(ctx, r.ID, true); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		filters := map[string]store.AccountFilter{
			"all":       {},
			"by status": {Status: model.StageInvited},
			"disabled":  {Status: model.StatusDisabled},
			"by group":  {GroupID: &other.ID},
			"search":    {Search: "user1"},
			"short":     {Search: "zo"}, // a word start of two letters
		}
		for name, f := range filters {
			f.Limit = 4
			var (
				want []model.Account
				got  []store.ExportAccount
				buf  []store.ExportAccount
			)
			for lf := f; ; {
				page, info, err := s.AccountsPage(ctx, org, lf)
				if err != nil {
					t.Fatalf("%s: listing: %v", name, err)
				}
				want = append(want, page...)
				if lf.Before = info.Next; info.Next == 0 {
					break
				}
			}
			for ef := f; ; {
				page, info, err := s.ExportPage(ctx, org, ef, buf)
				if err != nil {
					t.Fatalf("%s: export: %v", name, err)
				}
				got, buf = append(got, page...), page
				if ef.Before = info.Next; info.Next == 0 {
					break
				}
			}
			if len(want) < 2 && name != "search" {
				t.Fatalf("%s: %d accounts listed: the test's data does not exercise the filter", name, len(want))
			}
			if len(got) != len(want) {
				t.Fatalf("%s: exported %d accounts, listed %d", name, len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				activated := time.Time{}
				if w.ActivatedAt != nil {
					activated = *w.ActivatedAt
				}
				same := g.ID == w.ID && g.DisplayName == w.DisplayName && g.Mobile == w.Mobile && g.Email == w.Email &&
					g.SecurityModel == string(w.SecurityModel) && g.Description == w.Description && g.Language == w.Language &&
					g.Group == w.Group && g.Profile == w.Profile && g.Username == w.Username && g.VirtualNumber == w.VirtualNumber &&
					model.StatusOf(g.Stage, g.Disabled) == w.Status && g.CreatedAt.Equal(w.CreatedAt) && g.ActivatedAt.Equal(activated)
				if !same {
					t.Errorf("%s: row %d exported as %+v, listed as %+v", name, i, g, w)
				}
			}
		}
	})
}
