package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestUsernamesAreUniquePerSIPDomain: two organisations with SIP domains
// of their own may both have user 1001; an organisation without one
// shares the default organisation's namespace, where a taken username is
// refused; moving an organisation into the shared namespace (its
// sip_domain cleared) is refused on a clash, naming the username, with
// nothing moved, and otherwise moves all its accounts; moving out (a
// sip_domain set) always succeeds.
func TestUsernamesAreUniquePerSIPDomain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s) // the default organisation's 1234567890
		mkOrg := func(slug, domain string) int64 {
			t.Helper()
			o := &store.OrganisationRow{Slug: slug, Name: slug}
			err := s.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.CreateOrganisation(ctx, o); err != nil {
					return err
				}
				if domain == "" {
					return nil
				}
				return tx.PutSetting(ctx, o.ID, model.SettingSIPDomain, domain)
			})
			if err != nil {
				t.Fatal(err)
			}
			return o.ID
		}
		a, b, c := mkOrg("a", "a.example"), mkOrg("b", "b.example"), mkOrg("c", "")
		add := func(orgID int64, username string) (*store.AccountRow, error) {
			acc := &store.AccountRow{OrgID: orgID}
			err := s.Tx(ctx, func(tx *store.Tx) error {
				g, err := tx.GroupByName(ctx, orgID, "g")
				if errors.Is(err, store.ErrNotFound) {
					g = &store.GroupRow{Group: model.Group{Name: "g"}}
					err = tx.CreateGroup(ctx, orgID, g)
				}
				if err != nil {
					return err
				}
				acc.Account = model.Account{GroupID: g.ID, Username: username, DisplayName: username,
					SecurityModel: model.EndToSite, VirtualNumber: "9" + username, Kind: "wizard", Stage: model.StageNew}
				return tx.CreateAccount(ctx, acc)
			})
			return acc, err
		}
		must := func(orgID int64, username string) *store.AccountRow {
			t.Helper()
			acc, err := add(orgID, username)
			if err != nil {
				t.Fatalf("account %s of organisation %d: %v", username, orgID, err)
			}
			return acc
		}
		a1001, a1002, b1001, c1001 := must(a, "1001"), must(a, "1002"), must(b, "1001"), must(c, "1001")
		found := func(scope int64, username string, want *store.AccountRow) {
			t.Helper()
			got, err := s.SIPAccountByUsername(ctx, scope, username)
			if err != nil || got.ID != want.ID {
				t.Fatalf("%s in scope %d: want account %d, got %+v, %v", username, scope, want.ID, got, err)
			}
		}
		found(a, "1001", a1001)
		found(b, "1001", b1001)
		found(model.DefaultOrgID, "1001", c1001)
		// Which usernames a scope has, whichever organisation's.
		taken, err := s.UsernamesTaken(ctx, model.DefaultOrgID, []string{"1001", "1002", "9999"})
		if err != nil || len(taken) != 1 || !taken["1001"] {
			t.Fatalf("usernames taken in the shared scope: want only c's 1001, got %v, %v", taken, err)
		}
		if taken, err := s.UsernamesTaken(ctx, a, []string{"1001", "1002", "9999"}); err != nil || len(taken) != 2 || !taken["1001"] || !taken["1002"] {
			t.Fatalf("usernames taken in a's scope: want 1001 and 1002, got %v, %v", taken, err)
		}

		// c shares the default organisation's namespace.
		var ce *store.ConflictError
		if _, err := add(c, "1234567890"); !errors.As(err, &ce) || ce.Column != "username" {
			t.Fatalf("c's account of the default's username: want a conflict on username, got %v", err)
		}

		// a moving into the shared namespace would clash on 1001 (c's).
		var clash *store.UsernameClashError
		err = s.Tx(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, a, model.SettingSIPDomain, "") })
		if !errors.As(err, &clash) || clash.Username != "1001" {
			t.Fatalf("clearing a's sip_domain: want a clash on 1001, got %v", err)
		}
		err = s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteSetting(ctx, a, model.SettingSIPDomain) })
		if !errors.As(err, &clash) || clash.Username != "1001" {
			t.Fatalf("deleting a's sip_domain: want a clash on 1001, got %v", err)
		}
		// Nothing half-written: the setting and both accounts stay.
		if set, err := s.Settings(ctx, a); err != nil || set[model.SettingSIPDomain] != "a.example" {
			t.Fatalf("a's sip_domain after the refusal: %q, %v", set[model.SettingSIPDomain], err)
		}
		found(a, "1001", a1001)
		found(a, "1002", a1002)

		// b moves into the shared namespace once nothing clashes.
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteAccount(ctx, c1001.ID) }); err != nil {
			t.Fatal(err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, b, model.SettingSIPDomain, "") }); err != nil {
			t.Fatalf("clearing b's sip_domain with no clash: %v", err)
		}
		found(model.DefaultOrgID, "1001", b1001)
		if _, err := s.SIPAccountByUsername(ctx, b, "1001"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("b's 1001 in b's own scope after the move: want ErrNotFound, got %v", err)
		}
		// And out again, and c out for the first time: always possible.
		c3001 := must(c, "3001")
		for _, o := range []int64{b, c} {
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, o, model.SettingSIPDomain, "x.example") }); err != nil {
				t.Fatalf("giving organisation %d a SIP domain: %v", o, err)
			}
		}
		found(b, "1001", b1001)
		found(c, "3001", c3001)
		// A new account of c takes c's scope: the default's username is free there.
		must(c, "1234567890")
	})
}

// TestOrganisationCallsTo: the organisations an organisation may call are
// stored on its row in the order given and read back; deleting one takes
// it out of every other's list, so an id given again later inherits no
// permission.
func TestOrganisationCallsTo(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		var a, b, c store.OrganisationRow
		err := s.Tx(ctx, func(tx *store.Tx) error {
			for _, o := range []struct {
				row  *store.OrganisationRow
				slug string
			}{{&a, "a"}, {&b, "b"}, {&c, "c"}} {
				o.row.Slug, o.row.Name = o.slug, o.slug
				if err := tx.CreateOrganisation(ctx, o.row); err != nil {
					return err
				}
			}
			a.AllowCallsTo = []int64{c.ID, b.ID}
			return tx.UpdateOrganisation(ctx, &a)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.OrganisationByID(ctx, a.ID)
		if err != nil || len(got.AllowCallsTo) != 2 || got.AllowCallsTo[0] != c.ID || got.AllowCallsTo[1] != b.ID {
			t.Fatalf("a's calls: want [%d %d], got %+v, %v", c.ID, b.ID, got, err)
		}
		if got, _ := s.OrganisationByID(ctx, b.ID); len(got.AllowCallsTo) != 0 {
			t.Fatalf("b's calls: want none, got %v", got.AllowCallsTo)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteOrganisation(ctx, c.ID) }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.OrganisationByID(ctx, a.ID); err != nil || len(got.AllowCallsTo) != 1 || got.AllowCallsTo[0] != b.ID {
			t.Fatalf("a's calls after c is deleted: want [%d], got %+v, %v", b.ID, got, err)
		}
	})
}
