package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// TestAccountPagerInBrowser pages the console's accounts list forward and
// back in Chromium, over 2,500 accounts (50 pages): each page starts with
// the account after the last of the page before, the pager numbers it of
// the total, and Previous comes back to the very rows seen going forward.
// (The benchmark reads the listing's pages at 1,000,000 accounts; making
// that many here would take minutes.)
func TestAccountPagerInBrowser(t *testing.T) {
	needChromium(t)
	ts := startConsole(t, "")
	ctx := context.Background()
	dom, st := ts.app.Domain, ts.app.Store
	if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester); err != nil {
		t.Fatal(err)
	}
	g, err := st.GroupByName(ctx, model.DefaultOrgID, "sales")
	if err != nil {
		t.Fatal(err)
	}
	const n = 2500
	rows := make([]*store.AccountRow, n)
	for i := range rows {
		rows[i] = &store.AccountRow{OrgID: model.DefaultOrgID, Account: model.Account{GroupID: g.ID,
			Username: fmt.Sprint(4000000000 + i), DisplayName: fmt.Sprintf("Browser %04d", i), SecurityModel: model.EndToEnd,
			VirtualNumber: fmt.Sprint(40000000 + i), Kind: "wizard", Stage: model.StageNew}}
	}
	if err := st.Tx(ctx, func(tx *store.Tx) error {
		return tx.InsertAccounts(ctx, rows, "test", func(*store.AccountRow) string { return "" })
	}); err != nil {
		t.Fatal(err)
	}
	created, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("ada"), Role: new(model.RoleAdmin)}, tester)
	if err != nil {
		t.Fatal(err)
	}
	b := browser(t)
	run(t, b, "set password", viewport(false), chromedp.Navigate(created.SetPasswordURL), chromedp.WaitVisible(chromedp.CSS("#set-password")),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "a long enough password"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password2]`), "a long enough password"),
		chromedp.Click(chromedp.CSS("#set-password")),
		chromedp.WaitVisible(chromedp.CSS("#dash-counts")))
	run(t, b, "accounts", chromedp.Navigate(ts.url+"/console/accounts"), chromedp.WaitVisible(chromedp.CSS("#pager")))

	// first and last name of the page shown, and its pager.
	type shown struct{ first, last, pager string }
	look := func(what string) shown {
		t.Helper()
		names := get(t, b, what, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#accounts tbody td a")].map(a => a.textContent)`))
		if len(names) != 50 {
			t.Fatalf("%s: %d accounts on the page, want 50", what, len(names))
		}
		return shown{names[0], names[len(names)-1], strings.Join(strings.Fields(textOf(t, b, "#pager")), " ")}
	}
	click := func(what, rel string, page int) {
		t.Helper()
		run(t, b, what, chromedp.Click(chromedp.CSS(`#pager a[rel=`+rel+`]`)))
		waitFor(t, b, what, fmt.Sprintf(`document.querySelector("#pager") && document.querySelector("#pager").textContent.includes("Page %d of 50")`, page))
	}
	var forward []shown
	forward = append(forward, look("page 1"))
	for p := 2; p <= 4; p++ {
		click(fmt.Sprint("next to page ", p), "next", p)
		forward = append(forward, look(fmt.Sprint("page ", p)))
	}
	for i, s := range forward {
		wantFirst := fmt.Sprintf("Browser %04d", n-1-50*i)
		if s.first != wantFirst || !strings.Contains(s.pager, fmt.Sprintf("Page %d of 50 (%d accounts)", i+1, n)) {
			t.Fatalf("page %d going forward: want %s first and the pager to say page %d of 50; got %+v", i+1, wantFirst, i+1, s)
		}
	}
	for p := 3; p >= 1; p-- {
		click(fmt.Sprint("back to page ", p), "prev", p)
		if got := look(fmt.Sprint("page ", p, " again")); got != forward[p-1] {
			t.Fatalf("back to page %d: want %+v as going forward, got %+v", p, forward[p-1], got)
		}
	}
	if n := get(t, b, "previous on page 1", chromedp.Evaluate[int](`document.querySelectorAll("#pager a[rel=prev]").length`)); n != 0 {
		t.Errorf("page 1 has a Previous link")
	}
}
