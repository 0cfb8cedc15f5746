package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// outageSends is how many activations the outage test's bulk send sends.
const outageSends = 2000

// TestPostgresOutage stops a PostgreSQL cluster of the test's own under a
// serving activator: people's pages (a link's landing page, the console)
// answer 503 with Retry-After and an HTML page, the admin API 503 with
// its JSON error, and the log says once what is wrong. Started again, the
// same process serves again, with no restart, within 10 s. A bulk send of
// 2,000 activations (an import with send) that the outage interrupts
// finishes by itself once the database is back: every recipient gets one.
func TestPostgresOutage(t *testing.T) {
	t.Parallel() // long: it runs beside the other end-to-end tests
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

	// A bulk send, under way when the database goes.
	var csv strings.Builder
	csv.WriteString("full name,mobile number\n")
	recipients := make([]string, outageSends)
	for i := range outageSends {
		recipients[i] = fmt.Sprintf("+39335%07d", i)
		fmt.Fprintf(&csv, "User %d,%s\n", i, recipients[i])
	}
	req, _ := http.NewRequest("POST", a.base+"/imports?group=field&send=sms", strings.NewReader(csv.String()))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var prev model.ImportPreview
	json.NewDecoder(resp.Body).Decode(&prev)
	resp.Body.Close()
	if resp.StatusCode != 201 || prev.Create != outageSends {
		t.Fatalf("preview: %d %+v", resp.StatusCode, prev)
	}
	importPath := fmt.Sprintf("/imports/%d", prev.ID)
	var st model.ImportStatus
	a.do(t, "POST", importPath+"/confirm", nil, &st)
	if st.State != model.ImportSending {
		t.Fatalf("confirmed: %+v", st)
	}
	for st.Sent < outageSends/5 && st.State == model.ImportSending {
		time.Sleep(5 * time.Millisecond)
		a.do(t, "GET", importPath, nil, &st)
	}
	if st.State != model.ImportSending {
		t.Fatalf("the bulk send finished before the outage could interrupt it: %+v", st)
	}

	pg.stop(t)
	stopped := time.Now()
	if code, _, body := get(srv.url+"/readyz", nil); code != http.StatusServiceUnavailable || !strings.Contains(body, "database unreachable") {
		t.Errorf("/readyz with the database away: want 503 naming the database; got %d %q", code, body)
	}

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
	pg.start(t)
	restarted := time.Now()
	atOutage := st.Sent
	t.Logf("the database was away for %v of requests", time.Since(stopped).Round(time.Millisecond))

	deadline := restarted.Add(10 * time.Second)
	for {
		lc, _, _ := get(landing, nil)
		ac, _, _ := get(a.base+"/accounts", nil)
		rc, _, _ := get(srv.url+"/readyz", nil)
		if lc == 404 && ac == 200 && rc == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after PostgreSQL started again: landing page %d, API %d, /readyz %d; log:\n%s", lc, ac, rc, readFile(t, srv.logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("serving again %v after PostgreSQL started again, with no restart", time.Since(restarted).Round(time.Millisecond))

	// The bulk send goes on by itself, nobody asking.
	deadline = time.Now().Add(2 * time.Minute)
	for {
		a.do(t, "GET", importPath, nil, &st)
		if st.State == model.ImportDone && len(stand.counts()) == outageSends {
			break
		}
		if time.Now().After(deadline) || t.Failed() {
			t.Fatalf("the bulk send did not finish by itself after the outage: %+v; %d recipients reached", st, len(stand.counts()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the bulk send of %d, interrupted at %d sent, finished by itself %v after PostgreSQL started again", outageSends, atOutage, time.Since(restarted).Round(time.Millisecond))
	for r, n := range stand.counts() {
		if n != 1 {
			t.Errorf("%s got %d messages", r, n)
		}
	}
	if st.LastError != "" {
		t.Errorf("the finished bulk send still shows an error: %q", st.LastError)
	}

	log := readFile(t, srv.logPath)
	if n := strings.Count(log, "the database is unavailable;"); n != 1 {
		t.Errorf("the log says %d times that the database is unavailable, want once for the outage:\n%s", n, log)
	}
	if !strings.Contains(log, "the database works again") {
		t.Errorf("the log does not say the database works again:\n%s", log)
	}
	srv.stop(t)
}
