package console_test

import (
	"context"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

// admin is the operator the tests act as where the role matters.
var admin = activation.Caller{Name: "test", Role: "admin", OrgID: model.DefaultOrgID}

var wholeLinkRe = regexp.MustCompile(`avl_[a-z2-7]{32}`)

// loggedIn adds an operator of each role and logs each in.
func loggedIn(t *testing.T, ts *consoleServer, roles ...string) map[string]*operatorClient {
	t.Helper()
	out := map[string]*operatorClient{}
	for _, role := range roles {
		addOperator(t, ts.app.Domain, role+"-op", role)
		c := newClient(ts.url)
		c.login(t, role+"-op", "password of "+role+"-op")
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
	gw, err := ts.app.Domain.Gateways.Create(context.Background(), model.GatewayInput{Name: strp("sms-main"), Kind: strp("twilio"), Settings: map[string]string{
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
