package requestid_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/requestid"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines parses the JSON log so far.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("a log line is not JSON: %v: %s", err, sc.Bytes())
		}
		out = append(out, l)
	}
	return out
}

// TestEveryLineOfARequestCarriesItsID sends a link through the admin API,
// a request that logs in the domain and in the web layer, and finds both
// lines under the id the client gave, echoed in the answer; an id that is
// too long or has odd characters is replaced, and requests without one get
// ids of their own.
func TestEveryLineOfARequestCarriesItsID(t *testing.T) {
	var logs syncBuffer
	s := apptest.Start(t, apptest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ctx := context.Background()
	caller := activation.Caller{Name: "test", OrgID: model.DefaultOrgID}
	group, it := "sales", "it@example.com"
	if _, err := s.App.Domain.Groups.Create(ctx, model.GroupInput{Name: &group, ITEmail: &it}, caller); err != nil {
		t.Fatal(err)
	}
	send := func(id string) string {
		t.Helper()
		name, email := "Ada Lovelace", "ada@example.com"
		a, err := s.App.Domain.Accounts.Create(ctx, model.AccountInput{Group: &group, Name: &name, Email: &email}, caller)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/accounts/"+a.Username+"/send", strings.NewReader(`{"channel":"email"}`))
		req.Header.Set("Authorization", "Bearer "+s.AdminToken)
		req.Header.Set("Content-Type", "application/json")
		if id != "" {
			req.Header.Set(requestid.Header, id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("sending a link: %d", resp.StatusCode)
		}
		return resp.Header.Get(requestid.Header)
	}
	const given = "lb-7f3a:0042.retry_1"
	if got := send(given); got != given {
		t.Fatalf("X-Request-Id %q came back as %q", given, got)
	}
	var msgs []string
	for _, l := range logs.lines(t) {
		if l["request_id"] == given {
			msgs = append(msgs, l["msg"].(string))
		}
		if (l["msg"] == "link sent" || l["msg"] == "http" && l["route"] == "POST /api/v1/accounts/{username}/send") && l["request_id"] != given {
			t.Errorf("a line of the request has request_id %v, want %q: %v", l["request_id"], given, l)
		}
	}
	if strings.Join(msgs, ",") != "link sent,http" {
		t.Errorf("lines with the request's id: %q, want the domain's \"link sent\" and the web layer's \"http\"", msgs)
	}

	for _, bad := range []string{strings.Repeat("a", requestid.MaxLen+1), "two words", `x","msg":"forged`, "tab\there"} {
		got := send(bad)
		if got == bad || !requestid.Acceptable(got) {
			t.Errorf("X-Request-Id %q came back as %q, want a fresh id", bad, got)
		}
	}
	a, b := send(""), send("")
	if a == "" || a == b {
		t.Errorf("two requests without an id got %q and %q, want two different ids", a, b)
	}
	for _, l := range logs.lines(t) {
		if l["msg"] == "http" && l["request_id"] == nil {
			t.Errorf("a request's line has no request_id: %v", l)
		}
	}
}
