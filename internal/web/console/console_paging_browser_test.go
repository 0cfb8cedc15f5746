package console_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// TestAccountPagerInBrowser pages the console's accounts list forward and
// back in Chromium, over 1,000,000 accounts (20,000 pages) that the
// benchmark's data generator (bench/gen) loads: each page holds the 50
// accounts after the last of the page before, newest first, the pager
// numbers it of the total, and Previous comes back to the very rows seen
// going forward. With -short it pages over 2,500 (50 pages).
func TestAccountPagerInBrowser(t *testing.T) {
	needChromium(t)
	n := 1_000_000
	if testing.Short() {
		n = 2500
	}
	dir := t.TempDir()
	gen := exec.Command("go", "run", "../../../bench/gen", "--database", filepath.Join(dir, "activator.db"),
		"--accounts", strconv.Itoa(n), "--events", "0", "--messages", "0", "--groups", "1", "--stages", "new=1", "--disabled", "0")
	gen.Stdin = nil
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generating %d accounts: %v\n%s", n, err, out)
	}
	ts := startConsoleIn(t, "", dir)
	ctx := context.Background()
	dom, st := ts.app.Domain, ts.app.Store
	// The newest 200, read as one page: what paging by 50 must show.
	newest, _, err := st.AccountsPage(ctx, model.DefaultOrgID, store.AccountFilter{Limit: 200})
	if err != nil || len(newest) != 200 {
		t.Fatalf("the newest 200 accounts: %d, %v", len(newest), err)
	}
	pages := (n + 49) / 50
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
		waitFor(t, b, what, fmt.Sprintf(`document.querySelector("#pager") && document.querySelector("#pager").textContent.includes("Page %d of %d")`, page, pages))
	}
	var forward []shown
	forward = append(forward, look("page 1"))
	for p := 2; p <= 4; p++ {
		click(fmt.Sprint("next to page ", p), "next", p)
		forward = append(forward, look(fmt.Sprint("page ", p)))
	}
	for i, s := range forward {
		wantFirst, wantLast := newest[50*i].DisplayName, newest[50*i+49].DisplayName
		if s.first != wantFirst || s.last != wantLast || !strings.Contains(s.pager, fmt.Sprintf("Page %d of %d (%d accounts)", i+1, pages, n)) {
			t.Fatalf("page %d going forward: want %s to %s and the pager to say page %d of %d; got %+v", i+1, wantFirst, wantLast, i+1, pages, s)
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
