package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
)

// fill puts a plausible value in each wildcard of a route pattern.
func fill(pattern string) string {
	r := strings.NewReplacer("{name}", "nosuch", "{username}", "1234567890", "{id}", "1", "{key}", model.SettingCompanyName,
		"{platform}", "android", "{channel}", "sms", "{token}", "avl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"{gateway}", "nosuch", "{credential}", "avd_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	return r.Replace(pattern)
}

// send sends one request with the admin token, the body and Content-Type given.
func (s *testServer) send(method, path, contentType string, body []byte) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp, buf.Bytes()
}

func errorCode(body []byte) string {
	var eb model.ErrorBody
	json.Unmarshal(body, &eb)
	return eb.Error.Code
}

// TestEveryPathAnswers405WithAllow walks the route table: on every API
// path, every method no route of that path takes answers 405 with an
// Allow header listing exactly the methods the table has for it.
func TestEveryPathAnswers405WithAllow(t *testing.T) {
	s := startServer(t, "")
	methods := map[string][]string{}
	for _, rt := range s.app.Web.Routes() {
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	walked := 0
	for path, ms := range methods {
		if !strings.HasPrefix(path, "/api/") {
			continue // the pages: net/http's own 405, with Allow
		}
		want := slices.Clone(ms)
		if slices.Contains(want, http.MethodGet) {
			want = append(want, http.MethodHead)
		}
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if slices.Contains(ms, m) {
				continue
			}
			resp, body := s.send(m, fill(path), "application/json", []byte(`{}`))
			allow := strings.Split(resp.Header.Get("Allow"), ", ")
			sort.Strings(allow)
			sort.Strings(want)
			if resp.StatusCode != http.StatusMethodNotAllowed || !slices.Equal(allow, want) || errorCode(body) != "method_not_allowed" {
				t.Errorf("%s %s: %d Allow %q, want 405 Allow %q: %s", m, path, resp.StatusCode, resp.Header.Get("Allow"), strings.Join(want, ", "), body)
			}
			walked++
		}
	}
	if walked < 50 {
		t.Fatalf("only %d path and method pairs walked", walked)
	}
	// A path no route has is still a 404.
	if resp, body := s.send(http.MethodGet, "/api/v1/nosuch", "", nil); resp.StatusCode != 404 || errorCode(body) != "no_route" {
		t.Errorf("an unknown path: %d %s", resp.StatusCode, body)
	}
}

// TestBodiesNeedTheirMediaTypeAnObjectAndABound walks the route table:
// every route taking a JSON body answers 415 to a body without a
// Content-Type or with another one, 400 to null, and 413 to a body over
// its bound; the CSV upload answers 415 to JSON.
func TestBodiesNeedTheirMediaTypeAnObjectAndABound(t *testing.T) {
	s := startServer(t, "")
	walked := 0
	for _, rt := range s.app.Web.JSONBodyRoutes() {
		path := fill(rt.Path)
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "text/csv"} {
			resp, body := s.send(rt.Method, path, ct, []byte(`{}`))
			if resp.StatusCode != http.StatusUnsupportedMediaType || errorCode(body) != "unsupported_media_type" || !strings.Contains(string(body), "application/json") {
				t.Errorf("%s %s with Content-Type %q: %d %s, want 415 naming application/json", rt.Method, rt.Path, ct, resp.StatusCode, body)
			}
		}
		if resp, body := s.send(rt.Method, path, "application/json; charset=utf-8", []byte(" null ")); resp.StatusCode != 400 || !strings.Contains(string(body), "not null") {
			t.Errorf("%s %s with null: %d %s, want 400", rt.Method, rt.Path, resp.StatusCode, body)
		}
		big := append([]byte(`{"name":"`), bytes.Repeat([]byte("x"), 1<<20)...)
		if resp, body := s.send(rt.Method, path, "application/json", append(big, `"}`...)); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s with a 1 MiB body: %d %.200s, want 413", rt.Method, rt.Path, resp.StatusCode, body)
		}
		walked++
	}
	if walked < 15 {
		t.Fatalf("only %d routes with a JSON body walked", walked)
	}
	for _, ct := range []string{"", "application/json"} {
		if resp, body := s.send(http.MethodPost, "/api/v1/imports?group=sales", ct, []byte("Full name\nAda\n")); resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(string(body), "text/csv") {
			t.Errorf("an import upload with Content-Type %q: %d %s, want 415 naming text/csv", ct, resp.StatusCode, body)
		}
	}
	if resp, body := s.send(http.MethodPost, "/api/v1/imports?group=nosuch", "text/csv; charset=utf-8", []byte("Full name\nAda\n")); resp.StatusCode != 400 {
		t.Errorf("a CSV import upload: %d %s, want the domain's 400 about the group", resp.StatusCode, body)
	}
}

// A group's gateway override is changed only by a body that names the
// gateway: {} and null are refused and leave the override as it was.
func TestGroupGatewayNeedsTheGatewayNamed(t *testing.T) {
	s := startServer(t, "")
	if code, body, _ := s.do("POST", "/api/v1/groups", `{"name":"sales"}`, ""); code != 201 {
		t.Fatalf("group: %d %s", code, body)
	}
	gw := `{"name":"sms-main","kind":"twilio","settings":{"account_sid":"AC1","auth_token":"tok","from":"+15005550006","base_url":"http://127.0.0.1:9"}}`
	if code, body, _ := s.do("POST", "/api/v1/gateways", gw, ""); code != 201 {
		t.Fatalf("gateway: %d %s", code, body)
	}
	if code, body, _ := s.do("PUT", "/api/v1/groups/sales/gateways/sms", `{"gateway":"sms-main"}`, ""); code != 204 {
		t.Fatalf("setting the override: %d %s", code, body)
	}
	for _, b := range []string{`{}`, `null`, `{"gateway":null}`} {
		code, body, _ := s.do("PUT", "/api/v1/groups/sales/gateways/sms", b, "")
		if code != 400 {
			t.Errorf("PUT %s: %d %s, want 400", b, code, body)
		}
	}
	_, body, _ := s.do("GET", "/api/v1/group-gateways", "", "")
	if !strings.Contains(string(body), `"sms-main"`) {
		t.Fatalf("the override went: %s", body)
	}
	if code, body, _ := s.do("PUT", "/api/v1/groups/sales/gateways/sms", `{"gateway":""}`, ""); code != 204 {
		t.Fatalf("removing the override: %d %s", code, body)
	}
	if _, body, _ = s.do("GET", "/api/v1/group-gateways", "", ""); strings.Contains(string(body), `"sms-main"`) {
		t.Fatalf("the override stayed: %s", body)
	}
}
