package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
	"github.com/activator-voip/activator/internal/web/console"
)

// operatorClient is a logged-in console user: a cookie jar and the
// session's CSRF token.
type operatorClient struct {
	name string
	http *http.Client
	csrf string
	base string
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *operatorClient) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *operatorClient) post(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func newClient(base string) *operatorClient {
	jar, _ := cookiejar.New(nil)
	return &operatorClient{base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// login logs in through the login form, CSRF token and all.
func (c *operatorClient) login(t *testing.T, name, password string) {
	t.Helper()
	code, page := c.get(t, "/console/login")
	m := csrfRe.FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("login page: %d, csrf found: %v", code, m != nil)
	}
	code, body := c.post(t, "/console/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {password}})
	if code != http.StatusSeeOther {
		t.Fatalf("logging in as %s: %d %.300s", name, code, body)
	}
	code, page = c.get(t, "/console/")
	m = csrfRe.FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("dashboard after login: %d", code)
	}
	c.name, c.csrf = name, m[1]
}

// addOperator makes an operator with a password.
func addOperator(t *testing.T, dom activation.Domain, name string, role model.Role) {
	t.Helper()
	ctx := context.Background()
	created, err := dom.Operators.Create(ctx, model.OperatorInput{Name: &name, Role: &role}, tester)
	if err != nil {
		t.Fatal(err)
	}
	tok := created.SetPasswordURL[strings.LastIndex(created.SetPasswordURL, "/")+1:]
	if _, err := dom.Access.SetPassword(ctx, tok, "password of "+name); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleRolesFromTheRouteTable tries every console route as an admin,
// a csr and an auditor: a route answers 403 exactly when the role lacks the
// route's permission, and every form post, allowed or refused, is in the
// audit log with who sent it and how it ended.
func TestConsoleRolesFromTheRouteTable(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester); err != nil {
		t.Fatal(err)
	}
	acc, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Ada"), Mobile: strp("+393331234567")}, tester)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := console.New(ts.app.Domain, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	routes := cons.Routes()
	// Logout last: it ends the session the other routes need.
	sort.SliceStable(routes, func(i, j int) bool {
		return !strings.HasSuffix(routes[i].Path, "/logout") && strings.HasSuffix(routes[j].Path, "/logout")
	})
	concrete := strings.NewReplacer("{username}", acc.Username, "{name}", "nobody", "{id}", "999", "{token}", "avp_x", "{$}", "")

	checked := 0
	for _, role := range []model.Role{model.RoleAuditor, model.RoleCSR, model.RoleAdmin} { // admin last: its posts change things
		name := string(role) + "-op"
		addOperator(t, dom, name, role)
		c := newClient(ts.url)
		c.login(t, name, "password of "+name)
		for _, rt := range routes {
			if rt.Public {
				continue
			}
			path := concrete.Replace(rt.Path)
			var code int
			var body string
			if rt.Method == "GET" {
				code, body = c.get(t, path)
			} else {
				code, body = c.post(t, path, url.Values{"csrf": {c.csrf}})
			}
			allowed := activation.RoleAllows(role, rt.Perm)
			if (code == http.StatusForbidden) == allowed {
				t.Errorf("%s %s as %s (needs %s): %d %.200s", rt.Method, rt.Path, role, rt.Perm, code, body)
			}
			if code == http.StatusUnauthorized || code >= 500 {
				t.Errorf("%s %s as %s: %d %.300s", rt.Method, rt.Path, role, code, body)
			}
			checked++
			if rt.Method == "GET" {
				continue
			}
			es, err := dom.Audit.Log(ctx, activation.AuditFilter{Limit: 1}, tester)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 0 || es[0].Action != rt.Method+" "+rt.Path || es[0].Actor != c.name || es[0].Status != code || es[0].Via != "console" {
				t.Errorf("%s %s as %s (%d): the last audit entry is %+v", rt.Method, rt.Path, role, code, es)
			}
		}
	}
	if checked < 3*40 {
		t.Fatalf("only %d checks ran", checked)
	}
}

// TestConsoleRefusesFormsWithoutCSRF posts a change with no token and with a
// wrong one: both are refused and nothing changes.
func TestConsoleRefusesFormsWithoutCSRF(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester)
	acc, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Ada")}, tester)
	if err != nil {
		t.Fatal(err)
	}
	addOperator(t, dom, "ada", model.RoleAdmin)
	c := newClient(ts.url)
	c.login(t, "ada", "password of ada")
	for _, form := range []url.Values{{}, {"csrf": {"wrong"}}, {"csrf": {strings.ToUpper(c.csrf)}}} {
		if code, _ := c.post(t, "/console/accounts/"+acc.Username+"/disable", form); code != http.StatusForbidden {
			t.Errorf("a post with csrf %q answered %d, want 403", form.Get("csrf"), code)
		}
	}
	a, _ := dom.Accounts.Get(ctx, acc.Username, tester)
	if a.Account.Disabled {
		t.Fatal("a post without a valid CSRF token disabled the account")
	}
	if code, _ := c.post(t, "/console/accounts/"+acc.Username+"/disable", url.Values{"csrf": {c.csrf}}); code != http.StatusSeeOther {
		t.Fatalf("with the token: %d", code)
	}
	if a, _ := dom.Accounts.Get(ctx, acc.Username, tester); !a.Account.Disabled {
		t.Fatal("the valid post did not disable the account")
	}
	// Another browser's session token is no good here either.
	other := newClient(ts.url)
	addOperator(t, dom, "bob", model.RoleAdmin)
	other.login(t, "bob", "password of bob")
	if code, _ := c.post(t, "/console/accounts/"+acc.Username+"/enable", url.Values{"csrf": {other.csrf}}); code != http.StatusForbidden {
		t.Errorf("bob's token in ada's session: %d, want 403", code)
	}
	// Logged out: the session cookie is dead.
	if code, _ := c.post(t, "/console/logout", url.Values{"csrf": {c.csrf}}); code != http.StatusSeeOther {
		t.Fatalf("logout: %d", code)
	}
	if code, _ := c.get(t, "/console/accounts"); code != http.StatusSeeOther {
		t.Errorf("after logout the console answered %d, want a redirect to the login", code)
	}
}

// TestSessionsAreSharedByInstances logs in on one instance and uses the
// session on another sharing the PostgreSQL database, as behind a load balancer.
func TestSessionsAreSharedByInstances(t *testing.T) {
	var pg *storetest.Backend
	for _, b := range storetest.Backends(t) {
		if b.Name == "postgres" {
			pg = &b
		}
	}
	if pg == nil {
		t.Skip("needs PostgreSQL: set " + storetest.EnvPostgres)
	}
	dsn := pg.DSN(t)
	dir := t.TempDir() // one secret key for both, as production needs
	one := startConsoleIn(t, dsn, dir)
	two := startConsoleIn(t, dsn, dir)
	addOperator(t, one.app.Domain, "ada", model.RoleCSR)
	c := newClient(one.url)
	c.login(t, "ada", "password of ada")
	u1, _ := url.Parse(one.url + "/console/")
	u2, _ := url.Parse(two.url + "/console/")
	c.http.Jar.SetCookies(u2, c.http.Jar.Cookies(u1))
	c.base = two.url
	code, page := c.get(t, "/console/accounts")
	if code != 200 || !strings.Contains(page, "ada · csr") {
		t.Fatalf("the session from instance one on instance two: %d", code)
	}
	if code, _ := c.post(t, "/console/logout", url.Values{"csrf": {c.csrf}}); code != http.StatusSeeOther {
		t.Fatalf("logout on two: %d", code)
	}
	c.base = one.url
	if code, _ := c.get(t, "/console/accounts"); code != http.StatusSeeOther {
		t.Fatalf("logged out on two, still in on one: %d", code)
	}
}

// TestAccountPageShowsRegistrations puts a SIP binding in the registrar's
// table and finds it on the account page; it goes when the binding does.
func TestAccountPageShowsRegistrations(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester)
	acc, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Ada")}, tester)
	if err != nil {
		t.Fatal(err)
	}
	addOperator(t, dom, "ada", model.RoleAuditor)
	c := newClient(ts.url)
	c.login(t, "ada", "password of ada")
	if _, page := c.get(t, "/console/accounts/"+acc.Username); !strings.Contains(page, "Not registered now.") {
		t.Fatal("a new account shows a registration")
	}
	now := time.Now()
	reg := &model.Registration{AccountID: acc.ID, Username: acc.Username, Contact: "sip:ada@192.0.2.7:5060;transport=tls", Transport: "tls",
		Source: "192.0.2.7:5060", UserAgent: "Linphone/5.2", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := ts.app.Store.Tx(ctx, func(tx *store.Tx) error { _, err := tx.PutRegistration(ctx, reg); return err }); err != nil {
		t.Fatal(err)
	}
	_, page := c.get(t, "/console/accounts/"+acc.Username)
	if !strings.Contains(page, "sip:ada@192.0.2.7:5060;transport=tls") || !strings.Contains(page, "Linphone/5.2") {
		t.Fatal("the account page does not show the registration")
	}
}

// TestGroupAndOperatorForms edits a group and an operator's role through
// the console's forms, and refuses an admin's change of their own role.
func TestGroupAndOperatorForms(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester)
	addOperator(t, dom, "ada", model.RoleAdmin)
	addOperator(t, dom, "bob", model.RoleCSR)
	c := newClient(ts.url)
	c.login(t, "ada", "password of ada")
	if code, body := c.post(t, "/console/groups/sales", url.Values{"csrf": {c.csrf}, "it_email": {"help@example.com"}, "profile": {"default"}}); code != http.StatusSeeOther {
		t.Fatalf("group edit: %d %.300s", code, body)
	}
	g, _ := dom.Groups.Get(ctx, "sales", tester)
	if g.ITEmail != "help@example.com" || g.Profile != "default" {
		t.Errorf("group after the edit: %+v", g)
	}
	if code, body := c.post(t, "/console/groups/sales", url.Values{"csrf": {c.csrf}, "it_email": {"not an address"}}); code != http.StatusBadRequest || !strings.Contains(body, "e-mail") {
		t.Errorf("a bad IT e-mail: %d", code)
	}
	if code, _ := c.post(t, "/console/operators/bob/role", url.Values{"csrf": {c.csrf}, "role": {"auditor"}}); code != http.StatusSeeOther {
		t.Fatalf("role change: %d", code)
	}
	if o, _ := dom.Operators.Get(ctx, "bob", tester); o.Role != model.RoleAuditor {
		t.Errorf("bob is %s", o.Role)
	}
	if code, _ := c.post(t, "/console/operators/ada/role", url.Values{"csrf": {c.csrf}, "role": {"csr"}}); code != http.StatusBadRequest {
		t.Errorf("an admin changed their own role: %d", code)
	}
	code, csv := c.get(t, "/console/audit?format=csv&target=operator:bob")
	if code != 200 || !strings.HasPrefix(csv, "id,at,actor,role,via,action,target,status,before,after,source,credential\n") || !strings.Contains(csv, "POST /console/operators/{name}/role") {
		t.Errorf("the audit CSV export: %d %.300s", code, csv)
	}
	es, _ := dom.Audit.Log(ctx, activation.AuditFilter{Target: "operator:bob", Limit: 1}, tester)
	if len(es) != 1 || !strings.Contains(es[0].Before, `"role":"csr"`) || !strings.Contains(es[0].After, `"role":"auditor"`) {
		t.Errorf("the audit entry of the role change: %+v", es)
	}
}

// TestAccountListPagesFiltersAndBulkActions pages through 55 accounts,
// searches, filters, and applies bulk actions to a selection.
func TestAccountListPagesFiltersAndBulkActions(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester)
	dom.Groups.Create(ctx, model.GroupInput{Name: strp("support")}, tester)
	var users []string
	for i := 0; i < 55; i++ {
		group := "sales"
		if i%5 == 0 {
			group = "support"
		}
		a, err := dom.Accounts.Create(ctx, model.AccountInput{Group: &group, Name: strp(fmt.Sprintf("Person %02d", i)),
			Mobile: strp(fmt.Sprintf("+39333%07d", i)), Email: strp(fmt.Sprintf("p%d@example.com", i))}, tester)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, a.Username)
	}
	addOperator(t, dom, "ada", model.RoleCSR)
	c := newClient(ts.url)
	c.login(t, "ada", "password of ada")
	rows := func(page string) int { return strings.Count(page, `name="username" value=`) }
	_, p1 := c.get(t, "/console/accounts")
	if rows(p1) != 50 || !strings.Contains(p1, "Next →") || strings.Contains(p1, "← Previous") {
		t.Fatalf("page 1: %d rows", rows(p1))
	}
	_, p2 := c.get(t, "/console/accounts?page=2")
	if rows(p2) != 5 || strings.Contains(p2, "Next →") || !strings.Contains(p2, "← Previous") || !strings.Contains(p2, "Person 00") {
		t.Fatalf("page 2: %d rows", rows(p2))
	}
	if _, p := c.get(t, "/console/accounts?group=support"); rows(p) != 11 {
		t.Errorf("group filter: %d rows, want 11", rows(p))
	}
	if _, p := c.get(t, "/console/accounts?q=p17%40example.com"); rows(p) != 1 || !strings.Contains(p, "Person 17") {
		t.Errorf("search by e-mail: %d rows", rows(p))
	}

	sel := url.Values{"csrf": {c.csrf}, "action": {"send-activation-sms"}, "username": {users[1], users[2], users[3]}}
	if code, _ := c.post(t, "/console/accounts/bulk", sel); code != http.StatusSeeOther {
		t.Fatalf("bulk send: %d", code)
	}
	if ms, _ := dom.Messages.List(ctx, "", "", 100, tester); len(ms) != 3 {
		t.Errorf("bulk send queued %d messages, want 3", len(ms))
	}
	if _, p := c.get(t, "/console/accounts?status=invited"); rows(p) != 3 {
		t.Errorf("status filter after the send: %d invited, want 3", rows(p))
	}
	sel.Set("action", "disable")
	if code, _ := c.post(t, "/console/accounts/bulk", sel); code != http.StatusSeeOther {
		t.Fatalf("bulk disable: %d", code)
	}
	for _, u := range users[1:4] {
		if a, _ := dom.Accounts.Get(ctx, u, tester); !a.Account.Disabled {
			t.Errorf("%s was not disabled", u)
		}
	}
	if a, _ := dom.Accounts.Get(ctx, users[4], tester); a.Account.Disabled {
		t.Error("an account that was not selected was disabled")
	}
	es, _ := dom.Audit.Log(ctx, activation.AuditFilter{Action: "/console/accounts/bulk", Limit: 1}, tester)
	if len(es) != 1 || !strings.Contains(es[0].Target, users[1]) {
		t.Errorf("the bulk action's audit entry: %+v", es)
	}
}

// TestTokensInTheConsole creates an operator's API token in the console,
// shown once, uses it on the API with the operator's role, and revokes it.
func TestTokensInTheConsole(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	addOperator(t, dom, "ada", model.RoleAdmin)
	addOperator(t, dom, "bob", model.RoleAuditor)
	c := newClient(ts.url)
	c.login(t, "ada", "password of ada")
	code, page := c.post(t, "/console/tokens", url.Values{"csrf": {c.csrf}, "name": {"laptop"}, "operator": {"bob"}})
	tok := regexp.MustCompile(`ava_[a-z2-7]{32}`).FindString(page)
	if code != http.StatusOK || tok == "" {
		t.Fatalf("token create: %d, token shown: %q", code, tok)
	}
	if _, list := c.get(t, "/console/tokens"); strings.Contains(list, tok) || !strings.Contains(list, tok[:10]) {
		t.Fatal("the token listing must show the prefix only")
	}
	api := func(method, path string) int {
		req, _ := http.NewRequest(method, ts.url+path, strings.NewReader(`{"name":"x"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := api("GET", "/api/v1/accounts"); got != 200 {
		t.Errorf("bob's token reading: %d", got)
	}
	if got := api("POST", "/api/v1/groups"); got != 403 {
		t.Errorf("bob's (auditor) token creating a group: %d", got)
	}
	ts1, _ := dom.Operators.Tokens(context.Background(), activation.Caller{Role: model.RoleAdmin, OrgID: model.DefaultOrgID})
	var id string
	for _, x := range ts1 {
		if x.Name == "laptop" {
			id = fmt.Sprint(x.ID)
		}
	}
	if code, _ := c.post(t, "/console/tokens/"+id+"/revoke", url.Values{"csrf": {c.csrf}}); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	if got := api("GET", "/api/v1/accounts"); got != 401 {
		t.Errorf("a revoked token: %d", got)
	}
	es, _ := dom.Audit.Log(context.Background(), activation.AuditFilter{Action: "POST /console/tokens", Limit: 5}, tester)
	for _, e := range es {
		if strings.Contains(e.After, tok) || strings.Contains(e.Before, tok) {
			t.Fatalf("the audit log holds the token: %+v", e)
		}
	}
}
