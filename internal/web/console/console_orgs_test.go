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

// TestOrganisationOperatorsLogInAtTheirHost: on one listener, the login
// form at an organisation's host (its public base URL's) logs into that
// organisation, and at the provider's host into the provider's; an
// operator of one cannot log in at the other's, and a suspended
// organisation's operators are refused, in words.
func TestOrganisationOperatorsLogInAtTheirHost(t *testing.T) {
	apptest.ForEachDatabase(t, func(t *testing.T, database string) {
		ts := startConsole(t, database)
		dom := ts.app.Domain
		ctx := context.Background()
		u, _ := url.Parse(ts.url)
		acmeURL := "http://localhost:" + u.Port() // the same listener, at another host
		provider := activation.Caller{Name: "provider", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
		o, err := dom.Organisations.Create(ctx, model.OrganisationInput{Name: strp("ACME Corp"), Slug: strp("acme"), BaseURL: &acmeURL}, provider)
		if err != nil {
			t.Fatal(err)
		}
		inAcme := provider
		inAcme.OrgID = o.ID
		if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("acme-sales")}, inAcme); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("home-sales")}, tester); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			by   activation.Caller
			name string
		}{{inAcme, "ada"}, {tester, "root"}} {
			role := model.RoleAdmin
			created, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp(c.name), Role: &role}, c.by)
			if err != nil {
				t.Fatal(err)
			}
			if c.name == "ada" && !strings.HasPrefix(created.SetPasswordURL, acmeURL+"/console/set-password/") {
				t.Errorf("acme's set-password link is not at acme's host: %s", created.SetPasswordURL)
			}
			tok := created.SetPasswordURL[strings.LastIndex(created.SetPasswordURL, "/")+1:]
			if _, err := dom.Access.SetPassword(ctx, tok, "password of "+c.name); err != nil {
				t.Fatal(err)
			}
		}
		ada := newClient(acmeURL)
		ada.login(t, "ada", "password of ada")
		if code, page := ada.get(t, "/console/groups"); code != 200 || !strings.Contains(page, "acme-sales") || strings.Contains(page, "home-sales") {
			t.Errorf("acme's admin sees groups %d: acme-sales %v, home-sales %v", code, strings.Contains(page, "acme-sales"), strings.Contains(page, "home-sales"))
		}
		root := newClient(ts.url)
		root.login(t, "root", "password of root")
		if _, page := root.get(t, "/console/groups"); strings.Contains(page, "acme-sales") {
			t.Error("the provider's organisation's admin sees acme's group")
		}
		// Each name is unknown at the other's host.
		for _, c := range []struct{ base, name string }{{ts.url, "ada"}, {acmeURL, "root"}} {
			if code := tryLogin(t, c.base, c.name, "password of "+c.name); code != http.StatusUnauthorized {
				t.Errorf("%s logging in at %s: %d, want 401", c.name, c.base, code)
			}
		}
		if _, err := dom.Organisations.SetSuspended(ctx, "acme", true, provider); err != nil {
			t.Fatal(err)
		}
		if code, _ := ada.get(t, "/console/groups"); code != http.StatusSeeOther {
			t.Errorf("a suspended organisation's session: %d, want a redirect to log in", code)
		}
		c := newClient(acmeURL)
		_, page := c.get(t, "/console/login")
		m := csrfRe.FindStringSubmatch(page)
		code, body := c.post(t, "/console/login", url.Values{"csrf": {m[1]}, "name": {"ada"}, "password": {"password of ada"}})
		if code != http.StatusUnauthorized || !strings.Contains(body, "suspended") {
			t.Errorf("logging in to a suspended organisation: %d, says suspended: %v", code, strings.Contains(body, "suspended"))
		}
	})
}

// tryLogin posts the login form at base and returns the status.
func tryLogin(t *testing.T, base, name, password string) int {
	t.Helper()
	c := newClient(base)
	_, page := c.get(t, "/console/login")
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no login form at %s", base)
	}
	code, _ := c.post(t, "/console/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {password}})
	return code
}

// TestProviderConsole: the provider admin's Organisations page lists every
// organisation with its counts, creates one from its form (a bad slug named
// on the form), suspends and resumes it, and switches the console to act
// inside it: its groups, a group made there landing in it, audited in its
// log under the provider; an organisation's admin is refused the page.
func TestProviderConsole(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	provider := activation.Caller{Name: "provider", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
	role := model.RoleProvider
	created, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("boss"), Role: &role}, provider)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dom.Access.SetPassword(ctx, created.SetPasswordURL[strings.LastIndex(created.SetPasswordURL, "/")+1:], "password of boss"); err != nil {
		t.Fatal(err)
	}
	addOperator(t, dom, "root", model.RoleAdmin)
	boss := newClient(ts.url)
	boss.login(t, "boss", "password of boss")

	code, page := boss.post(t, "/console/orgs", url.Values{"csrf": {boss.csrf}, "name": {"ACME Corp"}, "slug": {"Not A Slug"}})
	if code != 400 || fieldErrorAt(page, "slug") == "" {
		t.Errorf("a bad slug: %d, field error %q", code, fieldErrorAt(page, "slug"))
	}
	code, _ = boss.post(t, "/console/orgs", url.Values{"csrf": {boss.csrf}, "name": {"ACME Corp"}, "slug": {"acme"}, "max_accounts": {"10"}})
	if code != http.StatusSeeOther {
		t.Fatalf("creating an organisation: %d", code)
	}
	acme, err := dom.Organisations.Get(ctx, "acme", provider)
	if err != nil || acme.MaxAccounts != 10 {
		t.Fatalf("acme: %+v %v", acme, err)
	}
	inAcme := provider
	inAcme.OrgID = acme.ID
	if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("acme-sales")}, inAcme); err != nil {
		t.Fatal(err)
	}
	if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("acme-sales"), Name: strp("Ada"), Email: strp("ada@acme.example")}, inAcme); err != nil {
		t.Fatal(err)
	}
	// The default organisation may call acme's accounts: the page says so.
	calls := []string{"acme"}
	if _, err := dom.Organisations.Update(ctx, "default", model.OrganisationInput{AllowCallsTo: &calls}, provider); err != nil {
		t.Fatal(err)
	}
	code, page = boss.get(t, "/console/orgs")
	if code != 200 || !strings.Contains(page, `id="org-acme"`) || !strings.Contains(page, "new 1") || !strings.Contains(page, "10 accounts") {
		t.Errorf("the organisations page: %d\n%s", code, page)
	}
	if !strings.Contains(page, `<td class="calls"><code>acme</code>`) || !strings.Contains(page, `its own accounts only`) {
		t.Errorf("the organisations page shows no calls to acme, or none for acme itself:\n%s", page)
	}
	if code, _ := boss.post(t, "/console/orgs/acme/suspend", url.Values{"csrf": {boss.csrf}}); code != http.StatusSeeOther {
		t.Errorf("suspend: %d", code)
	}
	if o, _ := dom.Organisations.Get(ctx, "acme", provider); !o.Suspended {
		t.Error("acme is not suspended")
	}
	boss.post(t, "/console/orgs/acme/resume", url.Values{"csrf": {boss.csrf}})

	// Acting inside acme.
	if code, _ := boss.post(t, "/console/orgs/act", url.Values{"csrf": {boss.csrf}, "org": {"acme"}}); code != http.StatusSeeOther {
		t.Fatalf("act inside acme: %d", code)
	}
	code, page = boss.get(t, "/console/groups")
	if code != 200 || !strings.Contains(page, "acme-sales") || !strings.Contains(page, `id="acting-in">ACME Corp<`) {
		t.Errorf("acting inside acme, its groups: %d, acme-sales %v", code, strings.Contains(page, "acme-sales"))
	}
	if code, _ := boss.post(t, "/console/groups", url.Values{"csrf": {boss.csrf}, "name": {"made-by-boss"}}); code != http.StatusSeeOther {
		t.Fatalf("a group inside acme: %d", code)
	}
	if _, err := dom.Groups.Get(ctx, "made-by-boss", inAcme); err != nil {
		t.Errorf("the group made acting inside acme is not acme's: %v", err)
	}
	if _, err := dom.Groups.Get(ctx, "made-by-boss", tester); err == nil {
		t.Error("the group made acting inside acme is the provider's")
	}
	entries, err := dom.Audit.Log(ctx, activation.AuditFilter{Action: "POST /console/groups"}, inAcme)
	if err != nil || len(entries) != 1 || entries[0].Actor != "boss" || entries[0].Role != model.RoleProvider {
		t.Errorf("acme's audit log of the group: %+v %v", entries, err)
	}
	boss.post(t, "/console/orgs/act", url.Values{"csrf": {boss.csrf}, "org": {""}})
	if _, page := boss.get(t, "/console/groups"); strings.Contains(page, "acme-sales") || strings.Contains(page, `id="acting-in"`) {
		t.Error("back in the provider's organisation, acme's groups still show")
	}

	root := newClient(ts.url)
	root.login(t, "root", "password of root")
	if code, _ := root.get(t, "/console/orgs"); code != http.StatusForbidden {
		t.Errorf("an organisation's admin on the organisations page: %d", code)
	}
	// The switcher's cookie is heeded for provider admins only.
	u, _ := url.Parse(ts.url)
	root.http.Jar.SetCookies(u, []*http.Cookie{{Name: "activator_org", Value: "acme", Path: "/console/"}})
	if _, page := root.get(t, "/console/groups"); strings.Contains(page, "acme-sales") {
		t.Error("an admin's forged switcher cookie shows acme's groups")
	}
}
