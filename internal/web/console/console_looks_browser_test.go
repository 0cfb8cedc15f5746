package console_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/axetest"
)

// rowAlignment is how the cells of the accounts table's rows line up: the
// largest distance, over the rows, between the vertical middles of a
// row's checkbox, status badge and first lines of text.
type rowAlignment struct {
	Rows    int     `json:"rows"`
	Spread  float64 `json:"spread"`
	Where   string  `json:"where"`
	Boxes   int     `json:"boxes"`
	Badges  int     `json:"badges"`
	TextRow float64 `json:"textRow"` // the largest distance between the first lines of a row's text cells
}

const rowAlignmentJS = `(() => {
  const mid = r => (r.top + r.bottom) / 2;
  const firstLine = td => { const g = document.createRange(); g.selectNodeContents(td); const rs = [...g.getClientRects()].filter(r => r.height > 0); return rs.length ? rs[0] : null; };
  let spread = 0, where = "", boxes = 0, badges = 0, textRow = 0;
  const rows = [...document.querySelectorAll("#accounts tbody tr")];
  for (const tr of rows) {
    const mids = [], texts = [];
    for (const td of tr.cells) {
      const box = td.querySelector("input[type=checkbox]"), badge = td.querySelector(".badge");
      if (box) { boxes++; mids.push(["checkbox", mid(box.getBoundingClientRect())]); continue; }
      if (badge) { badges++; mids.push(["status", mid(badge.getBoundingClientRect())]); continue; }
      const r = firstLine(td);
      if (r) { mids.push([td.textContent.trim(), mid(r)]); texts.push(mid(r)); }
    }
    const ms = mids.map(m => m[1]), s = Math.max(...ms) - Math.min(...ms);
    if (s > spread) { spread = s; where = JSON.stringify(mids); }
    if (texts.length) textRow = Math.max(textRow, Math.max(...texts) - Math.min(...texts));
  }
  return {rows: rows.length, spread, where, boxes, badges, textRow};
})()`

// TestConsoleLooksInBrowser opens the console as an admin in Chromium and
// checks what an operator relies on: the top menu on one line at 1280px
// and whole, reachable and not scrolling sideways on a 360px phone; the
// rows of the accounts table aligned, their checkbox and status on the
// line of their text; the legend of the statuses; the bulk action right
// above the list and still on the screen down the list, counting the
// selection as it is made; the total on the
// pager; the dashboard's "messages failing" tile opening the failing
// messages; the favicon; live updates that bring nothing while nothing
// changes; and, with axe-core installed, no accessibility
// rule broken on those pages at either width.
func TestConsoleLooksInBrowser(t *testing.T) {
	const accounts = 40
	needChromium(t)
	withAxe := axetest.Available(t)
	ts := startConsole(t, "")
	ctx := context.Background()
	dom := ts.app.Domain
	if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester); err != nil {
		t.Fatal(err)
	}
	// A list longer than the screen; the newest, listed first, with a long name.
	names := []string{}
	for i := range accounts - 3 {
		names = append(names, fmt.Sprintf("Person %d", i))
	}
	for i, name := range append(names, "Ada Lovelace", "Charles Babbage", "Maria Gaetana Agnesi di Montevecchio della Valle Superiore") {
		if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp(name), Email: strp(fmt.Sprintf("user%d@example.com", i))}, tester); err != nil {
			t.Fatal(err)
		}
	}
	addOperator(t, dom, "ada", model.RoleAdmin)
	b := browser(t)
	run(t, b, "log in", viewport(false), chromedp.Navigate(ts.url+"/console/login"), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "ada"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "password of ada"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#dash-counts")))

	for _, path := range []string{"/console/", "/console/accounts", "/console/messages"} {
		run(t, b, path, chromedp.Navigate(ts.url+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		checkMenu(t, b, 1280)
		checkMenu(t, b, 360)
	}

	// The favicon the pages name is there, an SVG image.
	icon := get(t, b, "the favicon", chromedp.Evaluate[string](`fetch(document.querySelector("link[rel=icon]").href).then(r => r.status + " " + r.headers.get("Content-Type"))`, chromedp.EvalAwaitPromise))
	if icon != "200 image/svg+xml" {
		t.Errorf("the favicon answers %q, want 200 image/svg+xml", icon)
	}

	// The dashboard's failing tile opens the failing messages.
	run(t, b, "dashboard", chromedp.Navigate(ts.url+"/console/"), chromedp.WaitVisible(chromedp.CSS("#tile-failing")),
		chromedp.Click(chromedp.CSS("#tile-failing")))
	waitFor(t, b, "the failing messages", `location.pathname === "/console/messages" && location.search === "?state=failed" && document.querySelector('a[href="?state=failed"][aria-current=page]') !== null`)
	if n := get(t, b, "the legend of the message states", chromedp.Evaluate[int](`document.querySelectorAll("#message-legend dt .badge").length`)); n != 5 {
		t.Errorf("the messages page's legend explains %d states, want 5", n)
	}

	run(t, b, "accounts", chromedp.Navigate(ts.url+"/console/accounts"), chromedp.WaitVisible(chromedp.CSS("#accounts")))
	for _, width := range []int64{1280, 360} {
		vp := viewport(false)
		if width == 360 {
			vp = chromedp.EmulateViewport(360, 800, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		run(t, b, "viewport", vp)
		a := get(t, b, "the rows' alignment", chromedp.Evaluate[rowAlignment](rowAlignmentJS))
		if a.Rows != accounts || a.Boxes != accounts || a.Badges != accounts {
			t.Fatalf("at %dpx the accounts table has %d rows, %d checkboxes, %d status badges; want %d of each", width, a.Rows, a.Boxes, a.Badges, accounts)
		}
		if a.Spread > 1.5 || a.TextRow > 1 {
			t.Errorf("at %dpx a row's cells are %.1fpx apart (text %.1fpx): %s", width, a.Spread, a.TextRow, a.Where)
		}
		if withAxe {
			axetest.Check(t, b, fmt.Sprintf("accounts at %dpx", width))
		}
	}
	run(t, b, "back to desktop", viewport(false))

	// Every status of the filter is in the legend, which opens.
	legend := get(t, b, "the statuses' legend", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#stage-legend dt .badge")].map(b => b.textContent)`))
	statuses := get(t, b, "the statuses of the filter", chromedp.Evaluate[[]string](`[...document.querySelectorAll("select[name=status] option")].map(o => o.value).filter(v => v)`))
	slices.Sort(legend)
	slices.Sort(statuses)
	if !slices.Equal(legend, statuses) {
		t.Errorf("the legend explains %q, the filter offers %q", legend, statuses)
	}
	run(t, b, "open the legend", chromedp.Click(chromedp.CSS("#stage-legend summary")))
	if shown := get(t, b, "the open legend", chromedp.Evaluate[bool](`document.querySelector("#stage-legend dd").getBoundingClientRect().height > 0`)); !shown {
		t.Error("the statuses' legend does not open")
	}

	// The bulk action sits right above the list and counts the selection.
	run(t, b, "select two", chromedp.Click(chromedp.CSS(`#accounts tbody tr:nth-child(1) input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`#accounts tbody tr:nth-child(2) input[type=checkbox]`)))
	bulk := get(t, b, "the bulk bar", chromedp.Evaluate[[]any](`(() => { const r = e => e.getBoundingClientRect();
  const bar = r(document.querySelector("#bulk")), table = r(document.querySelector("#accounts")), count = document.querySelector("#selected-count"), sel = r(document.querySelector("select[name=action]"));
  return [count.textContent, table.top - bar.bottom, Math.abs((r(count).top + r(count).bottom) / 2 - (sel.top + sel.bottom) / 2) < 4, document.querySelector("#bulk").closest("form") === document.querySelector("#accounts").closest("form")]; })()`))
	if bulk[0] != "2 selected" || bulk[1].(float64) < 0 || bulk[1].(float64) > 24 || bulk[2] != true || bulk[3] != true {
		t.Errorf("the bulk action: count %q, %vpx above the table, on the count's line: %v, in the list's form: %v; want \"2 selected\" on its line, right above the table", bulk[0], bulk[1], bulk[2], bulk[3])
	}

	// Further down the list the bulk action stays on the screen, by the
	// rows being selected.
	run(t, b, "select the last", chromedp.ScrollIntoView(chromedp.CSS(`#accounts tbody tr:last-child input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`#accounts tbody tr:last-child input[type=checkbox]`)))
	far := get(t, b, "the bulk bar down the list", chromedp.Evaluate[[]any](`(() => { const sel = document.querySelector("select[name=action]"), r = sel.getBoundingClientRect();
  return [document.querySelector("#selected-count").textContent, scrollY, document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === sel]; })()`))
	if far[0] != "3 selected" || far[1].(float64) < 100 || far[2] != true {
		t.Errorf("down the list (scrolled %vpx) the bulk action is on the screen: %v, the count reads %q; want it there, counting 3", far[1], far[2], far[0])
	}

	// While nothing changes, the live updates' polls after the first get
	// 304 and no body: not the whole page every time.
	run(t, b, "accounts again", chromedp.Navigate(ts.url+"/console/accounts"), chromedp.WaitVisible(chromedp.CSS("#accounts")))
	waitFor(t, b, "three polls", `performance.getEntriesByType("resource").filter(e => e.initiatorType === "fetch").length >= 3`)
	polls := get(t, b, "the polls", chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").filter(e => e.initiatorType === "fetch").map(e => e.responseStatus + " " + e.encodedBodySize)`))
	for i, p := range polls[1:] {
		if p != "304 0" {
			t.Errorf("poll %d of an unchanged page: status and body size %q, want 304 0 (all: %q)", i+2, p, polls)
		}
	}

	// The pager gives the total.
	if p := strings.Join(strings.Fields(textOf(t, b, "#pager")), " "); !strings.Contains(p, fmt.Sprintf("Page 1 of 1 (%d accounts)", accounts)) {
		t.Errorf("the pager reads %q, want the total of %d accounts", p, accounts)
	}
}
