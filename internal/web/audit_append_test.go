package web_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/console"
)

// TestNoRouteChangesTheAuditLog walks the API's and the console's route
// tables: the only routes on the audit log read it (GET); and every
// mutating route of the API, called as an admin with the ids and targets
// of existing entries in its wildcards, leaves every entry as it was,
// adding entries of its own, each with its source address and credential.
func TestNoRouteChangesTheAuditLog(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		cons, err := console.New(s.app.Domain, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		type walked struct{ surface, method, path string }
		var all []walked
		for _, rt := range s.app.Web.Routes() {
			all = append(all, walked{"api", rt.Method, rt.Path})
		}
		for _, rt := range cons.Routes() {
			all = append(all, walked{"console", rt.Method, rt.Path})
		}
		for _, rt := range all {
			if strings.Contains(rt.path, "audit") && rt.method != http.MethodGet {
				t.Errorf("%s %s (%s) is a route on the audit log that is not a read", rt.method, rt.path, rt.surface)
			}
		}

		if code, body, _ := s.do("POST", "/api/v1/groups", `{"name":"walk"}`, ""); code != 201 {
			t.Fatalf("creating a group: %d %s", code, body)
		}
		before := auditByID(t, s)
		if len(before) == 0 {
			t.Fatal("no audit entry to walk with")
		}
		var anID string
		for id := range before {
			anID = strconv.FormatInt(id, 10)
			break
		}
		walkedN := 0
		for _, rt := range s.app.Web.Routes() {
			if rt.Access != "token" || rt.Method == http.MethodGet || rt.Path == "/api/v1/tokens/{id}" { // that one would revoke the walker's own token
				continue
			}
			path := rt.Path
			for _, w := range []string{"{id}", "{name}", "{username}", "{key}", "{platform}", "{channel}"} {
				path = strings.ReplaceAll(path, w, anID)
			}
			s.do(rt.Method, path, `{}`, "")
			walkedN++
		}
		if walkedN < 25 {
			t.Fatalf("only %d mutating API routes walked", walkedN)
		}
		after := auditByID(t, s)
		for id, e := range before {
			if !reflect.DeepEqual(after[id], e) {
				t.Errorf("audit entry %d changed by the walk:\nbefore %+v\nafter  %+v", id, e, after[id])
			}
		}
		if len(after) < len(before)+walkedN {
			t.Errorf("%d entries after walking %d mutating routes from %d: some calls were not recorded", len(after), walkedN, len(before))
		}
		for id, e := range after {
			if _, old := before[id]; !old && (e.Source != "127.0.0.1" || !strings.HasPrefix(e.Credential, "api token ")) {
				t.Errorf("entry %d (%s) keeps source %q and credential %q, want 127.0.0.1 and the API token", id, e.Action, e.Source, e.Credential)
			}
		}
	})
}

// auditByID reads the whole audit log through the API.
func auditByID(t *testing.T, s *testServer) map[int64]model.AuditEntry {
	t.Helper()
	code, body, _ := s.do("GET", "/api/v1/audit?limit=10000", "", "")
	if code != 200 {
		t.Fatalf("reading the audit log: %d %s", code, body)
	}
	var l struct {
		Entries []model.AuditEntry `json:"entries"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	out := map[int64]model.AuditEntry{}
	for _, e := range l.Entries {
		out[e.ID] = e
	}
	return out
}
