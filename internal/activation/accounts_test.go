package activation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func TestAccountInputIsValidated(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		base := func() model.AccountInput {
			return model.AccountInput{Group: strp("sales"), Name: strp("Ada")}
		}
		cases := []struct {
			field string
			edit  func(in *model.AccountInput)
		}{
			{"group", func(in *model.AccountInput) { in.Group = nil }},
			{"group", func(in *model.AccountInput) { in.Group = strp("nope") }},
			{"name", func(in *model.AccountInput) { in.Name = strp("  ") }},
			{"email", func(in *model.AccountInput) { in.Email = strp("not-an-address") }},
			{"mobile", func(in *model.AccountInput) { in.Mobile = strp("12") }},
			{"mobile", func(in *model.AccountInput) { in.Mobile = strp("+39 06 1234 5678") }}, // a Rome landline
			{"security_model", func(in *model.AccountInput) { in.SecurityModel = strp("paranoid") }},
			{"profile", func(in *model.AccountInput) { in.Profile = strp("missing") }},
			{"language", func(in *model.AccountInput) { in.Language = strp("tlh") }},
			{"virtual_number", func(in *model.AccountInput) { in.VirtualNumber = strp("12ab") }},
		}
		for _, c := range cases {
			in := base()
			c.edit(&in)
			_, err := dom.Accounts.Create(ctx, in, admin)
			wantField(t, err, c.field)
		}
		if got, _ := st.Accounts(ctx, model.DefaultOrgID, store.AccountFilter{}); len(got) != 0 {
			t.Fatalf("refused input left %d accounts behind", len(got))
		}

		in := base()
		in.Mobile = strp("333 123 4567") // national: read in the default region, IT
		in.VirtualNumber = strp("5000")
		a, err := dom.Accounts.Create(ctx, in, admin)
		if err != nil {
			t.Fatal(err)
		}
		if a.Mobile != "+393331234567" || a.VirtualNumber != "5000" || len(a.Username) != 10 || a.SIPEnabled || a.Status != model.StageNew {
			t.Fatalf("created account: %+v", a)
		}
		for _, r := range a.Username {
			if r < '0' || r > '9' {
				t.Fatalf("username %q is not numeric", a.Username)
			}
		}
		_, err = dom.Accounts.Create(ctx, in, admin)
		var de *Error
		if !errors.As(err, &de) || de.Kind != KindConflict || de.Field != "virtual_number" {
			t.Fatalf("duplicate virtual number: %v", err)
		}
		// The default region is a setting.
		if _, err := dom.Settings.Set(ctx, model.SettingPhoneRegion, "DE", admin); err != nil {
			t.Fatal(err)
		}
		in = base()
		in.Mobile = strp("0151 23456789")
		if a, err = dom.Accounts.Create(ctx, in, admin); err != nil || a.Mobile != "+4915123456789" {
			t.Fatalf("German national number: %v %+v", err, a)
		}
	})
}

func TestVirtualNumbersComeFromTheRangeAndStayUnique(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		if _, err := dom.Settings.Set(ctx, model.SettingVirtualNumberRange, "0100-0104", admin); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for range 5 {
			a, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin)
			if err != nil {
				t.Fatalf("account %d: %v", len(seen)+1, err)
			}
			if seen[a.VirtualNumber] || a.VirtualNumber < "0100" || a.VirtualNumber > "0104" {
				t.Fatalf("virtual number %q repeated or out of range", a.VirtualNumber)
			}
			seen[a.VirtualNumber] = true
		}
		// The range is full: a clear conflict, not a loop.
		if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin); err == nil {
			t.Fatal("a full range must refuse a new account")
		}
	})
}

func TestEffectiveProfileComesFromAccountThenGroupThenDefault(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		check := func(profile, source string) {
			t.Helper()
			ep, err := dom.Accounts.EffectiveProfile(ctx, a.Username, admin)
			if err != nil || ep.Profile != profile || ep.Source != source {
				t.Fatalf("effective profile: want %s from %s, got %+v %v", profile, source, ep, err)
			}
		}
		check("default", "default")
		if _, err := dom.Profiles.Create(ctx, "sales-profile", []byte(`{"customer_service_email":"sales@example.com"}`), admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Profiles.Create(ctx, "vip", nil, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Groups.Update(ctx, "sales", model.GroupInput{Profile: strp("sales-profile")}, admin); err != nil {
			t.Fatal(err)
		}
		check("sales-profile", "group")
		if _, err := dom.Accounts.Update(ctx, a.Username, model.AccountInput{Profile: strp("vip")}, admin); err != nil {
			t.Fatal(err)
		}
		check("vip", "account")
		if err := dom.Profiles.Delete(ctx, "vip", admin); err == nil {
			t.Fatal("a profile in use must not be deleted")
		}
		if err := dom.Profiles.Delete(ctx, "default", admin); err == nil {
			t.Fatal("the default profile must not be deleted")
		}
		if _, err := dom.Accounts.Update(ctx, a.Username, model.AccountInput{Profile: strp("")}, admin); err != nil {
			t.Fatal(err)
		}
		check("sales-profile", "group")
		if err := dom.Profiles.Delete(ctx, "vip", admin); err != nil {
			t.Fatalf("deleting an unused profile: %v", err)
		}
	})
}

// A range is usable to its last number: every creation finds a free number
// while one exists, and the one after the last is refused by name.
func TestAVirtualNumberRangeFillsToItsLastFreeNumber(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		if _, err := dom.Settings.Set(ctx, model.SettingVirtualNumberRange, "0100-0199", admin); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i := 1; i <= 100; i++ {
			a, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin)
			if err != nil {
				t.Fatalf("account %d of 100: %v", i, err)
			}
			if seen[a.VirtualNumber] || a.VirtualNumber < "0100" || a.VirtualNumber > "0199" {
				t.Fatalf("account %d: virtual number %q repeated or out of range", i, a.VirtualNumber)
			}
			seen[a.VirtualNumber] = true
		}
		_, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin)
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != "virtual_numbers_exhausted" || !strings.Contains(ae.Message, "0100-0199 has no free number left") {
			t.Fatalf("the 101st account: want virtual_numbers_exhausted naming the range, got %v", err)
		}
		// A number given by hand is still accepted outside the range.
		if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x"), VirtualNumber: strp("5000")}, admin); err != nil {
			t.Fatalf("a given number outside the full range: %v", err)
		}
	})
}
