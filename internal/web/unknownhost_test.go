package web_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
)

// sentLink creates an account in c's organisation, sends it an e-mail and
// returns the link the outbox kept.
func sentLink(t *testing.T, c orgClient, name string) string {
	t.Helper()
	c.must("POST", "/api/v1/groups", `{"name":"sales-`+name+`"}`, 201, nil)
	var a model.Account
	c.must("POST", "/api/v1/accounts", `{"group":"sales-`+name+`","name":"`+name+`","email":"`+name+`@example.com"}`, 201, &a)
	c.must("POST", "/api/v1/accounts/"+a.Username+"/send", `{"channel":"email"}`, 201, nil)
	for range 500 {
		var box struct{ Outbox []model.OutboxItem }
		c.must("GET", "/api/v1/outbox", "", 200, &box)
		for _, it := range box.Outbox {
			if it.Recipient == name+"@example.com" {
				var whole model.OutboxItem
				c.must("GET", "/api/v1/outbox/"+jsonID(it.ID), "", 200, &whole)
				return secret.LinkTokens.FindString(whole.Body)
			}
		}
		time.Sleep(20 * time.Millisecond) // the worker delivers to the outbox
	}
	t.Fatalf("%s's message never reached the outbox", name)
	return ""
}

// atHost sends a request to the test server with Host: host.
func atHost(t *testing.T, s *testServer, host, method, path, body, auth string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s at %s: %v", method, path, host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestUnknownHostGetsTheNeutralPage: while the provider's organisation is
// the only one with a base URL, any host reaches it, as a single
// organisation's installation always has; once a customer has its own
// host, a host that is no organisation's and not the provider's (an IP
// address, localhost) gets a neutral page for the links' pages and the
// console, with nothing of any organisation and the provider's name only
// once it has set one, and the device API there knows no link; the admin
// API and the health checks keep answering.
func TestUnknownHostGetsTheNeutralPage(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		u, _ := url.Parse(s.url)
		stranger := "stranger.example:" + u.Port()
		provider := orgClient{s: s, token: s.token}
		homeLink := sentLink(t, provider, "grace")

		// One organisation: every host is the provider's.
		if code, page := atHost(t, s, stranger, "GET", "/a/"+homeLink, "", ""); code != 200 || strings.Contains(page, "Nothing to see") {
			t.Fatalf("a single organisation's link at another host name: %d", code)
		}
		if code, _ := atHost(t, s, stranger, "GET", "/console/login", "", ""); code != 200 {
			t.Fatalf("a single organisation's console at another host name: %d", code)
		}

		acmeHost := "localhost:" + u.Port()
		provider.must("POST", "/api/v1/orgs", `{"name":"ACME Corp","slug":"acme","base_url":"http://`+acmeHost+`"}`, 201, nil)
		acme := provider
		acme.org = "acme"
		acme.must("PUT", "/api/v1/settings/brand_logo_url", `{"value":"https://cdn.acme.example/logo.png"}`, 200, nil)
		acmeLink := sentLink(t, acme, "ada")

		neutral := func(what, path string, want ...string) {
			t.Helper()
			code, page := atHost(t, s, stranger, "GET", path, "", "")
			if code != 404 || !strings.Contains(page, "Nothing to see at this address") {
				t.Errorf("%s at an unknown host: %d, want the neutral page:\n%.400s", what, code, page)
			}
			for _, leak := range []string{"ACME", "acme.example", "grace", "ada", "<img", "password"} {
				if strings.Contains(page, leak) {
					t.Errorf("%s at an unknown host shows %q", what, leak)
				}
			}
			for _, w := range want {
				if !strings.Contains(page, w) {
					t.Errorf("%s at an unknown host lacks %q", what, w)
				}
			}
		}
		neutral("acme's link", "/a/"+acmeLink)
		neutral("the provider's link", "/a/"+homeLink)
		neutral("the provider's activation file", "/a/"+homeLink+"/activation")
		neutral("the console's login", "/console/login")
		neutral("the console", "/console/")
		neutral("the index", "/")
		if code, page := atHost(t, s, stranger, "GET", "/a/"+homeLink, "", ""); code == 404 && strings.Contains(page, "run by") {
			t.Errorf("the neutral page names a provider that has no name: %.400s", page)
		}

		// The device API knows no link there; the admin API and the
		// health checks answer as anywhere.
		redeem, _ := json.Marshal(model.RedeemRequest{Token: acmeLink, Device: model.DeviceInfo{ID: "phone-1", Platform: "android"}})
		if code, out := atHost(t, s, stranger, "POST", "/api/v1/device/activate", string(redeem), ""); code != 404 || !strings.Contains(out, "link_unknown") {
			t.Errorf("redeeming acme's link at an unknown host: %d %s, want 404 link_unknown", code, out)
		}
		if code, _ := atHost(t, s, stranger, "GET", "/api/v1/groups", "", s.token); code != 200 {
			t.Errorf("the admin API at an unknown host: %d", code)
		}
		if code, _ := atHost(t, s, stranger, "GET", "/healthz", "", ""); code != 200 {
			t.Errorf("/healthz at an unknown host: %d", code)
		}

		// The organisation's host, the listen address, localhost's IP and a
		// host name's letter case keep working as before.
		for _, c := range []struct{ host, link string }{
			{acmeHost, acmeLink}, {strings.ToUpper(acmeHost), acmeLink}, {u.Host, acmeLink}, {u.Host, homeLink}, {"[::1]:" + u.Port(), homeLink},
		} {
			if code, _ := atHost(t, s, c.host, "GET", "/a/"+c.link, "", ""); code != 200 {
				t.Errorf("the landing page of %s at %s: %d, want 200", secret.Display(c.link), c.host, code)
			}
		}
		if code, _ := atHost(t, s, u.Host, "GET", "/console/login", "", ""); code != 200 {
			t.Errorf("the provider's console at the listen address: %d", code)
		}

		// Once the provider names itself, the neutral page says who runs the server.
		provider.must("PUT", "/api/v1/settings/company_name", `{"value":"Provider Telecom"}`, 200, nil)
		neutral("the console, the provider named", "/console/", "This server is run by Provider Telecom.")
	})
}

// TestAHostThatCannotBeRoutedIsLogged: when whose host a request came to
// cannot be told (the database is gone from under the server), the
// request is not taken for the provider's host, which reaches every
// organisation's links, and the log says why.
func TestAHostThatCannotBeRoutedIsLogged(t *testing.T) {
	var logged logBuffer
	s := startServerWith(t, apptest.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	u, _ := url.Parse(s.url)
	provider := orgClient{s: s, token: s.token}
	homeLink := sentLink(t, provider, "grace")
	provider.must("POST", "/api/v1/orgs", `{"name":"ACME Corp","slug":"acme","base_url":"http://localhost:`+u.Port()+`"}`, 201, nil)
	if code, _ := atHost(t, s, u.Host, "GET", "/a/"+homeLink, "", ""); code != 200 {
		t.Fatalf("the provider's link at the provider's host: %d", code)
	}
	if err := s.app.Store.Close(); err != nil {
		t.Fatal(err)
	}
	// The names are read again once their cache is stale.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logged.String(), `msg="routing a request by its host"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no log of the host that could not be routed:\n%s", logged.String())
		}
		if code, _ := atHost(t, s, u.Host, "GET", "/a/"+homeLink, "", ""); code == 200 {
			t.Fatal("a link answered with the database closed")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
