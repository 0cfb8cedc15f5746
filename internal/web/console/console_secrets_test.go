package console_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/console"
)

// admin is the operator the tests act as where the role matters.
var admin = activation.Caller{Name: "test", Role: "admin", OrgID: model.DefaultOrgID}

var wholeLinkRe = regexp.MustCompile(`avl_[a-z2-7]{32}`)

// loggedIn adds an operator of each role and logs each in.
func loggedIn(t *testing.T, ts *consoleServer, roles ...model.Role) map[model.Role]*operatorClient {
	t.Helper()
	out := map[model.Role]*operatorClient{}
	for _, role := range roles {
		name := string(role) + "-op"
		addOperator(t, ts.app.Domain, name, role)
		c := newClient(ts.url)
		c.login(t, name, "password of "+name)
		out[role] = c
	}
	return out
}

// TestConsoleShowsALiveLinkToAdminsOnly: the console's outbox message page
// shows the link whole to an admin only, while it can be used; no other
// page that shows messages shows it whole to anyone.
func TestConsoleShowsALiveLinkToAdminsOnly(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester)
	acc, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Ada"), Email: strp("ada@example.com")}, tester)
	if err != nil {
		t.Fatal(err)
	}
	res, err := dom.Links.Send(ctx, acc.Username, model.SendRequest{Channel: model.ChannelEmail}, admin)
	if err != nil {
		t.Fatal(err)
	}
	live := wholeLinkRe.FindString(res.Message.Body)
	var items []model.OutboxItem
	for deadline := time.Now().Add(10 * time.Second); len(items) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		items, _ = dom.Messages.Outbox(ctx, 10, admin)
	}
	if live == "" || len(items) != 1 {
		t.Fatalf("link %q, outbox %+v", live, items)
	}
	item := "/console/outbox/" + strconv.FormatInt(items[0].ID, 10)
	ops := loggedIn(t, ts, "admin", "csr", "auditor")
	for role, c := range ops {
		for _, path := range []string{item, "/console/outbox", "/console/messages", "/console/accounts/" + acc.Username, "/console/accounts", "/console/"} {
			code, page := c.get(t, path)
			if code != 200 {
				t.Fatalf("%s as %s: %d", path, role, code)
			}
			shown := strings.Contains(html.UnescapeString(page), live)
			if want := role == "admin" && path == item; shown != want {
				t.Errorf("%s as %s: the live link shown whole: %v, want %v", path, role, shown, want)
			}
		}
		if _, page := c.get(t, item); !strings.Contains(html.UnescapeString(page), live[:10]) {
			t.Errorf("the outbox message as %s does not show the link's recognisable prefix", role)
		}
	}
	if _, err := dom.Links.Revoke(ctx, acc.Username, admin); err != nil {
		t.Fatal(err)
	}
	if _, page := ops["admin"].get(t, item); strings.Contains(html.UnescapeString(page), live) {
		t.Error("a revoked link is shown whole to the admin")
	}
}

// TestConsoleShowsReceiptKeysToAdminsOnly: the gateways page shows a
// receipt URL whole to an admin, its key masked to a CSR and an auditor.
func TestConsoleShowsReceiptKeysToAdminsOnly(t *testing.T) {
	ts := startConsole(t, "")
	gw, err := ts.app.Domain.Gateways.Create(context.Background(), model.GatewayInput{Name: strp("sms-main"), KindName: strp("twilio"), Settings: map[string]string{
		"account_sid": "AC1", "auth_token": "tok-secret-1", "from": "+15005550006"}}, admin)
	if err != nil {
		t.Fatal(err)
	}
	key := gw.ReceiptURL[strings.LastIndex(gw.ReceiptURL, "/")+1:]
	if !strings.HasPrefix(key, "avr_") {
		t.Fatalf("receipt URL %q", gw.ReceiptURL)
	}
	for role, c := range loggedIn(t, ts, "admin", "csr", "auditor") {
		code, page := c.get(t, "/console/gateways")
		if code != 200 {
			t.Fatalf("gateways page as %s: %d", role, code)
		}
		page = html.UnescapeString(page)
		if shown := strings.Contains(page, key); shown != (role == "admin") {
			t.Errorf("gateways page as %s: receipt key shown %v", role, shown)
		}
		if !strings.Contains(page, "/api/v1/receipts/sms-main/"+key[:10]) {
			t.Errorf("gateways page as %s: no receipt URL", role)
		}
	}
}

// TestFlashIsByCodeOnly: a link to any console page with a text of its
// author's choosing in ?flash= (a phishing message on a real console page)
// shows nothing; the console's own redirects carry a code, and the page
// prints the code's text.
func TestFlashIsByCodeOnly(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester)
	acc, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Ada")}, tester)
	if err != nil {
		t.Fatal(err)
	}
	c := loggedIn(t, ts, "admin")["admin"]
	cons, err := console.New(dom, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	const phish = "Your session expired: call +1 800 555 0199 with your password"
	concrete := strings.NewReplacer("{username}", acc.Username, "{name}", "default", "{id}", "1", "{token}", "avp_x", "{$}", "")
	checked := 0
	for _, rt := range cons.Routes() {
		if rt.Method != "GET" || strings.HasSuffix(rt.Path, "/logout") {
			continue
		}
		path := concrete.Replace(rt.Path) + "?flash=" + url.QueryEscape(phish)
		code, page := c.get(t, path)
		if strings.Contains(html.UnescapeString(page), phish) {
			t.Errorf("GET %s (%d) prints the text of the URL's flash", rt.Path, code)
		}
		checked++
	}
	if checked < 15 {
		t.Fatalf("only %d pages checked", checked)
	}
	code, body := c.post(t, "/console/accounts/"+acc.Username+"/disable", url.Values{"csrf": {c.csrf}})
	if code != http.StatusSeeOther {
		t.Fatalf("disable: %d %.200s", code, body)
	}
	resp, err := c.http.Post(ts.url+"/console/accounts/"+acc.Username+"/enable", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"csrf": {c.csrf}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || to.Query().Get("flash") != "account_enabled" {
		t.Fatalf("the redirect after enabling carries %q, want the code account_enabled", resp.Header.Get("Location"))
	}
	if _, page := c.get(t, to.RequestURI()); !strings.Contains(page, `<p class="flash" role="status">Account enabled.</p>`) {
		t.Error("the account page does not show the code's text")
	}
	// What names the operator's own input is shown by the answer itself.
	code, page := c.post(t, "/console/accounts/bulk", url.Values{"csrf": {c.csrf}, "action": {"disable"}, "username": {acc.Username, "nobody"}})
	if code != http.StatusOK || !strings.Contains(page, "done for 1 account(s). 1 failed: nobody") {
		t.Errorf("a bulk action that partly failed: %d %.300s", code, page)
	}
}
