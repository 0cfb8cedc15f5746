package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/web/console"
)

// bMarker is in every distinctive string of organisation B's rows, so a
// body that holds it has leaked B's data across the wall.
const bMarker = "Zebulonorgb"

// orgClient calls the admin API with a token, acting inside an
// organisation when org is not "".
type orgClient struct {
	s          *testServer
	token, org string
}

func (c orgClient) do(method, path, body string) (int, []byte) {
	c.s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.s.url+path, rd)
	if err != nil {
		c.s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if c.org != "" {
		req.Header.Set("Activator-Org", c.org)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		if strings.HasPrefix(body, "name,") {
			req.Header.Set("Content-Type", "text/csv")
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		c.s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (c orgClient) must(method, path, body string, want int, into any) {
	c.s.t.Helper()
	code, out := c.do(method, path, body)
	if code != want {
		c.s.t.Fatalf("%s %s %.200s (as %s): want %d, got %d: %s", method, path, body, c.org, want, code, out)
	}
	if into != nil {
		if err := json.Unmarshal(out, into); err != nil {
			c.s.t.Fatalf("%s %s: %v in %s", method, path, err, out)
		}
	}
}

// orgFixture is what one organisation of the wall test holds: rows named
// alike in both organisations, rows only it has, and its operators' tokens.
type orgFixture struct {
	slug      string
	tokens    map[model.Role]string // its admin's, CSR's and auditor's
	passwords map[model.Role]string // their set-password links
	username  string                // its account's
	only      map[string]string     // route prefix -> the name or id of a row only this organisation has
}

// makeOrg creates an organisation through the provider's API and fills it,
// acting inside it: the same group, profile and gateway names as the
// other, an account with a message, a device, an import, an export job,
// operators of each role and their tokens. mark is in every text of it.
func makeOrg(t *testing.T, provider orgClient, slug, mark, baseURL string) *orgFixture {
	t.Helper()
	base := ""
	if baseURL != "" {
		base = fmt.Sprintf(`,"base_url":%q`, baseURL)
	}
	provider.must("POST", "/api/v1/orgs", fmt.Sprintf(`{"name":"Org %s","slug":%q%s}`, mark, slug, base), 201, nil)
	in := provider
	in.org = slug
	f := &orgFixture{slug: slug, tokens: map[model.Role]string{}, passwords: map[model.Role]string{}, only: map[string]string{}}
	low := strings.ToLower(mark)
	in.must("POST", "/api/v1/groups", fmt.Sprintf(`{"name":"sales","it_email":"it-%s@example.com"}`, low), 201, nil)
	in.must("POST", "/api/v1/groups", fmt.Sprintf(`{"name":"%s-group"}`, low), 201, nil)
	in.must("POST", "/api/v1/profiles", `{"name":"vip"}`, 201, nil)
	in.must("POST", "/api/v1/profiles", fmt.Sprintf(`{"name":"%s-profile"}`, low), 201, nil)
	// Gateways that are nobody's default: messages go to the outbox.
	smtp := `{"name":%q,"kind":"smtp","settings":{"host":"127.0.0.1","port":"25","tls":"none","from":"%s@example.com"}}`
	in.must("POST", "/api/v1/gateways", fmt.Sprintf(smtp, "mail", low), 201, nil)
	in.must("POST", "/api/v1/gateways", fmt.Sprintf(smtp, low+"-gateway", low), 201, nil)
	f.only["groups"], f.only["profiles"], f.only["gateways"] = low+"-group", low+"-profile", low+"-gateway"
	for _, role := range []model.Role{model.RoleAdmin, model.RoleCSR, model.RoleAuditor} {
		name := fmt.Sprintf("%s-%s", low, role)
		var oc model.OperatorCreated
		in.must("POST", "/api/v1/operators", fmt.Sprintf(`{"name":%q,"role":%q}`, name, role), 201, &oc)
		f.passwords[role] = oc.SetPasswordURL
		var tc model.TokenCreated
		in.must("POST", "/api/v1/tokens", fmt.Sprintf(`{"name":"wall","operator":%q}`, name), 201, &tc)
		f.tokens[role] = tc.Token
		f.only["tokens"] = strconv.FormatInt(tc.APIToken.ID, 10)
	}
	f.only["operators"] = low + "-admin"
	var a model.Account
	in.must("POST", "/api/v1/accounts", fmt.Sprintf(`{"group":"sales","name":"Ada %s","email":"ada-%s@example.com"}`, mark, low), 201, &a)
	f.username = a.Username
	in.must("POST", "/api/v1/accounts/"+a.Username+"/send", `{"channel":"email"}`, 201, nil)
	var box struct{ Outbox []model.OutboxItem }
	for range 200 { // the worker delivers to the outbox soon after
		in.must("GET", "/api/v1/outbox", "", 200, &box)
		if len(box.Outbox) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(box.Outbox) == 0 {
		_, msgs := in.do("GET", "/api/v1/messages", "")
		t.Fatalf("%s: the message never reached the outbox: %s", slug, msgs)
	}
	f.only["outbox"] = strconv.FormatInt(box.Outbox[0].ID, 10)
	var item model.OutboxItem
	in.must("GET", "/api/v1/outbox/"+f.only["outbox"], "", 200, &item)
	link := secret.LinkTokens.FindString(item.Body)
	redeem, _ := json.Marshal(model.RedeemRequest{Token: link, Device: model.DeviceInfo{ID: low + "-phone", Platform: "android"}})
	if code, out := in.do("POST", "/api/v1/device/activate", string(redeem)); code != 200 {
		t.Fatalf("%s: redeem: %d %s", slug, code, out)
	}
	var detail model.AccountDetail
	in.must("GET", "/api/v1/accounts/"+a.Username, "", 200, &detail)
	if len(detail.Devices) != 1 {
		t.Fatalf("%s: devices %+v", slug, detail.Devices)
	}
	f.only["devices"] = strconv.FormatInt(detail.Devices[0].ID, 10)
	var imp model.ImportPreview
	in.must("POST", "/api/v1/imports", "name,email,group\nGrace "+mark+",grace-"+low+"@example.com,sales\n", 201, &imp)
	f.only["imports"] = strconv.FormatInt(imp.ID, 10)
	var job struct {
		ID int64 `json:"id"`
	}
	in.must("POST", "/api/v1/exports", `{"kind":"accounts"}`, 202, &job)
	f.only["exports"] = strconv.FormatInt(job.ID, 10)
	return f
}

// validBodies are the bodies the wall's walk sends to the routes that
// check their body before they look up the rows their path names: with
// "{}" they answer 400 for every row, B's or nobody's, which says nothing
// of the wall. With these, the walk reaches the lookup.
var validBodies = map[string]string{
	"POST /api/v1/accounts/{username}/send":        `{"channel":"sms"}`,
	"PUT /api/v1/groups/{name}/gateways/{channel}": `{"gateway":""}`,
}

// validForms are, as validBodies are for the API, the fields a console
// form needs for its handler to look up the row its path names.
var validForms = map[string]url.Values{
	"/console/accounts/{username}/send": {"channel": {"sms"}},
}

// TestTheWallHoldsOnTheAPI builds organisations A and B through the
// provider's API, with the same group, profile and gateway names, then
// walks every route of the admin API, read from the OpenAPI document
// (built from the route table itself, so a route added later is walked
// too), as each of A's roles: once naming B's own rows (each answer must be
// 404 or 403, as for a row nobody has) and once naming the rows both have (each must be A's). No
// answer may hold any of B's data, and afterwards B's rows are all there,
// unchanged.
func TestTheWallHoldsOnTheAPI(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		provider := orgClient{s: s, token: s.token}
		a := makeOrg(t, provider, "alpha", "Alphaorga", "")
		b := makeOrg(t, provider, "bravo", bMarker, "")
		bIn := provider
		bIn.org = b.slug
		var before model.AccountDetail
		bIn.must("GET", "/api/v1/accounts/"+b.username, "", 200, &before)

		var doc struct {
			Paths map[string]map[string]struct {
				Security []map[string]any `json:"security"`
			} `json:"paths"`
		}
		code, raw := provider.do("GET", "/api/v1/openapi.json", "")
		if code != 200 || json.Unmarshal(raw, &doc) != nil {
			t.Fatalf("openapi.json: %d", code)
		}
		var paths []string
		for p := range doc.Paths {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		// fill fills p's parameters with B's own rows (with shared, the
		// names both organisations have instead, where there are some),
		// and the same path with rows nobody has in their place; given
		// is what B names the path holds, which an answer may say back
		// ("no group named ..."), as it would of any name it was given.
		sharedNames := map[string]string{"groups": "sales", "profiles": "vip", "gateways": "mail"}
		collections := []string{"devices", "groups", "profiles", "gateways", "operators", "tokens", "imports", "exports", "outbox"}
		fill := func(p string, shared bool) (url, unknown string, given []string) {
			url, unknown = p, p
			for strings.Contains(url, "{") {
				i, k := strings.Index(url, "{"), strings.Index(unknown, "{")
				j, l := strings.Index(url[i:], "}")+i, strings.Index(unknown[k:], "}")+k
				param := url[i+1 : j]
				v, none := "", ""
				switch param {
				case "username":
					v, none = b.username, "1000000001"
				case "org":
					v, none = b.slug, "no-such-org"
				case "gateway":
					v, none = b.only["gateways"], "no-such-gateway"
				case "platform", "key", "channel", "token", "credential":
					// No row of either: a platform, a setting, a channel,
					// a public route's secret.
					v = map[string]string{"platform": "android", "key": model.SettingSIPDomain, "channel": "email",
						"token": secret.PrefixLink + "x", "credential": "x"}[param]
				default:
					for _, coll := range collections {
						if strings.Contains(p, "/"+coll+"/{"+param+"}") {
							v, none = b.only[coll], "no-such-"+coll
							if param == "id" {
								none = "999999999"
							}
							if name, ok := sharedNames[coll]; ok && shared {
								v, none = name, "" // A has its own of that name
							}
						}
					}
					if v == "" {
						t.Fatalf("%s: the walker has no row of B for {%s}: add one to makeOrg", p, param)
					}
				}
				if none != "" {
					given = append(given, strings.ToLower(v))
				} else {
					none = v
				}
				url, unknown = url[:i]+v+url[j+1:], unknown[:k]+none+unknown[l+1:]
			}
			return url, unknown, given
		}
		// What the walk names of B is all it may read back; the rest of
		// B's texts (its name, e-mail addresses, people) never.
		var named []string
		for _, v := range b.only {
			named = append(named, strings.ToLower(v))
		}
		named = append(named, b.username)
		leaks := func(body []byte) bool {
			text := strings.ToLower(string(body))
			for _, g := range named {
				text = strings.ReplaceAll(text, g, "")
			}
			return strings.Contains(text, strings.ToLower(bMarker))
		}
		errCode := func(body []byte) string {
			var e model.ErrorBody
			_ = json.Unmarshal(body, &e)
			return e.Error.Code
		}
		walked := 0
		for _, role := range []model.Role{model.RoleAuditor, model.RoleCSR, model.RoleAdmin} {
			as := orgClient{s: s, token: a.tokens[role]}
			// Naming B with the header is refused, as an unknown
			// organisation is: an organisation's operator acts in theirs.
			for _, org := range []string{b.slug, "no-such-org"} {
				code, got := orgClient{s: s, token: a.tokens[role], org: org}.do("GET", "/api/v1/groups", "")
				if code != http.StatusForbidden || strings.Contains(strings.ToLower(string(got)), strings.ToLower(bMarker)) {
					t.Errorf("A's %s acting in %s: %d %s, want 403", role, org, code, got)
				}
			}
			for _, pass := range []string{"b-only", "shared"} {
				for _, p := range paths {
					for m, op := range doc.Paths[p] {
						method := strings.ToUpper(m)
						url, unknown, given := fill(p, pass == "shared")
						body := ""
						if method != http.MethodGet && method != http.MethodDelete {
							body = "{}"
							if b, ok := validBodies[method+" "+p]; ok {
								body = b
							}
						}
						code, got := as.do(method, url, body)
						walked++
						if leaks(got) {
							t.Errorf("%s %s as A's %s (%s, %d): the answer holds organisation B's data: %.300s", method, url, role, pass, code, got)
						}
						if code >= 500 {
							t.Errorf("%s %s as A's %s: %d %.200s", method, url, role, code, got)
						}
						_, byToken := firstOr(op.Security)["apiToken"]
						if len(given) == 0 || !byToken {
							continue
						}
						// B's row answers exactly as a row nobody has: a
						// refusal, with the same status and code.
						codeU, gotU := as.do(method, unknown, body)
						if code != codeU || errCode(got) != errCode(gotU) {
							t.Errorf("%s %s as A's %s names B's row: %d %.200s; a row nobody has: %d %.200s", method, url, role, code, got, codeU, gotU)
						}
						if code != http.StatusNotFound && code != http.StatusForbidden {
							t.Errorf("%s %s as A's %s names B's row: %d %.200s, want 404 or 403 (a route that refuses the walk's body before it looks the row up needs a body in validBodies)", method, url, role, code, got)
						}
					}
				}
			}
		}
		if walked < 300 {
			t.Fatalf("walked only %d routes", walked)
		}
		// Nothing of B moved: the same account, devices and messages, its
		// rows all there.
		var after model.AccountDetail
		bIn.must("GET", "/api/v1/accounts/"+b.username, "", 200, &after)
		if after.Account.Status != before.Account.Status || after.Account.Disabled || len(after.Devices) != 1 || after.Devices[0].RevokedAt != nil ||
			len(after.Messages) != len(before.Messages) {
			t.Errorf("B's account changed across the wall:\nbefore %+v\nafter  %+v", before.Account, after.Account)
		}
		for coll, key := range b.only {
			if coll == "devices" || coll == "outbox" || coll == "exports" {
				continue // read above, or kept by the server alone
			}
			path := "/api/v1/" + coll + "/" + key
			if coll == "tokens" {
				path = "/api/v1/tokens"
			}
			if code, out := bIn.do("GET", path, ""); code != 200 || (coll == "tokens" && strings.Contains(string(out), `"revoked_at"`)) {
				t.Errorf("B's %s %s after the walk: %d %.200s", coll, key, code, out)
			}
		}
		for role, tok := range b.tokens {
			if code, out := (orgClient{s: s, token: tok}).do("GET", "/api/v1/groups", ""); code != 200 {
				t.Errorf("B's %s token after the walk: %d %s", role, code, out)
			}
		}
	})
}

func firstOr(ss []map[string]any) map[string]any {
	if len(ss) == 0 {
		return nil
	}
	return ss[0]
}

// consoleSession is one of A's operators logged in to the console at A's host.
type consoleSession struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

var formCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *consoleSession) get(path string) (int, []byte) {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c *consoleSession) post(path string, form url.Values) (int, []byte) {
	c.t.Helper()
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// consoleLogin sets the operator's password through their link and logs
// in at base, as a person would.
func consoleLogin(t *testing.T, s *testServer, base, link, name string) *consoleSession {
	t.Helper()
	tok := link[strings.LastIndex(link, "/")+1:]
	if _, err := s.app.Domain.Access.SetPassword(context.Background(), tok, "password of "+name); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &consoleSession{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, page := c.get("/console/login")
	m := formCSRF.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no login form at %s", base)
	}
	if code, body := c.post("/console/login", url.Values{"csrf": {string(m[1])}, "name": {name}, "password": {"password of " + name}}); code != http.StatusSeeOther {
		t.Fatalf("%s logging in at %s: %d %.300s", name, base, code, body)
	}
	_, page = c.get("/console/")
	if m = formCSRF.FindSubmatch(page); m == nil {
		t.Fatalf("%s: no dashboard after logging in", name)
	}
	c.csrf = string(m[1])
	return c
}

// TestTheWallHoldsOnTheConsole walks every route of the console's route
// table as each of organisation A's roles, logged in at A's own host, with
// organisation B's rows in the path: each answer must be the one the same
// route gives for rows nobody has, and none may hold B's data. The test
// reads the route table, so a new console route is walked too.
func TestTheWallHoldsOnTheConsole(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		provider := orgClient{s: s, token: s.token}
		u, _ := url.Parse(s.url)
		aBase := "http://localhost:" + u.Port() // A's host, on the same listener
		a := makeOrg(t, provider, "alpha", "Alphaorga", aBase)
		b := makeOrg(t, provider, "bravo", bMarker, "")
		cons, err := console.New(s.app.Domain, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		fill := func(path string, ofB bool) string {
			v := func(param, coll string) string {
				if !ofB {
					if param == "id" {
						return "999999999"
					}
					return "no-such-" + param
				}
				switch param {
				case "username":
					return b.username
				case "org":
					return b.slug
				}
				if x, ok := b.only[coll]; ok {
					return x
				}
				t.Fatalf("%s: the walker has no row of B for {%s}", path, param)
				return ""
			}
			out := path
			for strings.Contains(out, "{") {
				i := strings.Index(out, "{")
				j := strings.Index(out[i:], "}") + i
				param := strings.TrimSuffix(out[i+1:j], "...")
				coll := ""
				if segs := strings.Split(strings.Trim(out[:i], "/"), "/"); len(segs) > 0 {
					coll = segs[len(segs)-1]
				}
				if param == "$" {
					out = out[:i] + out[j+1:]
					continue
				}
				out = out[:i] + v(param, coll) + out[j+1:]
			}
			return out
		}
		named := []string{b.username}
		for _, v := range b.only {
			named = append(named, strings.ToLower(v))
		}
		leaks := func(body []byte) bool {
			text := strings.ToLower(string(body))
			for _, g := range named {
				text = strings.ReplaceAll(text, g, "")
			}
			return strings.Contains(text, strings.ToLower(bMarker))
		}
		walked := 0
		for _, role := range []model.Role{model.RoleAuditor, model.RoleCSR, model.RoleAdmin} {
			c := consoleLogin(t, s, aBase, a.passwords[role], "alphaorga-"+string(role))
			for _, rt := range cons.Routes() {
				if rt.Public || !strings.Contains(rt.Path, "{") || rt.Path == "/console/{$}" || rt.Path == "/console/logout" {
					continue
				}
				var code, codeU int
				var got []byte
				if rt.Method == http.MethodGet {
					code, got = c.get(fill(rt.Path, true))
					codeU, _ = c.get(fill(rt.Path, false))
				} else {
					form := url.Values{"csrf": {c.csrf}}
					for k, v := range validForms[rt.Path] {
						form[k] = v
					}
					code, got = c.post(fill(rt.Path, true), form)
					codeU, _ = c.post(fill(rt.Path, false), form)
				}
				walked++
				if leaks(got) {
					t.Errorf("%s %s as A's %s (%d): the page holds organisation B's data: %.300s", rt.Method, rt.Path, role, code, got)
				}
				if code != codeU || (code != http.StatusNotFound && code != http.StatusForbidden) {
					t.Errorf("%s %s as A's %s names B's row: %d; a row nobody has: %d; want 404 or 403 for both", rt.Method, rt.Path, role, code, codeU)
				}
			}
			// Pages without a row in their path list A's own only.
			for _, rt := range cons.Routes() {
				if rt.Method != http.MethodGet || rt.Public || strings.Contains(strings.TrimSuffix(rt.Path, "{$}"), "{") {
					continue
				}
				code, got := c.get(strings.TrimSuffix(rt.Path, "{$}"))
				walked++
				if leaks(got) || code >= 500 {
					t.Errorf("GET %s as A's %s: %d, holds B's data: %v", rt.Path, role, code, leaks(got))
				}
			}
		}
		if walked < 60 {
			t.Fatalf("walked only %d console routes", walked)
		}
		bIn := provider
		bIn.org = b.slug
		var after model.AccountDetail
		bIn.must("GET", "/api/v1/accounts/"+b.username, "", 200, &after)
		if after.Account.Disabled || len(after.Devices) != 1 || after.Devices[0].RevokedAt != nil {
			t.Errorf("B's account changed across the wall: %+v", after.Account)
		}
		for _, coll := range []string{"groups", "profiles", "operators"} {
			if code, out := bIn.do("GET", "/api/v1/"+coll+"/"+b.only[coll], ""); code != 200 {
				t.Errorf("B's %s after the walk: %d %.200s", coll, code, out)
			}
		}
	})
}
