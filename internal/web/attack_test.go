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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web"
	"github.com/activator-voip/activator/internal/web/ratelimit"
)

// defaultLimits are `activator serve`'s limits, which the attack suite
// attacks.
var defaultLimits = web.Limits{Public: ratelimit.DefaultPublic, Login: ratelimit.DefaultLogin}

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

// logBuffer collects a server's log lines from its goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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

var linkTokenRe = regexp.MustCompile(`avl_[a-z2-7]{32}`)

// issueLink makes an account and sends it an activation link; the token
// comes from the queued message, as its recipient would read it.
func issueLink(t *testing.T, s *testServer, name string) string {
	t.Helper()
	ctx := context.Background()
	dom, by := s.app.Domain, activation.Caller{Name: "test", Role: "admin", OrgID: model.DefaultOrgID}
	group := "attack"
	if _, err := dom.Groups.Get(ctx, group, by); err != nil {
		if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: &group}, by); err != nil {
			t.Fatal(err)
		}
	}
	email := strings.ToLower(name) + "@example.com"
	a, err := dom.Accounts.Create(ctx, model.AccountInput{Group: &group, Name: &name, Email: &email}, by)
	if err != nil {
		t.Fatal(err)
	}
	res, err := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: model.ChannelEmail}, by)
	if err != nil {
		t.Fatal(err)
	}
	tok := linkTokenRe.FindString(res.Message.Body)
	if tok == "" {
		t.Fatalf("no link in %q", res.Message.Body)
	}
	return tok
}

func retryAfter(t *testing.T, h http.Header) int {
	t.Helper()
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("429 with Retry-After %q, want a number of seconds", h.Get("Retry-After"))
	}
	return n
}

// TestGuessedLinksAreThrottled guesses 1,000 links from one address, as
// fast as eight clients can: most are refused with 429 and Retry-After,
// the server stays up, the address's other public requests (redeem,
// device configuration, Linphone URLs, activation files) are refused too,
// another address still gets through, X-Forwarded-For (which anyone can
// write) changes nothing, and the log says so in one line, without a token.
func TestGuessedLinksAreThrottled(t *testing.T) {
	var logs logBuffer
	s := startServerWith(t, apptest.Options{Limits: defaultLimits, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	attacker := clientFrom(t, "127.0.0.1")
	var (
		mu        sync.Mutex
		codes     = map[int]int{}
		noRetry   int
		failures  []error
		guesses   = make(chan int)
		wg        sync.WaitGroup
		guessedRe = regexp.MustCompile(`av[ld]_[a-z2-7]{32}`)
	)
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for i := range guesses {
				// A forged X-Forwarded-For per request: believed, it would make each guess a new source.
				h := http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", i%250+1)}}
				code, hdr, _, err := try(attacker, "GET", s.url+"/a/"+guess(), nil, h)
				mu.Lock()
				codes[code]++
				if err != nil {
					failures = append(failures, err)
				}
				if n, err := strconv.Atoi(hdr.Get("Retry-After")); code == http.StatusTooManyRequests && (err != nil || n < 1) {
					noRetry++
				}
				mu.Unlock()
			}
		})
	}
	for i := range 1000 {
		guesses <- i
	}
	close(guesses)
	wg.Wait()
	took := time.Since(start)
	if codes[http.StatusTooManyRequests] < 500 || codes[http.StatusNotFound]+codes[http.StatusTooManyRequests] != 1000 || noRetry > 0 {
		t.Fatalf("1,000 guessed links in %v answered %v (%d refusals without Retry-After, errors %v): want most of them 429 and the rest 404",
			took, codes, noRetry, failures)
	}
	t.Logf("1,000 guessed links in %v: %v", took, codes)

	if code, _, _ := send(t, attacker, "GET", s.url+"/healthz", nil, nil); code != 200 {
		t.Fatalf("after the guessing /healthz answered %d", code)
	}
	g := guess()
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/device/activate", `{"token":"` + g + `","device":{"id":"x","platform":"ios"}}`},
		{"GET", "/api/v1/device/config", ""},
		{"GET", "/a/" + g + "/activation", ""},
		{"GET", "/a/" + g + "/install", ""},
		{"GET", "/a/" + g + "/qr.svg", ""},
		{"POST", "/a/" + g + "/linphone", ""},
		{"GET", "/p/linphone/avd_" + g[4:], ""},
	} {
		// The bucket refills while the test runs (5 a second at 300/m):
		// a refilled token may let one request through, never a run of them.
		code, h, body := send(t, attacker, c.method, s.url+c.path, strings.NewReader(c.body), nil)
		for try := 0; code != http.StatusTooManyRequests && try < 3; try++ {
			code, h, body = send(t, attacker, c.method, s.url+c.path, strings.NewReader(c.body), nil)
		}
		if code != http.StatusTooManyRequests {
			t.Errorf("%s %s from the guessing address: %d four times in a row, want 429", c.method, c.path, code)
			continue
		}
		retryAfter(t, h)
		if strings.HasPrefix(c.path, "/api/") && apiError(t, body).Code != "rate_limited" {
			t.Errorf("%s %s: %s", c.method, c.path, body)
		}
	}
	// The admin API is an operator's: a valid token is not held up.
	if code, _, body := send(t, attacker, "GET", s.url+"/api/v1/accounts", nil, http.Header{"Authorization": {"Bearer " + s.token}}); code != 200 {
		t.Errorf("the admin API from the guessing address: %d %s", code, body)
	}

	// Someone else, at another address, opens their link.
	tok := issueLink(t, s, "Ada")
	other := clientFrom(t, "127.0.0.2")
	if code, _, body := send(t, other, "GET", s.url+"/a/"+tok, nil, nil); code != 200 {
		t.Fatalf("a real link from another address: %d %.300s", code, body)
	}
	if code, _, _ := send(t, other, "GET", s.url+"/a/"+guess(), nil, nil); code != http.StatusNotFound {
		t.Fatalf("a guess from another address: %d, want 404", code)
	}

	// One line about the guessing address per minute of refusals, naming no token.
	out := logs.String()
	lines := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "rate limit") && strings.Contains(l, "source=127.0.0.1 ") {
			lines++
		}
	}
	if max := 1 + int(time.Since(start)/ratelimit.LogEvery); lines < 1 || lines > max {
		t.Errorf("%d log lines about the refused address, want 1 to %d:\n%.2000s", lines, max, out)
	}
	if guessedRe.MatchString(out) || strings.Contains(out, tok) {
		t.Errorf("the log holds a token:\n%.2000s", out)
	}
}

// TestLoginAndTokenGuessingAreThrottled: an address gets as many console
// logins and as many wrong API tokens as the login limit allows, then
// 429s, while others log in and call the API as before; an operator's
// working token is never counted.
func TestLoginAndTokenGuessingAreThrottled(t *testing.T) {
	s := startServerWith(t, apptest.Options{Limits: defaultLimits})
	n := ratelimit.DefaultLogin.N

	login := func(c *http.Client) (int, http.Header) {
		code, _, page := send(t, c, "GET", s.url+"/console/login", nil, nil)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
		if code != 200 || m == nil {
			t.Fatalf("login form: %d", code)
		}
		form := url.Values{"csrf": {string(m[1])}, "name": {"mallory"}, "password": {"guess number one"}}
		code, h, _ := send(t, c, "POST", s.url+"/console/login", strings.NewReader(form.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		return code, h
	}
	jarClient := func(ip string) *http.Client {
		c := clientFrom(t, ip)
		c.Jar, _ = cookiejar.New(nil)
		return c
	}
	// until refused: a burst of n, and one more each time the limit refills
	// while the (slow, argon2id) wrong passwords are checked
	untilRefused := func(try func(i int) (int, http.Header), want int) {
		t.Helper()
		start := time.Now()
		for i := range 3 * n {
			code, h := try(i)
			if code == http.StatusTooManyRequests {
				retryAfter(t, h)
				refills := int(time.Since(start) * time.Duration(n) / ratelimit.DefaultLogin.Per)
				if i < n || i > n+refills {
					t.Fatalf("refused after %d tries in %v, want %d and up to %d refills", i, time.Since(start), n, refills)
				}
				return
			}
			if code != want {
				t.Fatalf("try %d: %d, want %d", i+1, code, want)
			}
		}
		t.Fatalf("%d tries, none refused", 3*n)
	}
	guesser := jarClient("127.0.0.3")
	untilRefused(func(int) (int, http.Header) { return login(guesser) }, http.StatusUnauthorized)
	if code, _ := login(jarClient("127.0.0.4")); code != http.StatusUnauthorized {
		t.Fatalf("a login from another address: %d, want 401", code)
	}

	bad := http.Header{"Authorization": {"Bearer ava_" + strings.Repeat("a", 32)}}
	good := http.Header{"Authorization": {"Bearer " + s.token}}
	tokenGuesser := clientFrom(t, "127.0.0.5")
	untilRefused(func(int) (int, http.Header) {
		code, h, _ := send(t, tokenGuesser, "GET", s.url+"/api/v1/accounts", nil, bad)
		if code == http.StatusUnauthorized && h.Get("WWW-Authenticate") != "Bearer" {
			t.Fatalf("401 without WWW-Authenticate: Bearer")
		}
		return code, h
	}, http.StatusUnauthorized)
	for _, h := range []http.Header{bad, good, nil} { // refused before any token is checked
		code, hdr, body := send(t, tokenGuesser, "GET", s.url+"/api/v1/accounts", nil, h)
		if code != http.StatusTooManyRequests || apiError(t, body).Code != "rate_limited" {
			t.Fatalf("after %d wrong tokens: %d %s, want 429", n, code, body)
		}
		retryAfter(t, hdr)
	}
	operator := clientFrom(t, "127.0.0.6")
	for i := range 3 * n {
		if code, _, body := send(t, operator, "GET", s.url+"/api/v1/accounts", nil, good); code != 200 {
			t.Fatalf("request %d with a working token: %d %s", i+1, code, body)
		}
	}
}

// TestXForwardedForOnlyFromTrustedProxies: behind a trusted proxy each
// client has its own limit, read from X-Forwarded-For; from anyone else
// the header is ignored.
func TestXForwardedForOnlyFromTrustedProxies(t *testing.T) {
	s := startServerWith(t, apptest.Options{Limits: web.Limits{
		Public:         ratelimit.Rate{N: 5, Per: time.Hour},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.7/32")},
	}})
	proxy, stranger := clientFrom(t, "127.0.0.7"), clientFrom(t, "127.0.0.8")
	count := func(c *http.Client, xff func(i int) string) (refused int) {
		for i := range 10 {
			code, _, _ := send(t, c, "GET", s.url+"/a/"+guess(), nil, http.Header{"X-Forwarded-For": {xff(i)}})
			if code == http.StatusTooManyRequests {
				refused++
			}
		}
		return refused
	}
	if r := count(proxy, func(int) string { return "203.0.113.1" }); r != 5 {
		t.Errorf("one client through the proxy: %d of 10 refused, want 5", r)
	}
	if r := count(proxy, func(int) string { return "6.6.6.6, 203.0.113.2" }); r != 5 {
		t.Errorf("another client through the proxy (with a forged hop): %d of 10 refused, want 5", r)
	}
	if r := count(proxy, func(i int) string { return fmt.Sprintf("203.0.113.%d, 203.0.113.1", 10+i) }); r != 10 {
		t.Errorf("the first client forging hops to the left of the proxy's: %d of 10 refused, want all", r)
	}
	if r := count(stranger, func(i int) string { return fmt.Sprintf("203.0.113.%d", 100+i) }); r != 5 {
		t.Errorf("a client that is no proxy, sending its own X-Forwarded-For: %d of 10 refused, want 5", r)
	}
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
		{"PUT", "/api/v1/groups", 405}, // a method no route of the path has: 405 with Allow, once authenticated
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
		{"GET", "/api/v1/device/activate", "", 405},
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
	want := `ada\x1b[2J\nadmin logged in\u202e`
	for _, got := range []string{es[0].Actor, strings.TrimPrefix(es[0].Target, "session:")} {
		if len(got) > 64 || !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "...") || strings.ContainsAny(got, "\x1b\n\u202e") {
			t.Errorf("the audit log keeps %d bytes of the typed name: %.200q, want at most 64 bytes starting %q", len(got), got, want)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and
// returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "activator test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
	return certFile, keyFile, pool
}

// TestCookiesAreSecureOverHTTPS: behind a proxy that terminates TLS
// (public_base_url on https) the console's cookies are Secure and every
// answer carries Strict-Transport-Security, as when activator terminates
// TLS itself; served over plain http, as it is until public_base_url is
// set, neither.
func TestCookiesAreSecureOverHTTPS(t *testing.T) {
	check := func(t *testing.T, c *http.Client, base string, secure bool) {
		t.Helper()
		code, h, _ := send(t, c, "GET", base+"/console/login", nil, nil)
		cookies := (&http.Response{Header: h}).Cookies()
		if code != 200 || len(cookies) != 1 {
			t.Fatalf("login form: %d, cookies %v", code, cookies)
		}
		if cookies[0].Secure != secure {
			t.Errorf("the login form's cookie %s: Secure %v, want %v", cookies[0].Name, cookies[0].Secure, secure)
		}
		for _, p := range []string{"/console/login", "/healthz", "/api/v1/openapi.json", "/a/" + guess(), "/api/v1/accounts"} {
			_, h, _ := send(t, c, "GET", base+p, nil, nil)
			if hsts := h.Get("Strict-Transport-Security"); (hsts != "") != secure || (secure && !strings.HasPrefix(hsts, "max-age=")) {
				t.Errorf("GET %s: Strict-Transport-Security %q (served over https: %v)", p, hsts, secure)
			}
		}
	}
	t.Run("organisation", func(t *testing.T) {
		// One listener: an organisation whose base URL is https gets both
		// at its own host, the provider's plain-http host neither.
		s := startServer(t, "")
		u, _ := url.Parse(s.url)
		s.mustDo("POST", "/api/v1/orgs", `{"name":"ACME Corp","slug":"acme","base_url":"https://localhost:`+u.Port()+`"}`, 201)
		check(t, clientFrom(t, "127.0.0.1"), "http://localhost:"+u.Port(), true)
		check(t, clientFrom(t, "127.0.0.1"), s.url, false)
	})
	t.Run("proxy", func(t *testing.T) {
		s := startServer(t, "")
		check(t, clientFrom(t, "127.0.0.1"), s.url, false)
		s.mustDo("PUT", "/api/v1/settings/public_base_url", `{"value":"https://activate.example.com"}`, 200)
		check(t, clientFrom(t, "127.0.0.1"), s.url, true)
		// Logging in: the session cookie is Secure too.
		addr := "127.0.0.1"
		name := "ada"
		role := model.RoleAdmin
		created, err := s.app.Domain.Operators.Create(context.Background(), model.OperatorInput{Name: &name, Role: &role}, activation.Caller{Name: "test", Role: "admin", OrgID: model.DefaultOrgID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.app.Domain.Access.SetPassword(context.Background(), created.SetPasswordURL[strings.LastIndex(created.SetPasswordURL, "/")+1:], "password of ada"); err != nil {
			t.Fatal(err)
		}
		ck, csrf := preLogin(t, s)
		form := url.Values{"csrf": {csrf}, "name": {"ada"}, "password": {"password of ada"}}
		code, h, _ := send(t, clientFrom(t, addr), "POST", s.url+"/console/login", strings.NewReader(form.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {ck.String()}})
		cookies := (&http.Response{Header: h}).Cookies()
		if code != http.StatusSeeOther || len(cookies) != 1 || cookies[0].Name != "activator_session" || !cookies[0].Secure || !cookies[0].HttpOnly {
			var got []string
			for _, c := range cookies {
				got = append(got, fmt.Sprintf("%s (Secure %v, HttpOnly %v)", c.Name, c.Secure, c.HttpOnly))
			}
			t.Fatalf("logging in behind the proxy: %d, cookies %v; want a Secure, HttpOnly session cookie", code, got)
		}
	})
	t.Run("tls", func(t *testing.T) {
		cert, key, pool := selfSigned(t, t.TempDir())
		s := startServerWith(t, apptest.Options{TLSCert: cert, TLSKey: key})
		if !strings.HasPrefix(s.url, "https://") {
			t.Fatalf("served at %s", s.url)
		}
		c := clientFrom(t, "127.0.0.1")
		c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
		check(t, c, s.url, true)
	})
}
