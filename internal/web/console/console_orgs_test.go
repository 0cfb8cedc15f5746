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
