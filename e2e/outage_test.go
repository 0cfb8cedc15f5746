package e2e_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// TestPostgresOutage stops a PostgreSQL cluster of the test's own under a
// serving activator: people's pages (a link's landing page, the console)
// answer 503 with Retry-After and an HTML page, the admin API 503 with
// its JSON error, and the log says once what is wrong. Started again, the
// same process serves again, with no restart, within 10 s.
func TestPostgresOutage(t *testing.T) {
	pg := newPGCluster(t)
	bin := buildBinary(t, t.TempDir())
	stand := &smsStandIn{got: map[string]int{}}
	provider := httptest.NewServer(stand)
	defer provider.Close()

	env := []string{"ACTIVATOR_SIP_UDP=off", "ACTIVATOR_SIP_TCP=off", "ACTIVATOR_SIP_TLS=off"}
	srv := startServe(t, bin, serveOptions{database: pg.dsn(), httpOnly: true, env: env})
	token := strings.TrimSpace(readFile(t, filepath.Join(srv.dataDir, "admin.token")))
	a := &api{base: srv.url + "/api/v1", token: token, hc: &http.Client{Timeout: 30 * time.Second}}
	a.do(t, "POST", "/groups", model.GroupInput{Name: strp("field")}, nil)
	a.do(t, "POST", "/gateways", model.GatewayInput{Name: strp("sms"), KindName: strp("twilio"), DefaultFor: strp("sms"),
		Settings: map[string]string{"account_sid": "AC1", "auth_token": "tok", "from": "+15005550006", "base_url": provider.URL}}, nil)
	var acc model.Account
	a.do(t, "POST", "/accounts", model.AccountInput{Group: strp("field"), Name: strp("Ada Lovelace"), Mobile: strp("+393330000001")}, &acc)
	if t.Failed() {
		t.FailNow()
	}
	// A link nobody issued: its page still asks the database (404 when it answers).
	landing := srv.url + "/a/" + unknownToken
	console := srv.url + "/console/accounts"
	// A well-formed session cookie: the console must ask the database about it.
	cookie := &http.Cookie{Name: "activator_session", Value: "avs_" + strings.Repeat("a", 32)}

	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(url string, c *http.Cookie) (int, http.Header, string) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept-Language", "it")
		if c != nil {
			req.AddCookie(c)
		}
		if strings.Contains(url, "/api/") {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, nil, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	if code, _, body := get(landing, nil); code != 404 {
		t.Fatalf("landing page before the outage: %d %s", code, body)
	}

	pg.stop(t)
	stopped := time.Now()
	// readyz: checked once /readyz lands

	code, h, body := get(landing, nil)
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "<html") || !strings.Contains(body, "Riprova") {
		t.Errorf("landing page with the database away: want 503, Retry-After and an HTML page in the asked language; got %d %v\n%s", code, h, body)
	}
	code, h, body = get(console, cookie)
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "database") {
		t.Errorf("console with the database away: want 503, Retry-After and an HTML page naming the database; got %d %v\n%s", code, h, body)
	}
	for range 3 { // several requests, a second apart: the log must still say it once
		time.Sleep(time.Second)
		code, h, body = get(a.base+"/accounts", nil)
		var e model.ErrorBody
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || json.Unmarshal([]byte(body), &e) != nil ||
			e.Error.Code != "database_unavailable" || strings.Contains(body, "postgres@") {
			t.Errorf("admin API with the database away: want 503, Retry-After and the JSON error database_unavailable; got %d %v\n%s", code, h, body)
		}
	}
	t.Logf("the database was away for %v of requests", time.Since(stopped).Round(time.Millisecond))

	pg.start(t)
	restarted := time.Now()
	deadline := restarted.Add(10 * time.Second)
	for {
		lc, _, _ := get(landing, nil)
		ac, _, _ := get(a.base+"/accounts", nil)
		if lc == 404 && ac == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after PostgreSQL started again: landing page %d, API %d; log:\n%s", lc, ac, readFile(t, srv.logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("serving again %v after PostgreSQL started again, with no restart", time.Since(restarted).Round(time.Millisecond))

	log := readFile(t, srv.logPath)
	if n := strings.Count(log, "the database is unavailable;"); n != 1 {
		t.Errorf("the log says %d times that the database is unavailable, want once for the outage:\n%s", n, log)
	}
	if !strings.Contains(log, "the database works again") {
		t.Errorf("the log does not say the database works again:\n%s", log)
	}
	srv.stop(t)
}
