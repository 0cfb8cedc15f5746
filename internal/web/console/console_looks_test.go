package console_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
)

// liveGet polls path as the console's script does, with the ETag it last got.
func (c *operatorClient) liveGet(t *testing.T, path, etag string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Live", "1")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), string(b)
}

// TestLiveUpdatesAskOnlyForChanges polls an account's page the way the
// console's script does: the first poll gets the page and its ETag; a poll
// with that ETag while nothing changed gets 304 and no body; after the
// account changes, the page again, with another ETag. A page opened as
// usual carries no ETag and stays no-store.
func TestLiveUpdatesAskOnlyForChanges(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester); err != nil {
		t.Fatal(err)
	}
	acc, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Ada"), Email: strp("ada@example.com")}, tester)
	if err != nil {
		t.Fatal(err)
	}
	addOperator(t, dom, "ada", model.RoleAdmin)
	c := newClient(ts.url)
	c.login(t, "ada", "password of ada")
	path := "/console/accounts/" + acc.Username

	code, etag, body := c.liveGet(t, path, "")
	if code != http.StatusOK || etag == "" || !strings.Contains(body, `id="account-status"`) {
		t.Fatalf("first poll: %d, ETag %q, %d bytes", code, etag, len(body))
	}
	code, again, body := c.liveGet(t, path, etag)
	if code != http.StatusNotModified || body != "" || again != etag {
		t.Fatalf("poll of an unchanged page: %d, ETag %q (had %q), %d bytes; want 304 with no body", code, again, etag, len(body))
	}
	if _, err := dom.Accounts.SetDisabled(ctx, acc.Username, true, tester); err != nil {
		t.Fatal(err)
	}
	code, changed, body := c.liveGet(t, path, etag)
	if code != http.StatusOK || changed == etag || !strings.Contains(body, ">disabled<") {
		t.Fatalf("poll after the account was disabled: %d, ETag %q (had %q)", code, changed, etag)
	}
	if code, _, _ := c.liveGet(t, path, changed); code != http.StatusNotModified {
		t.Errorf("poll with the new ETag: %d, want 304", code)
	}

	resp, err := c.http.Get(ts.url + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("ETag") != "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("an ordinary page view: ETag %q, Cache-Control %q; want none and no-store", resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
	}
}

// TestConsoleFavicon: every console page names its icon, and the icon is
// served from the embedded static files as an SVG image.
func TestConsoleFavicon(t *testing.T) {
	ts := startConsole(t, "")
	c := newClient(ts.url)
	_, page := c.get(t, "/console/login")
	if !strings.Contains(page, `<link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml">`) {
		t.Fatal("the login page names no icon")
	}
	resp, err := c.http.Get(ts.url + "/console/static/favicon.svg")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(string(b), "<svg ") {
		t.Errorf("the icon: %d %q %.40q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

// TestDashboardFailingTileOpensTheFailingMessages: the dashboard's
// "messages failing" tile leads to the messages page filtered to the
// failed ones, and that page lists them.
func TestDashboardFailingTileOpensTheFailingMessages(t *testing.T) {
	ts := startConsole(t, "")
	addOperator(t, ts.app.Domain, "ada", model.RoleCSR)
	c := newClient(ts.url)
	c.login(t, "ada", "password of ada")
	_, page := c.get(t, "/console/")
	if !strings.Contains(page, `id="tile-failing" href="/console/messages?state=failed"`) {
		t.Fatalf("the failing tile does not open the failing messages:\n%s", page)
	}
	code, page := c.get(t, "/console/messages?state=failed")
	if code != http.StatusOK || !strings.Contains(page, `href="?state=failed" aria-current="page"`) {
		t.Errorf("the messages page filtered to failed ones: %d, the filter is not marked as the current one", code)
	}
}
