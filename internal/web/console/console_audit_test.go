package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
)

// TestConsoleAuditOfLoginsAndGateways reads the entries the console writes
// through the one audit path: a failed and a good login, a password set
// from its link, and a gateway test, which has the gateway before and
// after with its secret masked.
func TestConsoleAuditOfLoginsAndGateways(t *testing.T) {
	apptest.ForEachDatabase(t, func(t *testing.T, database string) {
		consoleAuditOfLoginsAndGateways(t, startConsole(t, database))
	})
}

func consoleAuditOfLoginsAndGateways(t *testing.T, ts *consoleServer) {
	dom := ts.app.Domain
	ctx := context.Background()
	last := func() model.AuditEntry {
		t.Helper()
		es, err := dom.Audit.Log(ctx, activation.AuditFilter{Limit: 1}, tester)
		if err != nil || len(es) == 0 {
			t.Fatalf("reading the audit log: %v (%d entries)", err, len(es))
		}
		return es[0]
	}

	created, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("ada"), Role: new(model.RoleAdmin)}, tester)
	if err != nil {
		t.Fatal(err)
	}
	link, err := url.Parse(created.SetPasswordURL)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(ts.url)
	_, page := c.get(t, link.Path)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no csrf on the set-password page")
	}
	pw := "password of ada"
	if code, body := c.post(t, link.Path, url.Values{"csrf": {m[1]}, "password": {pw}, "password2": {pw}}); code != http.StatusSeeOther {
		t.Fatalf("setting the password: %d %.300s", code, body)
	}
	token := link.Path[strings.LastIndex(link.Path, "/")+1:]
	if e := last(); e.Action != "POST /console/set-password/{token}" || e.Target != "operator:ada" || e.Actor != "ada" || e.Status != http.StatusSeeOther ||
		strings.Contains(e.Target+e.Before+e.After, token) {
		t.Errorf("the password set: %+v", e)
	}

	other := newClient(ts.url)
	_, page = other.get(t, "/console/login")
	m = csrfRe.FindStringSubmatch(page)
	if code, _ := other.post(t, "/console/login", url.Values{"csrf": {m[1]}, "name": {"ada"}, "password": {"wrong"}}); code != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", code)
	}
	if e := last(); e.Action != "POST /console/login" || e.Target != "session:ada" || e.Status != http.StatusUnauthorized || e.Via != "console" {
		t.Errorf("the failed login: %+v", e)
	}
	// A failed login keeps a bounded, escaped prefix of the name typed.
	typed := "ada\x1b[2J" + strings.Repeat("x", 5000)
	if code, _ := other.post(t, "/console/login", url.Values{"csrf": {m[1]}, "name": {typed}, "password": {"guess"}}); code != http.StatusUnauthorized {
		t.Fatalf("a long name: %d", code)
	}
	if e, want := last(), `ada\x1b[2J`+strings.Repeat("x", 51)+"..."; e.Actor != want || e.Target != "session:"+want {
		t.Errorf("the failed login with a long name: actor %q, target %q; want %q", e.Actor, e.Target, want)
	}
	other.login(t, "ada", pw)
	es, _ := dom.Audit.Log(ctx, activation.AuditFilter{Action: "POST /console/login", Limit: 1}, tester)
	if len(es) != 1 || es[0].Status != http.StatusSeeOther || es[0].Target != "session:ada" {
		t.Errorf("the login: %+v", es)
	}

	if _, err := dom.Gateways.Create(ctx, model.GatewayInput{Name: strp("sms-main"), KindName: strp("twilio"), Settings: map[string]string{
		"account_sid": "AC1", "auth_token": "tok-secret-1", "from": "+15005550006", "base_url": "http://127.0.0.1:1"}}, tester); err != nil {
		t.Fatal(err)
	}
	other.post(t, "/console/gateways/sms-main/test", url.Values{"csrf": {other.csrf}, "to": {"+393331234567"}})
	e := last()
	if e.Action != "POST /console/gateways/{name}/test" || e.Target != "gateway:sms-main" || !strings.Contains(e.Before, `"account_sid":"AC1"`) ||
		strings.Contains(e.Before+e.After, "tok-secret-1") || strings.Contains(e.Before+e.After, "avr_") {
		t.Errorf("the gateway test: %+v", e)
	}
}
