package activation

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestNumberRangeWarnsAt80Percent: a range of ten numbers warns from the
// eighth account on (in its use, on the dashboard and once in the log),
// not before; a new installation's default range holds many millions.
func TestNumberRangeWarnsAt80Percent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		var logged bytes.Buffer
		dom.Accounts.log = slog.New(slog.NewTextHandler(&logged, nil))
		u, err := dom.Accounts.NumberRangeUse(ctx, admin)
		if err != nil || u.Range != "10000000-99999999" || u.Size != 90000000 || u.Warning != "" {
			t.Fatalf("a new installation: want the default range of 90,000,000 numbers, no warning; got %+v, %v", u, err)
		}
		mustGroup(t, dom, "sales")
		if _, err := dom.Settings.Set(ctx, model.SettingVirtualNumberRange, "0100-0109", admin); err != nil {
			t.Fatal(err)
		}
		for i := range 8 {
			if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp(fmt.Sprint("n", i))}, admin); err != nil {
				t.Fatal(err)
			}
			u, err := dom.Accounts.NumberRangeUse(ctx, admin)
			if err != nil {
				t.Fatal(err)
			}
			if i < 7 && (u.Warning != "" || strings.Contains(logged.String(), "nearly full")) {
				t.Fatalf("%d of 10 used: want no warning, got %+v and log %q", i+1, u, logged.String())
			}
			if i == 7 && (u.Used != 8 || u.Percent != 80 || !strings.Contains(u.Warning, "80% used") || !strings.Contains(u.Warning, "virtual_number_range")) {
				t.Fatalf("8 of 10 used: want a warning naming the setting, got %+v", u)
			}
		}
		d, err := dom.Dashboard.Gather(ctx, false, admin)
		if err != nil || d.Numbers == nil || d.Numbers.Warning == "" {
			t.Fatalf("the dashboard: want the range's warning, got %+v, %v", d.Numbers, err)
		}
		if n := strings.Count(logged.String(), "virtual number range nearly full"); n != 1 {
			t.Errorf("the log: want the warning once (then once an hour), got %d times: %q", n, logged.String())
		}
	})
}

// TestDashboardCountsFollowTheAccounts: the dashboard's tiles, from the
// counts the store keeps, match the accounts through creates, an import,
// sends, disabling, enabling and deletes, on both engines.
func TestDashboardCountsFollowTheAccounts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		check := func(when string) {
			t.Helper()
			d, err := dom.Dashboard.Gather(ctx, false, admin)
			if err != nil {
				t.Fatal(err)
			}
			as, err := dom.Accounts.List(ctx, "", "", "", 1000, 0, admin)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			for _, a := range as {
				want[a.Status]++
			}
			for _, k := range append(model.Stages, model.StatusDisabled) {
				if d.Counts[k] != want[k] {
					t.Fatalf("%s: %s %d, want %d (all: %v, want %v)", when, k, d.Counts[k], want[k], d.Counts, want)
				}
			}
			if d.Total != len(as) {
				t.Fatalf("%s: total %d, want %d", when, d.Total, len(as))
			}
		}
		var users []string
		for i := range 5 {
			a, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp(fmt.Sprint("Made ", i)),
				Email: strp(fmt.Sprintf("made%d@example.com", i))}, admin)
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, a.Username)
		}
		check("after creates")
		var file strings.Builder
		file.WriteString("full name,group\n")
		for i := range 12 {
			fmt.Fprintf(&file, "Imported %d,sales\n", i)
		}
		p, err := dom.Imports.Preview(ctx, "people.csv", []byte(file.String()), ImportOptions{}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Imports.Confirm(ctx, p.ID, admin, nil); err != nil {
			t.Fatal(err)
		}
		check("after an import")
		for _, u := range users[:2] {
			if _, err := dom.Links.Send(ctx, u, model.SendRequest{Kind: model.LinkActivation, Channel: "email"}, admin); err != nil {
				t.Fatal(err)
			}
		}
		check("after sends (invited)")
		if _, err := dom.Accounts.SetDisabled(ctx, users[0], true, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Accounts.SetDisabled(ctx, users[2], true, admin); err != nil {
			t.Fatal(err)
		}
		check("after disabling")
		if _, err := dom.Accounts.SetDisabled(ctx, users[2], false, admin); err != nil {
			t.Fatal(err)
		}
		check("after enabling")
		for _, u := range users[:4] {
			if err := dom.Accounts.Delete(ctx, u, admin); err != nil {
				t.Fatal(err)
			}
		}
		check("after deletes")
	})
}
