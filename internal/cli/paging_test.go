package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// pagedServer answers GET /api/v1/accounts in pages of two of five
// accounts (usernames u5 ... u1), by the cursor it hands out, and records
// the cursors it was asked for.
func pagedServer(t *testing.T) (*httptest.Server, func() []string) {
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/accounts" {
			http.NotFound(w, r)
			return
		}
		cursor := r.URL.Query().Get("cursor")
		mu.Lock()
		seen = append(seen, cursor)
		mu.Unlock()
		top := 5
		if cursor != "" {
			fmt.Sscanf(cursor, "b%d", &top)
			top--
		}
		var accs []string
		for id := top; id > top-2 && id > 0; id-- {
			accs = append(accs, fmt.Sprintf(`{"id":%d,"username":"u%d","name":"User %d","status":"new","created_at":"2026-01-02T10:00:00Z"}`, id, id, id))
		}
		next := ""
		if top-2 > 0 {
			next = fmt.Sprintf(`,"next_cursor":"b%d"`, top-1)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"accounts":[%s]%s,"total":5}`, strings.Join(accs, ","), next)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

// TestAccountListPages: "account list" prints one page and the next
// page's cursor on standard error; --cursor asks for that page; --all
// follows the cursors to the end and prints every account, as one JSON
// answer with -o json.
func TestAccountListPages(t *testing.T) {
	srv, seen := pagedServer(t)
	env := map[string]string{envURL: srv.URL, envToken: testToken}

	r := runCLI(t, env, "", "account", "list", "--limit", "2")
	if r.err != nil || !strings.Contains(r.stdout, "u5") || strings.Contains(r.stdout, "u3") || !strings.Contains(r.stderr, "--cursor b4") {
		t.Fatalf("one page: want u5 and u4 and the next cursor on stderr; got %q / %q / %v", r.stdout, r.stderr, r.err)
	}
	r = runCLI(t, env, "", "account", "list", "--cursor", "b4")
	if r.err != nil || !strings.Contains(r.stdout, "u3") || strings.Contains(r.stdout, "u5") {
		t.Fatalf("--cursor b4: want u3 and u2; got %q / %v", r.stdout, r.err)
	}
	before := len(seen())
	r = runCLI(t, env, "", "account", "list", "--all")
	for _, u := range []string{"u5", "u4", "u3", "u2", "u1"} {
		if !strings.Contains(r.stdout, u) {
			t.Errorf("--all: want %s in %q", u, r.stdout)
		}
	}
	if got := seen()[before:]; r.err != nil || strings.Join(got, ",") != ",b4,b2" || r.stderr != "" {
		t.Fatalf("--all: want the pages from no cursor, b4 and b2 and nothing on stderr; got %v, %q, %v", got, r.stderr, r.err)
	}
	r = runCLI(t, env, "", "account", "list", "--all", "-o", "json")
	var v struct {
		Accounts []struct{ Username string }
		Next     string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.err != nil || len(v.Accounts) != 5 || v.Next != "" {
		t.Fatalf("--all -o json: want one answer with 5 accounts and no next cursor; got %q, %v, %v", r.stdout, err, r.err)
	}
	if r := runCLI(t, env, "", "account", "list", "--all", "--offset", "2"); r.err == nil {
		t.Errorf("--all with --offset: want an error")
	}
}
