package console_test

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
)

// TestAccountPagesByCursor follows the accounts page's Next links to the
// last page and its Previous links back to the first, on both engines:
// every account is shown once, newest first, the pager numbers the pages
// of the total, and the links carry cursors, not offsets.
func TestAccountPagesByCursor(t *testing.T) {
	apptest.ForEachDatabase(t, func(t *testing.T, database string) {
		ts := startConsole(t, database)
		dom := ts.app.Domain
		ctx := context.Background()
		if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester); err != nil {
			t.Fatal(err)
		}
		const n = 120
		for i := range n {
			if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp(fmt.Sprintf("Pager %03d", i)),
				Email: strp(fmt.Sprintf("pager%d@example.com", i))}, tester); err != nil {
				t.Fatal(err)
			}
		}
		addOperator(t, dom, "ada", model.RoleCSR)
		c := newClient(ts.url)
		c.login(t, "ada", "password of ada")
		names := regexp.MustCompile(`>Pager (\d{3})<`)
		link := func(page, rel string) string {
			m := regexp.MustCompile(`<a href="([^"]+)" rel="` + rel + `">`).FindStringSubmatch(page)
			if m == nil {
				return ""
			}
			return html.UnescapeString(m[1])
		}
		var seen []string
		var pages []string
		path := "/console/accounts"
		for path != "" {
			_, p := c.get(t, path)
			pages = append(pages, p)
			for _, m := range names.FindAllStringSubmatch(p, -1) {
				seen = append(seen, m[1])
			}
			if want := fmt.Sprintf("Page %d of 3", len(pages)); !strings.Contains(p, want) || !strings.Contains(p, "120 accounts") {
				t.Fatalf("page %d: want %q and the total in the pager", len(pages), want)
			}
			path = link(p, "next")
			if path != "" && (!strings.Contains(path, "cursor=b") || strings.Contains(path, "offset")) {
				t.Fatalf("the next link %q carries no cursor", path)
			}
		}
		if len(pages) != 3 || len(seen) != n || seen[0] != "119" || seen[n-1] != "000" {
			t.Fatalf("forward: want %d accounts in 3 pages, 119 first and 000 last; got %d in %d", n, len(seen), len(pages))
		}
		for i := 1; i < n; i++ {
			if seen[i] >= seen[i-1] {
				t.Fatalf("forward: %s after %s, want newest first and each once", seen[i], seen[i-1])
			}
		}
		// Back from the last page.
		_, p2 := c.get(t, link(pages[2], "prev"))
		if got := names.FindAllStringSubmatch(p2, -1); len(got) != 50 || got[0][1] != "069" || !strings.Contains(p2, "Page 2 of 3") {
			t.Fatalf("back to page 2: want 50 accounts from 069, got %d", len(got))
		}
		_, p1 := c.get(t, link(p2, "prev"))
		if got := names.FindAllStringSubmatch(p1, -1); len(got) != 50 || got[0][1] != "119" || link(p1, "prev") != "" || !strings.Contains(p1, "Page 1 of 3") {
			t.Fatalf("back to page 1: want 50 accounts from 119 and no previous link, got %d", len(got))
		}
		// A search pages too, without a total.
		_, s1 := c.get(t, "/console/accounts?q=pager1")
		if got := names.FindAllStringSubmatch(s1, -1); len(got) != 31 || strings.Contains(s1, "accounts)") {
			t.Fatalf("search pager1: want 31 accounts (pager1@, pager10-19@ and pager100-119@) and no total, got %d", len(got))
		}
	})
}
