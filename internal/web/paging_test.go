package web_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/activator-voip/activator/internal/model"
)

type accountPage struct {
	Accounts []model.Account `json:"accounts"`
	Next     string          `json:"next_cursor"`
	Prev     string          `json:"prev_cursor"`
	Total    *int            `json:"total"`
}

// TestAccountsPageByCursor: GET /api/v1/accounts pages by the cursors it
// hands out, forward to the end and back to the start, with the total of
// an unfiltered or status-filtered listing; a filter pages the same way; a
// cursor the server did not give, a cursor with an offset, and an offset
// deeper than 10,000 are refused naming the parameter.
func TestAccountsPageByCursor(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		var want []string
		for i := range 7 {
			var a model.Account
			body := fmt.Sprintf(`{"group":"sales","name":"Page %d","email":"page%d@example.com"}`, i, i)
			if err := json.Unmarshal(s.mustDo("POST", "/api/v1/accounts", body, 201), &a); err != nil {
				t.Fatal(err)
			}
			want = append([]string{a.Username}, want...)
		}
		get := func(q string) accountPage {
			t.Helper()
			var p accountPage
			if err := json.Unmarshal(s.mustDo("GET", "/api/v1/accounts?"+q, "", 200), &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		names := func(p accountPage) []string {
			var out []string
			for _, a := range p.Accounts {
				out = append(out, a.Username)
			}
			return out
		}
		var got []string
		var pages []accountPage
		for q := "limit=3"; ; {
			p := get(q)
			pages = append(pages, p)
			got = append(got, names(p)...)
			if p.Total == nil || *p.Total != 7 {
				t.Fatalf("page %d: want total 7, got %v", len(pages), p.Total)
			}
			if p.Next == "" {
				break
			}
			q = "limit=3&cursor=" + url.QueryEscape(p.Next)
		}
		if !slices.Equal(got, want) || len(pages) != 3 || pages[0].Prev != "" {
			t.Fatalf("forward: want %v in 3 pages, the first without prev_cursor; got %v in %d (%+v)", want, got, len(pages), pages[0])
		}
		back := get("limit=3&cursor=" + url.QueryEscape(pages[2].Prev))
		if !slices.Equal(names(back), want[3:6]) {
			t.Fatalf("back from the last page: want %v, got %v", want[3:6], names(back))
		}
		back = get("limit=3&cursor=" + url.QueryEscape(back.Prev))
		if !slices.Equal(names(back), want[:3]) || back.Prev != "" {
			t.Fatalf("back to the first page: want %v and no prev_cursor, got %v %q", want[:3], names(back), back.Prev)
		}
		if p := get("status=new&limit=5"); len(p.Accounts) != 5 || p.Total == nil || *p.Total != 7 || p.Next == "" {
			t.Fatalf("status new: want 5 of a total of 7 and a next page, got %d, %v, %q", len(p.Accounts), p.Total, p.Next)
		}
		if p := get("q=page&limit=5"); len(p.Accounts) != 5 || p.Total != nil || p.Next == "" {
			t.Fatalf("search: want 5, no total and a next page, got %d, %v, %q", len(p.Accounts), p.Total, p.Next)
		}
		if p := get("offset=5"); !slices.Equal(names(p), want[5:]) {
			t.Fatalf("offset 5: want %v, got %v", want[5:], names(p))
		}
		for q, field := range map[string]string{
			"cursor=123":         "cursor",
			"cursor=bxyz":        "cursor",
			"cursor=b5&offset=3": "offset",
			"offset=10001":       "offset",
			"cursor=" + pages[1].Next + "&limit=1001": "limit",
		} {
			code, body, _ := s.do("GET", "/api/v1/accounts?"+q, "", "")
			if e := apiError(t, body); code != 400 || e.Field != field {
				t.Errorf("%s: want 400 naming %s, got %d %+v", q, field, code, e)
			}
		}
	})
}

// TestOtherListingsPageByCursor: messages, the outbox, the audit log and
// imports hand out cursors that walk them too.
func TestOtherListingsPageByCursor(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		for i := range 3 {
			var a model.Account
			body := fmt.Sprintf(`{"group":"sales","name":"Msg %d","email":"msg%d@example.com"}`, i, i)
			if err := json.Unmarshal(s.mustDo("POST", "/api/v1/accounts", body, 201), &a); err != nil {
				t.Fatal(err)
			}
			s.mustDo("POST", "/api/v1/accounts/"+a.Username+"/send", `{"channel":"email"}`, 201)
		}
		for _, l := range []struct{ path, key string }{
			{"/api/v1/messages", "messages"}, {"/api/v1/audit", "entries"},
		} {
			seen := map[float64]bool{}
			n := 0
			for q := "?limit=1"; ; n++ {
				var p map[string]any
				if err := json.Unmarshal(s.mustDo("GET", l.path+q, "", 200), &p); err != nil {
					t.Fatal(err)
				}
				items, _ := p[l.key].([]any)
				for _, it := range items {
					id := it.(map[string]any)["id"].(float64)
					if seen[id] {
						t.Fatalf("%s: id %v on two pages", l.path, id)
					}
					seen[id] = true
				}
				next, _ := p["next_cursor"].(string)
				if next == "" {
					break
				}
				q = "?limit=1&cursor=" + url.QueryEscape(next)
			}
			if len(seen) < 3 {
				t.Errorf("%s: want at least 3 items over the pages, got %d", l.path, len(seen))
			}
		}
		for _, path := range []string{"/api/v1/outbox", "/api/v1/imports", "/api/v1/messages", "/api/v1/audit"} {
			code, body, _ := s.do("GET", path+"?cursor=nope", "", "")
			if e := apiError(t, body); code != 400 || e.Field != "cursor" {
				t.Errorf("%s with a bad cursor: want 400 naming cursor, got %d %+v", path, code, e)
			}
		}
	})
}
