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

func TestOrganisationsCreateEditSuspendResumeDelete(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s) // the default organisation, with an account
		def, err := s.OrganisationBySlug(ctx, "default")
		if err != nil || def.ID != org || def.SuspendedAt != nil {
			t.Fatalf("default organisation by slug: %+v %v", def, err)
		}
		mk := func(slug, name string) (*store.OrganisationRow, error) {
			o := &store.OrganisationRow{Slug: slug, Name: name}
			return o, s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateOrganisation(ctx, o) })
		}
		acme, err := mk("acme", "ACME Corp")
		if err != nil {
			t.Fatal(err)
		}
		if acme.ID == org || acme.ID == 0 {
			t.Fatalf("new organisation's id: %d", acme.ID)
		}
		var ce *store.ConflictError
		if _, err := mk("acme", "Other"); !errors.As(err, &ce) || ce.Column != "slug" {
			t.Fatalf("same slug twice: want a conflict on slug, got %v", err)
		}
		if _, err := mk("other", "ACME Corp"); !errors.As(err, &ce) || ce.Column != "name" {
			t.Fatalf("same name twice: want a conflict on name, got %v", err)
		}
		if got, err := s.OrganisationByID(ctx, acme.ID); err != nil || got.Slug != "acme" || got.Name != "ACME Corp" {
			t.Fatalf("by id: %+v %v", got, err)
		}
		list, err := s.Organisations(ctx)
		if err != nil || len(list) != 2 || list[0].Slug != "acme" || list[1].Slug != "default" {
			t.Fatalf("list: %+v %v", list, err)
		}

		before := acme.UpdatedAt
		acme.Slug, acme.Name = "acme-eu", "ACME Europe"
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateOrganisation(ctx, acme) }); err != nil {
			t.Fatal(err)
		}
		if !acme.UpdatedAt.After(before) {
			t.Fatalf("updated_at did not move forward: %v then %v", before, acme.UpdatedAt)
		}
		if _, err := s.OrganisationBySlug(ctx, "acme"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old slug: want ErrNotFound, got %v", err)
		}
		renamed := *acme
		renamed.Slug = "default"
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateOrganisation(ctx, &renamed) }); !errors.As(err, &ce) {
			t.Fatalf("taking the default's slug: want a conflict, got %v", err)
		}

		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SuspendOrganisation(ctx, acme.ID) }); err != nil {
			t.Fatal(err)
		}
		got, err := s.OrganisationBySlug(ctx, "acme-eu")
		if err != nil || got.SuspendedAt == nil {
			t.Fatalf("suspended: %+v %v", got, err)
		}
		first := *got.SuspendedAt
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SuspendOrganisation(ctx, acme.ID) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.OrganisationByID(ctx, acme.ID); got == nil || got.SuspendedAt == nil || !got.SuspendedAt.Equal(first) {
			t.Fatalf("suspending again moved the suspension time: %+v", got)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.ResumeOrganisation(ctx, acme.ID) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.OrganisationByID(ctx, acme.ID); got == nil || got.SuspendedAt != nil {
			t.Fatalf("resumed: %+v", got)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SuspendOrganisation(ctx, 999) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("suspending no organisation: want ErrNotFound, got %v", err)
		}

		del := func(id int64) error {
			return s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteOrganisation(ctx, id) })
		}
		if err := del(org); !errors.Is(err, store.ErrDefaultOrganisation) {
			t.Fatalf("deleting the default: want ErrDefaultOrganisation, got %v", err)
		}
		full, err := mk("full", "Full Ltd")
		if err != nil {
			t.Fatal(err)
		}
		err = s.Tx(ctx, func(tx *store.Tx) error {
			g := &store.GroupRow{Group: model.Group{Name: "ops"}}
			if err := tx.CreateGroup(ctx, full.ID, g); err != nil {
				return err
			}
			return tx.CreateAccount(ctx, &store.AccountRow{OrgID: full.ID, Account: model.Account{
				GroupID: g.ID, Username: "2234567890", DisplayName: "Grace Hopper", SecurityModel: model.EndToSite,
				VirtualNumber: "200001", Kind: "wizard", Stage: model.StageNew,
			}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := del(full.ID); !errors.Is(err, store.ErrOrganisationHasAccounts) {
			t.Fatalf("deleting an organisation with accounts: want ErrOrganisationHasAccounts, got %v", err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, acme.ID, "sip_domain", "acme.example") }); err != nil {
			t.Fatal(err)
		}
		if err := del(acme.ID); err != nil {
			t.Fatalf("deleting an organisation with only settings: %v", err)
		}
		if _, err := s.OrganisationByID(ctx, acme.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted: want ErrNotFound, got %v", err)
		}
		if err := del(acme.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting again: want ErrNotFound, got %v", err)
		}
	})
}

// TestOrgNameSettings: every organisation is listed, one that sets none of
// its SIP names too, with only the settings that name its SIP service.
func TestOrgNameSettings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s) // the default organisation
		a := &store.OrganisationRow{Slug: "a", Name: "A"}
		b := &store.OrganisationRow{Slug: "b", Name: "B"}
		err := s.Tx(ctx, func(tx *store.Tx) error {
			for _, o := range []*store.OrganisationRow{a, b} {
				if err := tx.CreateOrganisation(ctx, o); err != nil {
					return err
				}
			}
			for _, kv := range [][3]string{
				{"a", model.SettingSIPDomain, "a.example"}, {"a", model.SettingSIPHost, "sip.a.example"},
				{"a", model.SettingCompanyName, "A Corp"}, {"b", model.SettingPublicBaseURL, "https://b.example"},
			} {
				id := a.ID
				if kv[0] == "b" {
					id = b.ID
				}
				if err := tx.PutSetting(ctx, id, kv[1], kv[2]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.OrgNameSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if def, ok := got[model.DefaultOrgID]; !ok || len(def) != 0 {
			t.Errorf("default organisation: want listed with no settings, got %v (listed %v)", def, ok)
		}
		if ga := got[a.ID]; len(ga) != 2 || ga[model.SettingSIPDomain] != "a.example" || ga[model.SettingSIPHost] != "sip.a.example" {
			t.Errorf("organisation a: %v", ga)
		}
		if gb := got[b.ID]; len(gb) != 1 || gb[model.SettingPublicBaseURL] != "https://b.example" {
			t.Errorf("organisation b: %v", gb)
		}
		if len(got) != 3 {
			t.Errorf("want 3 organisations, got %v", got)
		}
	})
}

// TestOrganisationCountsAndHosts: a provider's counts of one organisation
// (messages by state, messages queued since a time, activations per day),
// its quotas kept, and one setting read for every organisation, each
// counting its own organisation's rows only.
func TestOrganisationCountsAndHosts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s) // the default organisation's account
		acme := &store.OrganisationRow{Slug: "acme", Name: "ACME Corp", MaxAccounts: 10, MaxMessagesPerDay: 20}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateOrganisation(ctx, acme) }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.OrganisationBySlug(ctx, "acme"); err != nil || got.MaxAccounts != 10 || got.MaxMessagesPerDay != 20 {
			t.Fatalf("acme's quotas: %+v %v", got, err)
		}
		start := time.Now().Add(-time.Second)
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			for range 3 {
				m := &store.MessageRow{OrgID: org, MaxAttempts: 3, Message: model.Message{AccountID: acc.ID, Username: acc.Username,
					Channel: model.ChannelEmail, Kind: model.MessageActivation, Gateway: "outbox", Recipient: "ada@example.com", Body: "b"}}
				if err := tx.EnqueueMessage(ctx, m); err != nil {
					return err
				}
			}
			if err := tx.ActivateAccount(ctx, acc.ID, []byte("sealed"), "md5", "sha", "example.com", time.Now()); err != nil {
				return err
			}
			if err := tx.PutSetting(ctx, org, model.SettingPublicBaseURL, "https://provider.example"); err != nil {
				return err
			}
			return tx.PutSetting(ctx, acme.ID, model.SettingPublicBaseURL, "https://acme.example")
		}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			id   int64
			want int
		}{{org, 3}, {acme.ID, 0}} {
			states, err := s.MessageStateCounts(ctx, c.id)
			if err != nil || states[model.MessageQueued] != c.want {
				t.Errorf("organisation %d's messages by state: %v %v, want %d queued", c.id, states, err, c.want)
			}
			if n, err := s.MessagesQueuedSince(ctx, c.id, start); err != nil || n != int64(c.want) {
				t.Errorf("organisation %d's messages since: %d %v, want %d", c.id, n, err, c.want)
			}
			days, err := s.ActivationsPerDay(ctx, c.id, time.Now().UTC().Truncate(24*time.Hour))
			if err != nil || len(days) != c.want/3 || (c.want > 0 && days[time.Now().UTC().Truncate(24*time.Hour)] != 1) {
				t.Errorf("organisation %d's activations per day: %v %v", c.id, days, err)
			}
		}
		if n, err := s.MessagesQueuedSince(ctx, org, time.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("messages queued since an hour from now: %d %v", n, err)
		}
		names, err := s.OrgNameSettings(ctx)
		if err != nil || len(names) != 2 || names[org][model.SettingPublicBaseURL] != "https://provider.example" ||
			names[acme.ID][model.SettingPublicBaseURL] != "https://acme.example" {
			t.Errorf("every organisation's base URL: %v %v", names, err)
		}
	})
}
