package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// testServer is a running activator on loopback with its admin token.
type testServer struct {
	url   string
	token string
	app   *app.App
	t     *testing.T
}

// startServer starts a whole activator on SQLite (database "") or the
// PostgreSQL URL given.
func startServer(t *testing.T, database string) *testServer {
	t.Helper()
	return startServerWith(t, apptest.Options{Database: database})
}

// startServerWith starts a whole activator as o says.
func startServerWith(t *testing.T, o apptest.Options) *testServer {
	t.Helper()
	s := apptest.Start(t, o)
	return &testServer{url: s.URL, token: s.AdminToken, app: s.App, t: t}
}

// forEachServer runs fn against a server on SQLite and one on PostgreSQL.
func forEachServer(t *testing.T, fn func(t *testing.T, s *testServer)) {
	apptest.ForEachDatabase(t, func(t *testing.T, database string) {
		fn(t, startServer(t, database))
	})
}

// do sends a request with the admin token (unless token is "-") and returns
// the status and the body.
func (s *testServer) do(method, path, body, token string) (int, []byte, http.Header) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if token == "" {
		token = s.token
	}
	if token != "-" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

func (s *testServer) mustDo(method, path, body string, want int) []byte {
	s.t.Helper()
	code, out, _ := s.do(method, path, body, "")
	if code != want {
		s.t.Fatalf("%s %s %s: want %d, got %d: %s", method, path, body, want, code, out)
	}
	return out
}

func apiError(t *testing.T, body []byte) model.APIError {
	t.Helper()
	var e model.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("want a JSON error body, got %q", body)
	}
	return e.Error
}

type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
	Comps   struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

// TestOpenAPIMatchesTheRoutes checks the document against the live server:
// every documented operation is served (none falls through to "no route" or
// "method not allowed"), every $ref resolves, and operation ids are unique.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	s := startServer(t, "")
	raw := s.mustDo("GET", "/api/v1/openapi.json", "", 200)
	var doc openAPIDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" || len(doc.Paths) < 20 {
		t.Fatalf("document: openapi %q with %d paths", doc.OpenAPI, len(doc.Paths))
	}
	ids := map[string]bool{}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			var o struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(op, &o); err != nil {
				t.Fatal(err)
			}
			if ids[o.OperationID] || o.OperationID == "" || len(o.Responses) == 0 {
				t.Errorf("%s %s: operation id %q duplicated or empty, or no responses", method, path, o.OperationID)
			}
			ids[o.OperationID] = true
			documented = append(documented, strings.ToUpper(method)+" "+path)
			// {id} is one nothing has: as 1, POST /api/v1/tokens/{id}/revoke revoked the
			// test's own token, and the admin API answers nobody without one.
			concrete := strings.NewReplacer("{name}", "nobody", "{username}", "0", "{platform}", "android",
				"{key}", "company_name", "{id}", "999999", "{token}", "avl_x").Replace(path)
			code, body, _ := s.do(strings.ToUpper(method), concrete, "", "")
			if code == http.StatusMethodNotAllowed || (code == 404 && strings.Contains(string(body), `"no_route"`)) ||
				(code == 404 && strings.Contains(string(body), "404 page not found")) {
				t.Errorf("documented %s %s is not served: %d %s", method, path, code, body)
			}
		}
	}
	// Every $ref names a schema that exists.
	for _, ref := range refs(raw) {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if _, ok := doc.Comps.Schemas[name]; !ok {
			t.Errorf("dangling $ref %s", ref)
		}
	}
	// And the reverse: a route the server answers that the document lacks is
	// caught by probing the API's known prefixes for undocumented methods.
	sort.Strings(documented)
	for _, path := range []string{"/api/v1/groups", "/api/v1/accounts", "/api/v1/profiles", "/api/v1/apps", "/api/v1/settings", "/api/v1/outbox", "/api/v1/messages"} {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			code, body, _ := s.do(m, path, "{}", "")
			served := !(code == http.StatusMethodNotAllowed || (code == 404 && strings.Contains(string(body), `"no_route"`)))
			doced := sort.SearchStrings(documented, m+" "+path) < len(documented) && documented[sort.SearchStrings(documented, m+" "+path)] == m+" "+path
			if served != doced {
				t.Errorf("%s %s: served=%v documented=%v", m, path, served, doced)
			}
		}
	}
}

func refs(doc []byte) []string {
	var out []string
	for _, part := range bytes.Split(doc, []byte(`"$ref": "`))[1:] {
		if i := bytes.IndexByte(part, '"'); i > 0 {
			out = append(out, string(part[:i]))
		}
	}
	return out
}

// TestAdminRoutesNeedAToken tries every admin route of the document without
// a token and with a wrong one.
func TestAdminRoutesNeedAToken(t *testing.T) {
	s := startServer(t, "")
	var doc openAPIDoc
	if err := json.Unmarshal(s.mustDo("GET", "/api/v1/openapi.json", "", 200), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if !bytes.Contains(op, []byte(`"apiToken"`)) {
				continue
			}
			n++
			concrete := strings.NewReplacer("{name}", "x", "{username}", "1", "{platform}", "android", "{key}", "company_name", "{id}", "1").Replace(path)
			for _, tok := range []string{"-", "ava_" + strings.Repeat("a", 32), "garbage"} {
				code, body, _ := s.do(strings.ToUpper(method), concrete, "", tok)
				if code != http.StatusUnauthorized || apiError(t, body).Code != "unauthorized" {
					t.Errorf("%s %s with token %q: want 401, got %d %s", method, path, tok, code, body)
				}
			}
		}
	}
	if n < 25 {
		t.Fatalf("only %d admin operations found in the document", n)
	}
}

// TestBadInputNamesTheField sends malformed bodies to every endpoint that
// takes one, on both engines, and checks nothing was written.
func TestBadInputNamesTheField(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		var acc model.Account
		if err := json.Unmarshal(s.mustDo("POST", "/api/v1/accounts", `{"group":"sales","name":"Ada","mobile":"+393331234567"}`, 201), &acc); err != nil {
			t.Fatal(err)
		}
		u := acc.Username
		cases := []struct {
			method, path, body, code, field string
		}{
			{"POST", "/api/v1/groups", `{"name": 5}`, "invalid_field", "name"},
			{"POST", "/api/v1/groups", `{"name": "x", "colour": "red"}`, "unknown_field", "colour"},
			{"POST", "/api/v1/groups", `{}`, "invalid_field", "name"},
			{"POST", "/api/v1/groups", `{"name": "it", "it_email": "nope"}`, "invalid_field", "it_email"},
			{"POST", "/api/v1/groups", `{"name": "it", "profile": "missing"}`, "invalid_field", "profile"},
			{"POST", "/api/v1/groups", `not json`, "invalid_json", ""},
			{"POST", "/api/v1/groups", ``, "invalid_json", ""},
			{"POST", "/api/v1/groups", `{"name":"a"} {"name":"b"}`, "invalid_json", ""},
			{"POST", "/api/v1/groups", `{"name":"a"} ]`, "invalid_json", ""},
			{"POST", "/api/v1/groups", `{"name":"a"}}}`, "invalid_json", ""},
			{"POST", "/api/v1/groups", `[]`, "invalid_json", ""},
			{"POST", "/api/v1/device/activate", `"avl_x"`, "invalid_json", ""},
			{"PATCH", "/api/v1/groups/sales", `{"it_email": 3}`, "invalid_field", "it_email"},
			{"POST", "/api/v1/profiles", `{"settings": {}}`, "invalid_field", "name"},
			{"POST", "/api/v1/profiles", `{"name": "p", "settings": {"pin": {"attempts": 0}}}`, "invalid_field", "settings.pin.attempts"},
			{"POST", "/api/v1/profiles", `{"name": "p", "settings": {"wat": 1}}`, "invalid_field", "settings.wat"},
			{"PATCH", "/api/v1/profiles/default", `{"settings": {"logging": "loud"}}`, "invalid_field", "settings.logging"},
			{"PUT", "/api/v1/apps", `{"platform": "palm", "url": "https://x.example"}`, "invalid_field", "platform"},
			{"PUT", "/api/v1/apps", `{"platform": "ios", "url": "javascript:alert(1)"}`, "invalid_field", "url"},
			{"PUT", "/api/v1/apps", `{"platform": "ios", "security_model": "x", "url": "https://x.example"}`, "invalid_field", "security_model"},
			{"PUT", "/api/v1/settings/link_expiry", `{"value": "forever"}`, "invalid_field", "value"},
			{"PUT", "/api/v1/settings/link_expiry", `{}`, "invalid_field", "value"},
			{"PUT", "/api/v1/settings/nope", `{"value": "x"}`, "invalid_field", "key"},
			{"PUT", "/api/v1/templates/sms.activation", `{"text": "no link here"}`, "invalid_field", "text"},
			{"PUT", "/api/v1/templates/sms.activation", `{"text": "{{.Link}} {{.Password}}"}`, "invalid_field", "text"},
			{"PUT", "/api/v1/templates/email.activation.de", `{"subject": "{{.Link}}"}`, "invalid_field", "subject"},
			{"PUT", "/api/v1/templates/fax.activation", `{"text": "{{.Link}}"}`, "invalid_field", "key"},
			{"POST", "/api/v1/accounts", `{"group": "sales", "name": "B", "mobile": "12"}`, "invalid_field", "mobile"},
			{"POST", "/api/v1/accounts", `{"group": "sales", "name": "B", "email": "b@"}`, "invalid_field", "email"},
			{"POST", "/api/v1/accounts", `{"group": "sales", "name": "B", "language": "xx"}`, "invalid_field", "language"},
			{"POST", "/api/v1/accounts", `{"group": "sales", "name": "B", "security_model": "none"}`, "invalid_field", "security_model"},
			{"POST", "/api/v1/accounts", `{"name": "B"}`, "invalid_field", "group"},
			{"POST", "/api/v1/accounts", `{"group": "sales", "name": ["B"]}`, "invalid_field", "name"},
			{"PATCH", "/api/v1/accounts/" + u, `{"mobile": "abc"}`, "invalid_field", "mobile"},
			{"PATCH", "/api/v1/accounts/" + u, `{"virtual_number": "x1"}`, "invalid_field", "virtual_number"},
			{"POST", "/api/v1/accounts/" + u + "/send", `{"channel": "fax"}`, "invalid_field", "channel"},
			{"POST", "/api/v1/accounts/" + u + "/send", `{"channel": "sms", "kind": "x"}`, "invalid_field", "kind"},
			{"POST", "/api/v1/accounts/" + u + "/send", `{"channel": "email"}`, "invalid_field", "channel"}, // no e-mail address
			{"GET", "/api/v1/accounts?status=happy", ``, "invalid_field", "status"},
			{"GET", "/api/v1/accounts?limit=ten", ``, "invalid_field", "limit"},
			{"GET", "/api/v1/accounts?group=nope", ``, "invalid_field", "group"},
			{"GET", "/api/v1/messages?state=lost", ``, "invalid_field", "state"},
			{"GET", "/api/v1/outbox/abc", ``, "invalid_field", "id"},
			{"DELETE", "/api/v1/apps/android?security_model=x", ``, "invalid_field", "security_model"},
			{"POST", "/api/v1/device/activate", `{"token": "", "device": {"id": "d", "platform": "android"}}`, "invalid_field", "token"},
			{"POST", "/api/v1/device/activate", `{"token": "avl_x", "device": {"id": "d", "platform": "palm"}}`, "invalid_field", "device.platform"},
			{"POST", "/api/v1/device/activate", `{"token": "avl_x", "device": {"platform": "ios"}}`, "invalid_field", "device.id"},
			{"POST", "/api/v1/device/activate", `{"token": 7}`, "invalid_field", "token"},
			{"POST", "/api/v1/device/activate", `{"token": "avl_x", "device": {"id": "d", "platform": "ios", "imei": "1"}}`, "unknown_field", "device.imei"},
		}
		for _, c := range cases {
			code, body, _ := s.do(c.method, c.path, c.body, "")
			e := apiError(t, body)
			if code != 400 || e.Code != c.code || e.Field != c.field || e.Message == "" {
				t.Errorf("%s %s %s: want 400 %s field %q, got %d %+v", c.method, c.path, c.body, c.code, c.field, code, e)
			}
		}
		// Nothing half written: one group, one account, the default profile, no link, no message.
		var groups struct{ Groups []model.Group }
		json.Unmarshal(s.mustDo("GET", "/api/v1/groups", "", 200), &groups)
		var accounts struct{ Accounts []model.Account }
		json.Unmarshal(s.mustDo("GET", "/api/v1/accounts", "", 200), &accounts)
		var profiles struct{ Profiles []model.Profile }
		json.Unmarshal(s.mustDo("GET", "/api/v1/profiles", "", 200), &profiles)
		var detail model.AccountDetail
		json.Unmarshal(s.mustDo("GET", "/api/v1/accounts/"+u, "", 200), &detail)
		if len(groups.Groups) != 1 || len(accounts.Accounts) != 1 || len(profiles.Profiles) != 1 || len(detail.Links) != 0 || len(detail.Messages) != 0 {
			t.Fatalf("refused requests wrote rows: %d groups, %d accounts, %d profiles, %d links, %d messages",
				len(groups.Groups), len(accounts.Accounts), len(profiles.Profiles), len(detail.Links), len(detail.Messages))
		}
		if detail.Account.Mobile != "+393331234567" {
			t.Fatalf("a refused edit changed the account: %+v", detail.Account)
		}
		// Not found and conflicts have their statuses.
		for _, c := range []struct {
			method, path, body string
			status             int
		}{
			{"GET", "/api/v1/accounts/424242", "", 404},
			{"GET", "/api/v1/groups/nope", "", 404},
			{"GET", "/api/v1/profiles/nope", "", 404},
			{"POST", "/api/v1/groups", `{"name":"sales"}`, 409},
			{"DELETE", "/api/v1/groups/sales", "", 409},
			{"DELETE", "/api/v1/profiles/default", "", 409},
			{"DELETE", "/api/v1/apps/ios", "", 404},
			{"GET", "/api/v1/device/config", "", 401},
			{"POST", "/api/v1/device/activate", `{"token": "avl_` + strings.Repeat("q", 32) + `", "device": {"id": "d", "platform": "ios"}}`, 404},
		} {
			code, body, _ := s.do(c.method, c.path, c.body, "")
			if code != c.status {
				t.Errorf("%s %s: want %d, got %d %s", c.method, c.path, c.status, code, body)
			}
			apiError(t, body)
		}
	})
}

// TestListingsHoldNoSecrets checks that the outbox listing masks links while
// the single-message view shows the whole text.
func TestListingsHoldNoSecrets(t *testing.T) {
	s := startServer(t, "")
	s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
	var acc model.Account
	json.Unmarshal(s.mustDo("POST", "/api/v1/accounts", `{"group":"sales","name":"Ada","email":"ada@example.com"}`, 201), &acc)
	var sent model.SendResult
	json.Unmarshal(s.mustDo("POST", "/api/v1/accounts/"+acc.Username+"/send", `{"channel":"email"}`, 201), &sent)
	var list struct{ Outbox []model.OutboxItem }
	for range 50 {
		json.Unmarshal(s.mustDo("GET", "/api/v1/outbox", "", 200), &list)
		if len(list.Outbox) == 1 {
			break
		}
		waitABit()
	}
	if len(list.Outbox) != 1 {
		t.Fatal("the message never reached the outbox")
	}
	var full model.OutboxItem
	json.Unmarshal(s.mustDo("GET", "/api/v1/outbox/"+itoa(list.Outbox[0].ID), "", 200), &full)
	i := strings.Index(full.Body, "avl_")
	if i < 0 {
		t.Fatalf("the full message has no link: %q", full.Body)
	}
	token := full.Body[i : i+36]
	for _, path := range []string{"/api/v1/outbox", "/api/v1/messages", "/api/v1/accounts", "/api/v1/accounts/" + acc.Username, "/api/v1/accounts/" + acc.Username + "/events"} {
		if body := s.mustDo("GET", path, "", 200); bytes.Contains(body, []byte(token)) {
			t.Errorf("%s lists the live link token", path)
		}
	}
	if bytes.Contains(s.mustDo("GET", "/api/v1/outbox", "", 200), []byte(token[:10])) == false {
		t.Error("the outbox listing should still show the token's recognisable prefix")
	}
}

// TestRolesFromTheRouteTable tries every mutating route of the document with
// a csr and an auditor token: a csr may manage accounts but not configuration,
// an auditor may change nothing. Reads are open to both.
func TestRolesFromTheRouteTable(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	tokens := map[model.Role]string{}
	for _, role := range []model.Role{model.RoleCSR, model.RoleAuditor} {
		tok, hash := secret.NewToken(secret.PrefixAPIToken)
		err := s.app.Store.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.CreateAPIToken(ctx, model.DefaultOrgID, string(role)+" token", role, secret.Display(tok), hash)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
	}
	var doc openAPIDoc
	if err := json.Unmarshal(s.mustDo("GET", "/api/v1/openapi.json", "", 200), &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			var o struct {
				Perm string `json:"x-permission"`
			}
			json.Unmarshal(op, &o)
			if o.Perm == "" {
				continue
			}
			concrete := strings.NewReplacer("{name}", "x", "{username}", "1", "{platform}", "android", "{key}", "company_name", "{id}", "1").Replace(path)
			for role, tok := range tokens {
				code, body, _ := s.do(strings.ToUpper(method), concrete, "{}", tok)
				forbidden := code == http.StatusForbidden
				want := !activation.RoleAllows(role, o.Perm)
				if forbidden != want {
					t.Errorf("%s %s as %s (needs %s): got %d %s", method, path, role, o.Perm, code, body)
				}
				checked++
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d role checks ran", checked)
	}
	// The rules themselves, spelled out.
	for _, c := range []struct {
		role model.Role
		perm string
		ok   bool
	}{
		{model.RoleCSR, activation.PermAccounts, true}, {model.RoleCSR, activation.PermConfig, false},
		{model.RoleAuditor, activation.PermRead, true}, {model.RoleAuditor, activation.PermAccounts, false},
		{model.RoleAdmin, activation.PermConfig, true}, {"nobody", activation.PermRead, false},
	} {
		if activation.RoleAllows(c.role, c.perm) != c.ok {
			t.Errorf("%s may %s: want %v", c.role, c.perm, c.ok)
		}
	}
}
