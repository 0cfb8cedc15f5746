package web_test

// The HTTP part of the attack suite: what anyone who can reach activator's
// address may try, each against a whole server on loopback, on defaults
// `activator serve` uses. The rest of the suite lives beside what it
// attacks:
//
//   - a csr or an auditor cannot reach admin routes: TestRolesFromTheRouteTable
//     (api_test.go) tries every API route with each role's token, and
//     TestConsoleRolesFromTheRouteTable (console/console_roles_test.go)
//     every console route with each role's session;
//   - a console form posted without its session's CSRF token, or with
//     another session's, changes nothing: TestConsoleRefusesFormsWithoutCSRF
//     (console/console_roles_test.go);
//   - every admin route refuses a missing or a wrong API token:
//     TestAdminRoutesNeedAToken (api_test.go).
//
// Requests come from several loopback addresses (all of 127.0.0.0/8 is
// local on Linux): a client dials from its own with net.Dialer.LocalAddr.

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip, following no redirects. Its connections are closed when the
// test ends, before the server's: the server would wait for a connection
// dialled and never used.
func clientFrom(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c := &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// send makes one request through c and returns the status, headers and body.
func send(t *testing.T, c *http.Client, method, u string, body io.Reader, header http.Header) (int, http.Header, []byte) {
	t.Helper()
	code, h, b, err := try(c, method, u, body, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return code, h, b
}

// try is send for goroutines other than the test's.
func try(c *http.Client, method, u string, body io.Reader, header http.Header) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// guess is a well-formed link token nobody issued.
func guess() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, 32)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return "avl_" + string(b)
}

// TestAPIAuthenticatesBeforeRouting: without a working token every admin
// API path answers the same 401 with WWW-Authenticate: Bearer, known or
// unknown, any method, with // or not, so nobody learns the routes; with
// a token, routing answers (404, 405, the redirect to the clean path). The
// device API, receipts and the OpenAPI document stay public.
func TestAPIAuthenticatesBeforeRouting(t *testing.T) {
	s := startServer(t, "")
	paths := []struct{ method, path string }{
		{"GET", "/api/v1/accounts"},           // known
		{"GET", "/api/v1/no-such-route"},      // unknown
		{"PUT", "/api/v1/groups"},             // known path, unknown method
		{"GET", "/api/v1//accounts"},          // not clean
		{"GET", "/api/v1/groups/../accounts"}, // not clean either
		{"GET", "/api/v1"},
		{"GET", "/api/v2/accounts"},
		{"GET", "/api/v1/device/secrets"},    // unknown, beside the device API
		{"POST", "/api/v1/device//activate"}, // the device API, not clean
	}
	for _, p := range paths {
		for _, tok := range []string{"-", "ava_" + strings.Repeat("a", 32), "garbage"} {
			code, body, h := s.do(p.method, p.path, "", tok)
			if code != http.StatusUnauthorized || h.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s %s with token %q: %d (WWW-Authenticate %q) %.200s, want 401 with WWW-Authenticate: Bearer",
					p.method, p.path, tok, code, h.Get("WWW-Authenticate"), body)
				continue
			}
			if apiError(t, body).Code != "unauthorized" {
				t.Errorf("%s %s: %s", p.method, p.path, body)
			}
		}
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/api/v1/no-such-route", 404},
		{"GET", "/api/v2/accounts", 404},
		{"PUT", "/api/v1/groups", 404}, // the API's "no route" answers a method no route has, as before
		{"GET", "/api/v1//accounts", 307},
		{"GET", "/api/v1/accounts", 200},
	} {
		code, body, h := s.do(c.method, c.path, "", "")
		if code != c.want || (code == 404 && apiError(t, body).Code != "no_route") || (code == 307 && h.Get("Location") != "/api/v1/accounts") {
			t.Errorf("%s %s with the admin token: %d %.200s, want %d", c.method, c.path, code, body, c.want)
		}
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/openapi.json", "", 200},
		{"POST", "/api/v1/device/activate", `{}`, 400},
		{"GET", "/api/v1/device/activate", "", 404},
		{"GET", "/api/v1/device/config", "", 401}, // the device's own credential, not an operator's token
		{"POST", "/api/v1/receipts/nope/avr_x", "", 403},
	} {
		if code, body, _ := s.do(c.method, c.path, c.body, "-"); code != c.want {
			t.Errorf("public %s %s without a token: %d %.200s, want %d", c.method, c.path, code, body, c.want)
		}
	}
}

// preLogin reads the login form's double-submit cookie and token.
func preLogin(t *testing.T, s *testServer) (*http.Cookie, string) {
	t.Helper()
	code, h, page := send(t, clientFrom(t, "127.0.0.1"), "GET", s.url+"/console/login", nil, nil)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	cookies := (&http.Response{Header: h}).Cookies()
	if code != 200 || m == nil || len(cookies) == 0 {
		t.Fatalf("login form: %d", code)
	}
	return cookies[0], string(m[1])
}

// TestPublicBodiesAreBounded sends each route anyone may call a body far
// larger than it needs: each answers 413 with a clear error, whether the
// body says its length or not, before anything is written; the 2 MB name
// of a login never reaches the audit log.
func TestPublicBodiesAreBounded(t *testing.T) {
	s := startServer(t, "")
	ck, csrf := preLogin(t, s)
	huge := strings.Repeat("x", 2<<20)
	form := func(extra string) string { return "csrf=" + csrf + "&password=guess+number+one&name=" + extra }
	formHeader := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {ck.String()}}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	g := guess()
	big := strings.Repeat("a", 100<<10)
	for _, c := range []struct {
		name, method, path, body string
		header                   http.Header
	}{
		{"a login with a 2 MB name", "POST", "/console/login", form(huge), formHeader},
		{"a login with 100 KiB", "POST", "/console/login", form(big), formHeader},
		{"a set-password form", "POST", "/console/set-password/avp_" + g[4:], form(big) + "&password2=" + big, formHeader},
		{"a redeem", "POST", "/api/v1/device/activate", `{"token":"` + big + `","device":{"id":"x","platform":"ios"}}`, jsonHeader},
		{"an Open in Linphone", "POST", "/a/" + g + "/linphone", "x=" + big, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
		{"a receipt", "POST", "/api/v1/receipts/sms/avr_" + g[4:], "status=" + big + big, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
	} {
		for _, sized := range []bool{true, false} {
			var body io.Reader = strings.NewReader(c.body)
			if !sized { // no Content-Length: sent chunked, cut while it is read
				body = io.MultiReader(body)
			}
			code, h, out := send(t, clientFrom(t, "127.0.0.1"), c.method, s.url+c.path, body, c.header)
			if code != http.StatusRequestEntityTooLarge {
				if !sized && strings.Contains(c.path, "/linphone") {
					continue // it reads no body: the rest is never read
				}
				t.Errorf("%s (%d bytes, length given: %v): %d %.200s, want 413", c.name, len(c.body), sized, code, out)
				continue
			}
			if !bytes.Contains(bytes.ToLower(out), []byte("too large")) {
				t.Errorf("%s: 413 without saying why: %.300s", c.name, out)
			}
			if strings.HasPrefix(c.path, "/api/") && (!strings.HasPrefix(h.Get("Content-Type"), "application/json") || apiError(t, out).Code != "body_too_large") {
				t.Errorf("%s: 413 is not the API's JSON error: %s", c.name, out)
			}
		}
	}
	es, err := s.app.Domain.Audit.Log(context.Background(), activation.AuditFilter{Limit: 100}, tester)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if len(e.Actor) > 200 || len(e.Target) > 200 {
			t.Errorf("an audit entry of %d bytes of actor and %d of target: %.100s", len(e.Actor), len(e.Target), e.Actor)
		}
	}
	// The admin API's own bodies keep their megabyte.
	if code, body, _ := s.do("POST", "/api/v1/groups", `{"name":"`+big+`"}`, ""); code != 400 || apiError(t, body).Field != "name" {
		t.Errorf("an admin's 100 KiB group name: %d %.200s, want 400 naming the field", code, body)
	}
	if code, body, _ := s.do("POST", "/api/v1/groups", `{"name":"`+huge+`"}`, ""); code != http.StatusRequestEntityTooLarge || apiError(t, body).Code != "body_too_large" {
		t.Errorf("an admin's 2 MB body: %d %.200s, want 413", code, body)
	}
}

// TestFailedLoginRecordsABoundedName: what a failed login typed as its name
// reaches the audit log as a short, escaped prefix, never as typed: no
// terminal escapes, no line breaks, no bidirectional overrides.
func TestFailedLoginRecordsABoundedName(t *testing.T) {
	s := startServer(t, "")
	ck, csrf := preLogin(t, s)
	typed := "ada\x1b[2J\nadmin logged in\u202e" + strings.Repeat("é", 1000)
	form := url.Values{"csrf": {csrf}, "name": {typed}, "password": {"guess number one"}}
	code, _, _ := send(t, clientFrom(t, "127.0.0.1"), "POST", s.url+"/console/login", strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {ck.String()}})
	if code != http.StatusUnauthorized {
		t.Fatalf("the login: %d, want 401", code)
	}
	es, err := s.app.Domain.Audit.Log(context.Background(), activation.AuditFilter{Limit: 1}, tester)
	if err != nil || len(es) != 1 || es[0].Action != "POST /console/login" {
		t.Fatalf("the login's audit entry: %+v %v", es, err)
	}
	want := `ada\x1b[2J\x0aadmin logged in\u202e`
	for _, got := range []string{es[0].Actor, strings.TrimPrefix(es[0].Target, "session:")} {
		if len(got) > 110 || !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "…") || strings.ContainsAny(got, "\x1b\n\u202e") {
			t.Errorf("the audit log keeps %d bytes of the typed name: %.200q, want a prefix of 100 bytes starting %q", len(got), got, want)
		}
	}
}
