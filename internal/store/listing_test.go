package store_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// addAccounts inserts n accounts of acc's group (names "User <i>", e-mail
// user<i>@example.com, usernames and numbers counted from 2000000000 and
// 200000) through the import's bulk insert, and returns them, oldest first.
func addAccounts(t *testing.T, s *store.Store, group int64, n int) []*store.AccountRow {
	t.Helper()
	return addAccountsFrom(t, s, group, 0, n)
}

// addAccountsFrom is addAccounts numbering from the from'th account.
func addAccountsFrom(t *testing.T, s *store.Store, group int64, from, n int) []*store.AccountRow {
	t.Helper()
	ctx := context.Background()
	rows := make([]*store.AccountRow, n)
	for j := range rows {
		i := from + j
		rows[j] = &store.AccountRow{OrgID: org, Account: model.Account{GroupID: group,
			Username: fmt.Sprint(2000000000 + i), DisplayName: fmt.Sprintf("User %d", i), Email: fmt.Sprintf("user%d@example.com", i),
			SecurityModel: model.EndToEnd, VirtualNumber: fmt.Sprint(200000 + i), Kind: "wizard", Stage: model.StageNew}}
	}
	if err := s.Tx(ctx, func(tx *store.Tx) error {
		return tx.InsertAccounts(ctx, rows, "test", func(*store.AccountRow) string { return "" })
	}); err != nil {
		t.Fatalf("inserting accounts: %v", err)
	}
	return rows
}

func ids(as []model.Account) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// TestAccountsPaging: keyset pages walk every account once, newest first,
// forward and back, with and without a filter; the old offset still
// works; search matches the accounts with, for each word of the text, a
// word of the five fields starting with it (case-insensitively, in any
// order, a word never spanning two fields), and neither engine's query
// syntax nor LIKE's wildcards in the text do anything.
func TestAccountsPaging(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := seed(t, s)
		rows := addAccounts(t, s, first.GroupID, 24)
		var want []int64
		for i := len(rows) - 1; i >= 0; i-- {
			want = append(want, rows[i].ID)
		}
		want = append(want, first.ID)

		// Forward, 10 a page, to the end.
		var got []int64
		var pages []store.PageInfo
		f := store.AccountFilter{Limit: 10}
		for {
			as, info, err := s.AccountsPage(ctx, org, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(as)...)
			pages = append(pages, info)
			if info.Next == 0 {
				break
			}
			f.Before = info.Next
		}
		if !slices.Equal(got, want) || len(pages) != 3 {
			t.Fatalf("forward: want %v in 3 pages, got %v in %d", want, got, len(pages))
		}
		if pages[0].Prev != 0 || pages[1].Prev == 0 || pages[2].Next != 0 {
			t.Fatalf("forward: the first page has no previous, the last no next; got %+v", pages)
		}
		// Back from the last page: the second page again, then the first.
		as, info, err := s.AccountsPage(ctx, org, store.AccountFilter{Limit: 10, After: pages[2].Prev})
		if err != nil || !slices.Equal(ids(as), want[10:20]) || info.Prev == 0 || info.Next != want[19] {
			t.Fatalf("back to page 2: want %v (prev and next set), got %v %+v %v", want[10:20], ids(as), info, err)
		}
		as, info, err = s.AccountsPage(ctx, org, store.AccountFilter{Limit: 10, After: info.Prev})
		if err != nil || !slices.Equal(ids(as), want[:10]) || info.Prev != 0 {
			t.Fatalf("back to page 1: want %v and no previous page, got %v %+v %v", want[:10], ids(as), info, err)
		}
		// The old offset.
		as, _, err = s.AccountsPage(ctx, org, store.AccountFilter{Limit: 5, Offset: 20})
		if err != nil || !slices.Equal(ids(as), want[20:]) {
			t.Fatalf("offset 20: want %v, got %v, %v", want[20:], ids(as), err)
		}
		// A filter pages too.
		for _, r := range rows[:6] {
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SetAccountDisabled(ctx, r.ID, true) }); err != nil {
				t.Fatal(err)
			}
		}
		as, info, err = s.AccountsPage(ctx, org, store.AccountFilter{Status: model.StatusDisabled, Limit: 4})
		if err != nil || !slices.Equal(ids(as), []int64{rows[5].ID, rows[4].ID, rows[3].ID, rows[2].ID}) || info.Next != rows[2].ID {
			t.Fatalf("disabled, first page: got %v %+v %v", ids(as), info, err)
		}
		as, info, err = s.AccountsPage(ctx, org, store.AccountFilter{Status: model.StatusDisabled, Limit: 4, Before: info.Next})
		if err != nil || !slices.Equal(ids(as), []int64{rows[1].ID, rows[0].ID}) || info.Next != 0 {
			t.Fatalf("disabled, second page: got %v %+v %v", ids(as), info, err)
		}
		as, _, err = s.AccountsPage(ctx, org, store.AccountFilter{Status: model.StageNew, Limit: 100})
		if err != nil || len(as) != 19 {
			t.Fatalf("new and enabled: want 19, got %d, %v", len(as), err)
		}

		search := func(q string) []int64 {
			t.Helper()
			as, err := s.Accounts(ctx, org, store.AccountFilter{Search: q, Limit: 100})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			return ids(as)
		}
		var all []int64
		for i := len(rows) - 1; i >= 0; i-- {
			all = append(all, rows[i].ID)
		}
		user1 := []int64{rows[19].ID, rows[18].ID, rows[17].ID, rows[16].ID, rows[15].ID, rows[14].ID, rows[13].ID, rows[12].ID, rows[11].ID, rows[10].ID, rows[1].ID}
		for q, w := range map[string][]int64{
			"user1@example.com": user1, // words starting user1, example and com: user1@ and user10-19@ too
			"USER1@EXAMPLE":     user1,
			"user1":             user1,
			"user 23":           {rows[23].ID},
			"23 USER":           {rows[23].ID}, // words in any order
			"2000000007":        {rows[7].ID},  // longer than the indexes' prefixes
			"200000000":         {rows[9].ID, rows[8].ID, rows[7].ID, rows[6].ID, rows[5].ID, rows[4].ID, rows[3].ID, rows[2].ID, rows[1].ID, rows[0].ID},
			"200012":            {rows[12].ID},
			"lovel":             {first.ID}, // the seed's Ada Lovelace
			"ada lovelace":      {first.ID},
			`"ada" lov*`:        {first.ID},
			"ada & !lovelace":   {first.ID},
			"lov:*":             {first.ID},
			"l":                 {first.ID},
			"example":           all,
			"23":                {rows[23].ID}, // not the seed's username 1234567890: no word starts with 23
			"ovelace":           nil,           // part of a word that is not its start
			"nobody":            nil,
			"ada nobody":        nil,
			"23user":            nil, // "User 23" and "user23@..." are two fields
			"%":                 nil,
			`"`:                 nil,
			"u_er":              nil, // u* and er*
		} {
			if got := search(q); !slices.Equal(got, w) {
				t.Errorf("search %q: want %v, got %v", q, w, got)
			}
		}
		// Another organisation's namesake is found in its organisation only.
		other := &store.AccountRow{OrgID: org + 1, Account: model.Account{Username: "3000000001", DisplayName: "Ada Lovelace",
			SecurityModel: model.EndToEnd, VirtualNumber: "100001", Kind: "wizard", Stage: model.StageNew}}
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.EnsureOrganisation(ctx, org+1, "other"); err != nil {
				return err
			}
			g := &store.GroupRow{Group: model.Group{Name: "other"}}
			if err := tx.CreateGroup(ctx, org+1, g); err != nil {
				return err
			}
			other.GroupID = g.ID
			return tx.CreateAccount(ctx, other)
		}); err != nil {
			t.Fatal(err)
		}
		if got := search("ada lovelace"); !slices.Equal(got, []int64{first.ID}) {
			t.Errorf("search in the first organisation: want %v, got %v", first.ID, got)
		}
		if as, err := s.Accounts(ctx, org+1, store.AccountFilter{Search: "ada lovelace"}); err != nil || len(as) != 1 || as[0].ID != other.ID {
			t.Errorf("search in the other organisation: want %v, got %v, %v", other.ID, ids(as), err)
		}
		// Search follows edits and deletes.
		rows[3].DisplayName = "Grace Hopper"
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateAccount(ctx, rows[3]) }); err != nil {
			t.Fatal(err)
		}
		if got := search("hopper"); !slices.Equal(got, []int64{rows[3].ID}) {
			t.Errorf("search after an edit: want %v, got %v", rows[3].ID, got)
		}
		if got := search("user 3"); slices.Contains(got, rows[3].ID) {
			t.Errorf("search after an edit still finds the old name: %v", got)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteAccount(ctx, rows[3].ID) }); err != nil {
			t.Fatal(err)
		}
		if got := search("hopper"); len(got) != 0 {
			t.Errorf("search after a delete: want nothing, got %v", got)
		}
	})
}

// hotTables are the tables a listing must never read whole.
var hotTables = []string{"accounts", "events", "messages", "audit_log", "outbox"}

// TestListingPlans reads the engine's plan of every listing's query and
// fails when one reads a large table whole or sorts all its matches: each
// must come from an index in the listing's order. SQLite plans the queries
// as they are; PostgreSQL, whose planner rightly reads a table of a few
// rows whole, plans them with sequential scans (and, for the listings
// without search, sorts) priced out, so that the plan shows whether an
// index serves the query at all. A search must use the search index.
func TestListingPlans(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		rows := addAccounts(t, s, acc.GroupID, 20)
		if s.Dialect() == store.Postgres {
			// PostgreSQL plans by its statistics: on a few rows it rightly
			// walks them all. Give it enough accounts, few of them invited
			// or disabled as on a real site, and ANALYZE them.
			rows = append(rows[:0], addAccountsFrom(t, s, acc.GroupID, 20, 3000)...)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			for _, r := range rows[:5] {
				if _, err := tx.AdvanceStage(ctx, r.ID, model.StageInvited); err != nil {
					return err
				}
				if err := tx.SetAccountDisabled(ctx, rows[len(rows)-1-int(r.ID%5)].ID, true); err != nil {
					return err
				}
			}
			if s.Dialect() == store.Postgres {
				_, err := tx.ExecRaw(ctx, "ANALYZE")
				return err
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		type listing struct {
			name   string
			q      string
			args   []any
			search bool // a search: may sort its matches
			uses   string
		}
		// Each listing names the index that must serve it: one whose
		// columns hold the listing's conditions and then its order, so
		// that no row is read in vain. Where every account matches (one
		// organisation, one group here), PostgreSQL rightly walks the
		// primary key instead.
		aq := func(name, uses string, f store.AccountFilter) listing {
			q, a := store.AccountsQuery(s, org, f)
			return listing{name: "accounts " + name, q: q, args: a, search: f.Search != "", uses: uses}
		}
		eq := func(name, uses string, f store.AccountFilter) listing {
			q, a := store.ExportQuery(s, org, f)
			return listing{name: "export " + name, q: q, args: a, uses: uses}
		}
		mq := func(name, uses string, f store.MessageFilter) listing {
			q, a := store.MessagesQuery(s, org, f)
			return listing{name: "messages " + name, q: q, args: a, uses: uses}
		}
		audit := func(name, uses string, f store.AuditFilter) listing {
			q, a := store.AuditQuery(org, f)
			return listing{name: "audit " + name, q: q, args: a, uses: uses}
		}
		oq, oa := store.OutboxQuery(org, store.Page{Before: 10})
		// On SQLite the search index drives the query, newest first (its
		// first line, and no sort), so that it stops at the page's end.
		search := aq("search", `\ASCAN accounts_fts VIRTUAL TABLE`, store.AccountFilter{Search: "user12@example", Before: 150000})
		if s.Dialect() == store.Postgres {
			// On a few rows PostgreSQL rightly walks them all rather than
			// read a GIN index; the search's condition alone, with that walk
			// priced out, shows that accounts_search_terms serves it.
			q, a := store.SearchProbe("user12@example")
			search = listing{name: "accounts search", q: q, args: a, search: true, uses: "accounts_search_terms"}
		}
		listings := []listing{
			aq("first page", "accounts_org_id|accounts_pkey", store.AccountFilter{Limit: 100}),
			aq("next page", "accounts_org_id|accounts_pkey", store.AccountFilter{Limit: 50, Before: 150000}),
			aq("previous page", "accounts_org_id|accounts_pkey", store.AccountFilter{Limit: 50, After: 150000}),
			aq("by status", "accounts_org_stage", store.AccountFilter{Status: model.StageInvited, Before: 150000}),
			aq("disabled", "accounts_org_disabled", store.AccountFilter{Status: model.StatusDisabled}),
			aq("by group", "accounts_group|accounts_pkey", store.AccountFilter{GroupID: &acc.GroupID, Before: 150000}),
			search,
			eq("first page", "accounts_org_id|accounts_pkey", store.AccountFilter{Limit: 5000}),
			eq("next page", "accounts_org_id|accounts_pkey", store.AccountFilter{Limit: 5000, Before: 150000}),
			eq("by status", "accounts_org_stage", store.AccountFilter{Status: model.StageInvited, Limit: 5000, Before: 150000}),
			eq("by group", "accounts_group|accounts_pkey", store.AccountFilter{GroupID: &acc.GroupID, Limit: 5000, Before: 150000}),
			mq("first page", "messages_org_id", store.MessageFilter{}),
			mq("by state", "messages_org_state", store.MessageFilter{State: model.MessageFailed, Before: 1000}),
			mq("of an account", "messages_account", store.MessageFilter{AccountID: acc.ID}),
			audit("first page", "audit_log_org_at", store.AuditFilter{}),
			audit("by actor", "audit_log_org_actor", store.AuditFilter{Actor: "admin", BeforeID: 1000}),
			{name: "outbox", q: oq, args: oa, uses: "outbox_org_id"},
			{name: "an account's events", q: store.EventsQuery, args: []any{acc.ID}, uses: "events_account"},
			// Usernames have one index, by scope then username; a lookup
			// by organisation alone read every account of it.
			{name: "an account by its username", q: store.AccountByUsernameQuery, args: []any{org, rows[3].Username, model.DefaultOrgID},
				uses: "sqlite_autoindex_accounts(_new)?_2|accounts_scope_username"},
		}
		var full *regexp.Regexp
		if s.Dialect() == store.SQLite {
			// "SCAN t" reads the table whole, "SCAN t USING INDEX i" the whole
			// index; "SEARCH" reads a range of one. A temporary B-tree sorts.
			full = regexp.MustCompile(`(?m)^(SCAN (` + strings.Join(append(hotTables, "a"), "|") + `)\b.*|.*USE TEMP B-TREE FOR ORDER BY.*)$`)
		} else {
			full = regexp.MustCompile(`(?m)^(Seq Scan on (` + strings.Join(hotTables, "|") + `)\b.*|Sort.*)$`)
		}
		for _, l := range listings {
			settings := []string{"enable_seqscan = off", "enable_sort = off"}
			if l.search {
				settings = settings[:1] // a search may sort its few matches
			}
			plan, err := store.Plan(ctx, s, l.q, l.args, settings...)
			if err != nil {
				t.Fatalf("%s: explaining %s: %v", l.name, l.q, err)
			}
			if l.search && s.Dialect() == store.Postgres {
				// A search's matches may be sorted; a sequential scan still fails.
				full = regexp.MustCompile(`(?m)^Seq Scan on (` + strings.Join(hotTables, "|") + `)\b.*$`)
			}
			if m := full.FindString(plan); m != "" {
				t.Errorf("%s: %q reads a table whole or sorts it:\n%s", l.name, m, plan)
			}
			if l.uses != "" && !regexp.MustCompile(`\b(`+l.uses+`)\b`).MatchString(plan) {
				t.Errorf("%s: want the plan to use %s:\n%s", l.name, l.uses, plan)
			}
		}
	})
}

// TestAccountCountsFollowChanges: the dashboard's counts, kept by
// triggers, match a count of the accounts themselves through creates,
// imports, stage changes, activation, disabling, enabling and deletes.
func TestAccountCountsFollowChanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		check := func(when string) {
			t.Helper()
			got, err := s.AccountCounts(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			as, err := s.Accounts(ctx, org, store.AccountFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			for _, a := range as {
				want[model.StatusOf(a.Stage, a.Disabled)]++
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: counts %v, want %v", when, got, want)
			}
		}
		first := seed(t, s)
		check("after a create")
		rows := addAccounts(t, s, first.GroupID, 40)
		check("after an import")
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			for i, r := range rows {
				var err error
				switch i % 4 {
				case 0:
					_, err = tx.AdvanceStage(ctx, r.ID, model.StageInvited)
				case 1:
					_, err = tx.AdvanceStage(ctx, r.ID, model.StageOpened)
				case 2:
					err = tx.ActivateAccount(ctx, r.ID, []byte("sealed"), "md5", "sha", "example.com", time.Now())
				}
				if err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		check("after stage changes")
		for _, r := range rows[:10] {
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SetAccountDisabled(ctx, r.ID, true) }); err != nil {
				t.Fatal(err)
			}
		}
		check("after disabling")
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.SetAccountDisabled(ctx, rows[0].ID, false); err != nil {
				return err
			}
			return tx.SetAccountDisabled(ctx, rows[1].ID, true) // already disabled: no change
		}); err != nil {
			t.Fatal(err)
		}
		check("after enabling")
		rows[2].DisplayName = "Renamed"
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.UpdateAccount(ctx, rows[2]) }); err != nil {
			t.Fatal(err)
		}
		check("after an edit")
		for _, r := range append(rows[5:15], first) {
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteAccount(ctx, r.ID) }); err != nil {
				t.Fatal(err)
			}
		}
		check("after deletes")
		// A transaction that fails leaves the counts as they were.
		_ = s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.DeleteAccount(ctx, rows[20].ID); err != nil {
				return err
			}
			return fmt.Errorf("rolled back")
		})
		check("after a rolled-back delete")
	})
}

// TestMigration12KeepsExistingAccounts: an installation upgraded to
// migration 0012 counts and finds the accounts it had before, and keeps
// drawing virtual numbers from the range it did (the old default, now
// stored as its setting); a new installation stores none, and gets the
// new default.
func TestMigration12KeepsExistingAccounts(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.DSN(t)
			old, err := store.OpenAt(ctx, dsn, 9)
			if err != nil {
				t.Fatal(err)
			}
			first := seed(t, old)
			rows := addAccounts(t, old, first.GroupID, 10)
			if err := old.Tx(ctx, func(tx *store.Tx) error { return tx.SetAccountDisabled(ctx, rows[0].ID, true) }); err != nil {
				t.Fatal(err)
			}
			old.Close()
			s := storetest.Open(t, dsn)
			counts, err := s.AccountCounts(ctx, org)
			if err != nil || counts[model.StageNew] != 10 || counts[model.StatusDisabled] != 1 || len(counts) != 2 {
				t.Fatalf("counts after the upgrade: want 10 new and 1 disabled, got %v, %v", counts, err)
			}
			as, err := s.Accounts(ctx, org, store.AccountFilter{Search: "user7@exa"})
			if err != nil || len(as) != 1 || as[0].ID != rows[7].ID {
				t.Fatalf("search after the upgrade: want account %d, got %v, %v", rows[7].ID, ids(as), err)
			}
			if set, err := s.Settings(ctx, org); err != nil || set[model.SettingVirtualNumberRange] != "100000-999999" {
				t.Fatalf("the upgraded installation's range: want the old default stored, got %q, %v", set[model.SettingVirtualNumberRange], err)
			}
			fresh := storetest.Open(t, b.DSN(t))
			seed(t, fresh)
			if set, err := fresh.Settings(ctx, org); err != nil || set[model.SettingVirtualNumberRange] != "" {
				t.Fatalf("a new installation: want no range stored, got %q, %v", set[model.SettingVirtualNumberRange], err)
			}
		})
	}
}
