package activation

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// An import that needs more numbers than are free is refused at preview,
// saying how many are free and how many the file needs; one that fits
// takes the range to its last number.
func TestImportPreviewCountsTheFreeVirtualNumbers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		if _, err := dom.Settings.Set(ctx, model.SettingVirtualNumberRange, "10-19", admin); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin); err != nil {
				t.Fatal(err)
			}
		}
		file := func(n int) []byte {
			var b strings.Builder
			b.WriteString("full name,group\n")
			for i := range n {
				fmt.Fprintf(&b, "Person %d,sales\n", i)
			}
			return []byte(b.String())
		}
		_, err := dom.Imports.Preview(ctx, "big.csv", file(8), ImportOptions{}, admin)
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != "virtual_numbers_exhausted" ||
			!strings.Contains(ae.Message, "needs 8 new virtual numbers") || !strings.Contains(ae.Message, "has only 7 free") {
			t.Fatalf("8 rows for 7 free numbers: want a refusal with both counts, got %v", err)
		}
		p, err := dom.Imports.Preview(ctx, "fits.csv", file(7), ImportOptions{}, admin)
		if err != nil {
			t.Fatalf("7 rows for 7 free numbers: %v", err)
		}
		done, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
		if err != nil || done.Created != 7 {
			t.Fatalf("confirming 7 rows: %+v %v", done, err)
		}
		all, err := dom.Accounts.List(ctx, "", "", "", 100, 0, admin)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, a := range all {
			if seen[a.VirtualNumber] || a.VirtualNumber < "10" || a.VirtualNumber > "19" {
				t.Fatalf("virtual number %q repeated or out of range", a.VirtualNumber)
			}
			seen[a.VirtualNumber] = true
		}
		if len(seen) != 10 {
			t.Fatalf("want the 10 numbers of the range in use, got %d", len(seen))
		}
	})
}

func TestImportPreviewConfirmAndReimport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		file := "Full name;Mobile number;E-mail;Security model;Group;Language\n" +
			"Ada Lovelace;+39 333 123 4567;ada@example.com;end-to-site;;it\n" +
			"Bad Phone;12;;;;\n" +
			"Charles Babbage;;charles@example.com;;sales;\n" +
			"No Group;;x@example.com;;nowhere;\n" +
			";;y@example.com;sideways;;\n" +
			"Ada Again;+393331234567;;;;\n"
		p, err := dom.Imports.Preview(ctx, "people.csv", []byte(file), ImportOptions{Group: "sales", Send: ""}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 6 || p.Create != 2 || p.Exists != 1 || p.Invalid != 3 {
			t.Fatalf("preview counts: %+v", p)
		}
		cells := map[string]bool{}
		for _, e := range p.Errors {
			cells[fmt.Sprintf("%d:%s", e.Row, e.Column)] = true
		}
		for _, want := range []string{"3:mobile number", "5:group", "6:full name", "6:security model"} {
			if !cells[want] {
				t.Errorf("the preview does not name bad cell %s: %+v", want, p.Errors)
			}
		}
		if n, _ := dom.Accounts.List(ctx, "", "", "", 100, 0, admin); len(n) != 0 {
			t.Fatalf("the preview imported %d accounts", len(n))
		}
		stt, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
		if err != nil {
			t.Fatal(err)
		}
		if stt.Created != 2 || stt.State != model.ImportDone {
			t.Fatalf("confirm: %+v", stt)
		}
		if _, err := dom.Imports.Confirm(ctx, p.ID, admin, nil); err == nil {
			t.Fatal("a finished import was imported again")
		}
		as, _ := dom.Accounts.List(ctx, "", "", "", 100, 0, admin)
		if len(as) != 2 {
			t.Fatalf("%d accounts after the import, want 2", len(as))
		}
		ada, _ := dom.Accounts.List(ctx, "", "", "ada@example.com", 10, 0, admin)
		if len(ada) != 1 || ada[0].Mobile != "+393331234567" || ada[0].SecurityModel != model.EndToSite || ada[0].Language != "it" || ada[0].Status != model.StageNew {
			t.Fatalf("Ada imported as %+v", ada)
		}

		// The console's security model filter.
		for m, want := range map[string]string{"end-to-site": "Ada Lovelace", "end-to-end": "Charles Babbage"} {
			got, err := dom.Accounts.ListOfModel(ctx, "sales", "new", "", m, 10, 0, admin)
			if err != nil || len(got) != 1 || got[0].DisplayName != want {
				t.Errorf("accounts of %s: %+v, %v", m, got, err)
			}
		}
		if _, err := dom.Accounts.ListOfModel(ctx, "", "", "", "sideways", 10, 0, admin); fieldOf(err) != "security_model" {
			t.Errorf("an unknown model: %v", err)
		}

		// The same file again, and the export of what is there: no duplicates.
		p2, err := dom.Imports.Preview(ctx, "people.csv", []byte(file), ImportOptions{Group: "sales"}, admin)
		if err != nil || p2.Create != 0 || p2.Exists != 3 {
			t.Fatalf("re-import preview: %+v, %v", p2, err)
		}
		var buf bytes.Buffer
		if err := dom.Accounts.Export(ctx, &buf, "", "", "", admin); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
		if err != nil || len(recs) != 3 || recs[0][0] != ColName || recs[0][len(recs[0])-3] != "status" {
			t.Fatalf("export: %v %v", recs, err)
		}
		p3, err := dom.Imports.Preview(ctx, "export.csv", buf.Bytes(), ImportOptions{}, admin)
		if err != nil || p3.Create != 0 || p3.Exists != 2 || p3.Invalid != 0 {
			t.Fatalf("importing the export: %+v, %v", p3, err)
		}
		if _, err := dom.Imports.Cancel(ctx, p3.ID, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Imports.Confirm(ctx, p3.ID, admin, nil); err == nil {
			t.Fatal("a cancelled import was imported")
		}
	})
}

func TestImportThenSend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		var b strings.Builder
		b.WriteString("full name,e-mail\n")
		for i := 0; i < 7; i++ {
			fmt.Fprintf(&b, "User %d,user%d@example.com\n", i, i)
		}
		b.WriteString("No Mail,\n")
		p, err := dom.Imports.Preview(ctx, "", []byte(b.String()), ImportOptions{Group: "sales", Send: model.ChannelEmail}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if p.Invalid != 1 || p.Errors[0].Column != ColEmail {
			t.Fatalf("a row without e-mail must be bad when sending by e-mail: %+v", p)
		}
		stt, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
		if err != nil || stt.State != model.ImportSending || stt.ToSend != 7 {
			t.Fatalf("confirm: %+v, %v", stt, err)
		}
		runJobs(t, dom.Imports, "here")
		if stt, err = dom.Imports.Status(ctx, p.ID, admin); err != nil {
			t.Fatal(err)
		}
		if stt.Sent != 7 || stt.State != model.ImportDone {
			t.Fatalf("after sending: %+v", stt)
		}
		ms, _ := dom.Messages.List(ctx, "", "", 100, admin)
		if len(ms) != 7 {
			t.Fatalf("%d messages queued, want 7 (one per account, none twice)", len(ms))
		}
	})
}

// TestImportMatchesEarlierRowsAndSendsEachAccountOnce imports a file with
// a row repeating an earlier row and a row matching an existing account,
// and sends: the repeat makes no account and names none in the preview,
// the existing account is named, each account is sent to once, and the
// import's preview still reads while it sends.
func TestImportMatchesEarlierRowsAndSendsEachAccountOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		old, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Old"), Email: strp("old@example.com")}, admin)
		if err != nil {
			t.Fatal(err)
		}
		file := "full name,e-mail\nAda,ada@example.com\nAda Again,ADA@example.com\nOld,old@example.com\nBob,bob@example.com\n"
		p, err := dom.Imports.Preview(ctx, "", []byte(file), ImportOptions{Group: "sales", Send: model.ChannelEmail}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if p.Create != 2 || p.Exists != 2 {
			t.Fatalf("preview counts: %+v", p)
		}
		for _, r := range p.Rows {
			want := map[int]string{2: "create", 3: "exists", 4: "exists", 5: "create"}[r.Row]
			if r.Action != want || (r.Row == 4) != (r.Username == old.Username) || r.Row != 4 && r.Username != "" {
				t.Errorf("preview row %d: %+v; want %s, naming only the existing account", r.Row, r, want)
			}
		}
		stt, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
		if err != nil || stt.State != model.ImportSending || stt.Created != 2 || stt.ToSend != 3 {
			t.Fatalf("confirm: %+v, %v; want 2 created and 3 to send (Ada, Old, Bob)", stt, err)
		}
		again, err := dom.Imports.PreviewOf(ctx, p.ID, admin)
		if err != nil || again.State != model.ImportSending || again.Create != 2 {
			t.Fatalf("the preview while sending: %+v, %v", again, err)
		}
		runJobs(t, dom.Imports, "here")
		if stt, err = dom.Imports.Status(ctx, p.ID, admin); err != nil || stt.State != model.ImportDone || stt.Sent != 3 {
			t.Fatalf("send: %+v, %v", stt, err)
		}
		ms, _ := dom.Messages.List(ctx, "", "", 100, admin)
		to := map[string]int{}
		for _, m := range ms {
			to[m.Recipient]++
		}
		if len(ms) != 3 || to["ada@example.com"] != 1 || to["old@example.com"] != 1 || to["bob@example.com"] != 1 {
			t.Fatalf("messages to %v; want one each to Ada, Old and Bob", to)
		}
	})
}

// TestImportResumesAfterAnInterruption stops an import after its first
// batch (the request's context ends) and confirms it again: the rest is
// imported and nothing twice.
func TestImportResumesAfterAnInterruption(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		dom := newDomain(t, st)
		const n = 2500
		p := previewPeople(t, dom, n)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := dom.Imports.Confirm(ctx, p.ID, admin, func(st model.ImportStatus) { cancel() })
		if err == nil {
			t.Fatal("the interrupted import did not fail")
		}
		stt, _ := dom.Imports.Status(context.Background(), p.ID, admin)
		if stt.State != model.ImportImporting || stt.Created != importBatch {
			t.Fatalf("after the interruption: %+v (want it still importing, its first batch kept)", stt)
		}
		stt, err = dom.Imports.Confirm(context.Background(), p.ID, admin, nil)
		if err != nil {
			t.Fatal(err)
		}
		if stt.State != model.ImportDone || stt.Created != n || stt.LastError != "" { // created counts both runs
			t.Fatalf("resumed: %+v", stt)
		}
		keys, _ := st.AccountKeys(context.Background(), model.DefaultOrgID)
		if len(keys) != n {
			t.Fatalf("%d accounts after the resumed import, want %d", len(keys), n)
		}
	})
}

// previewPeople previews an import of n people with mobile numbers into a
// new group "sales", every row one to create.
func previewPeople(t *testing.T, dom Domain, n int) *model.ImportPreview {
	t.Helper()
	mustGroup(t, dom, "sales")
	var b strings.Builder
	b.WriteString("full name,mobile number\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Person %d,+39333%07d\n", i, i)
	}
	p, err := dom.Imports.Preview(context.Background(), "big.csv", []byte(b.String()), ImportOptions{Group: "sales"}, admin)
	if err != nil || p.Create != n {
		t.Fatalf("preview: %+v %v", p, err)
	}
	return p
}

// runJobs runs, as instance, every import job no live instance holds,
// until there is none.
func runJobs(t *testing.T, im *Imports, instance string) {
	t.Helper()
	for i := 0; ; i++ {
		ok, err := im.runOneJob(context.Background(), instance)
		if err != nil {
			t.Fatalf("running import jobs: %v", err)
		}
		if !ok {
			return
		}
		if i > 100 {
			t.Fatal("import jobs never ran out")
		}
	}
}

// TestAnInterruptedImportGoesOnByItself: an import whose process stopped
// half way (its claim still held, as a SIGKILL leaves it) is taken up by
// the server's jobs on restart, from the batch that was in progress: every
// row imported once, each account with its created event.
func TestAnInterruptedImportGoesOnByItself(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		dom := newDomain(t, st)
		const n = 2500
		p := previewPeople(t, dom, n)
		dom.Imports.RunJobs(canceled(), "here") // names this instance, as the server's start does
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := dom.Imports.Confirm(ctx, p.ID, admin, func(model.ImportStatus) { cancel() }); err == nil {
			t.Fatal("the interrupted import did not stop")
		}
		// As a SIGKILL leaves it: held by this instance, which restarts.
		if err := st.Tx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.ClaimImport(context.Background(), p.ID, "here", time.Now(), time.Hour)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		runJobs(t, dom.Imports, "here")
		stt, _ := dom.Imports.Status(context.Background(), p.ID, admin)
		if stt.State != model.ImportDone || stt.Created != n || stt.Done != n || stt.LastError != "" {
			t.Fatalf("after the jobs ran: %+v", stt)
		}
		keys, _ := st.AccountKeys(context.Background(), model.DefaultOrgID)
		if len(keys) != n {
			t.Fatalf("%d accounts after the resumed import, want %d", len(keys), n)
		}
		for _, k := range []store.AccountKey{keys[0], keys[n/2], keys[n-1]} {
			if ev, err := st.Events(context.Background(), k.ID); err != nil || len(ev) != 1 || ev[0].Kind != model.EventCreated {
				t.Fatalf("account %s's events: %+v, %v", k.Username, ev, err)
			}
		}
	})
}

// canceled is a context that has ended.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// Usernames are unique per SIP domain: an import into an organisation
// sharing the provider's username scope draws again a username another
// organisation of the scope already has, where the batch's insert failed
// on the scope's unique usernames.
func TestImportDrawsUsernamesFreeInTheSharedScope(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		theirs := mustAccount(t, dom) // the provider's own organisation's
		provider := Caller{Name: "provider", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
		o, err := dom.Organisations.Create(ctx, model.OrganisationInput{Name: strp("B"), Slug: strp("b")}, provider)
		if err != nil {
			t.Fatal(err)
		}
		b := Caller{Name: "b-admin", Role: model.RoleAdmin, OrgID: o.ID}
		if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("staff"), ITEmail: strp("it@b.example")}, b); err != nil {
			t.Fatal(err)
		}
		// The draws: the other organisation's username first, then free ones.
		fresh := []string{theirs.Username, theirs.Username, "5550000001", "5550000002"}
		dom.Imports.draw = func(int) string {
			u := fresh[0]
			if len(fresh) > 1 {
				fresh = fresh[1:]
			}
			return u
		}
		p, err := dom.Imports.Preview(ctx, "b.csv", []byte("Full name;E-mail\nGrace Hopper;grace@b.example\nAlan Turing;alan@b.example\n"), ImportOptions{Group: "staff"}, b)
		if err != nil {
			t.Fatal(err)
		}
		stt, err := dom.Imports.Confirm(ctx, p.ID, b, nil)
		if err != nil {
			t.Fatalf("confirming an import whose draw hit another organisation's username: %v", err)
		}
		if stt.Created != 2 {
			t.Fatalf("confirm: %+v", stt)
		}
		as, err := dom.Accounts.List(ctx, "", "", "", 10, 0, b)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, a := range as {
			got[a.Username] = true
		}
		if len(got) != 2 || got[theirs.Username] || !got["5550000001"] || !got["5550000002"] {
			t.Fatalf("the imported accounts' usernames: %v; want 5550000001 and 5550000002, not the provider's %s", got, theirs.Username)
		}
	})
}
