package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// bMarker is in every distinctive string of organisation B's rows, so a
// body that holds it has leaked B's data across the wall.
const bMarker = "Zebulonorgb"

// TestTheWallHoldsOnTheAPI walks every route of the admin API, read from
// the OpenAPI document (built from the route table itself, so a route
// added later is walked too), as organisation A's admin with every path
// parameter filled with organisation B's names and ids. No answer may
// hold any of B's data. This is the first step of the wall's test: the
// console's routes and the other roles are still to come.
func TestTheWallHoldsOnTheAPI(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		const orgB = model.DefaultOrgID + 1
		if err := s.app.Store.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.EnsureOrganisation(ctx, orgB, "b-"+bMarker)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		b := activation.Caller{Name: "b-admin", OrgID: orgB, Role: model.RoleAdmin}
		// Same group name in both organisations; B's carries the marker.
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		if _, err := s.app.Domain.Groups.Create(ctx, model.GroupInput{Name: ptr("sales"), ITEmail: ptr(bMarker + "@b.example")}, b); err != nil {
			t.Fatal(err)
		}
		acc, err := s.app.Domain.Accounts.Create(ctx, model.AccountInput{Group: ptr("sales"), Name: ptr("Ada " + bMarker), Email: ptr(strings.ToLower(bMarker) + "@b.example")}, b)
		if err != nil {
			t.Fatal(err)
		}
		// Before the walk, which may revoke A's own token with id 1:
		// B's account answers A exactly as an unknown one does.
		codeB, bodyB, _ := s.do("GET", "/api/v1/accounts/"+acc.Username, "", "")
		codeU, bodyU, _ := s.do("GET", "/api/v1/accounts/nobody-here", "", "")
		if codeB != http.StatusNotFound || codeU != codeB || !strings.Contains(string(bodyB), "not_found") != !strings.Contains(string(bodyU), "not_found") {
			t.Errorf("B's account: %d %s; an unknown one: %d %s", codeB, bodyB, codeU, bodyU)
		}
		fill := map[string]string{
			"name": "sales", "username": acc.Username, "id": "1", "platform": "android",
			"key": "sip.domain", "channel": "sms", "gateway": "outbox", "token": "avl_x", "credential": "x",
		}
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(s.mustDo("GET", "/api/v1/openapi.json", "", 200), &doc); err != nil {
			t.Fatal(err)
		}
		var paths []string
		for p := range doc.Paths {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		walked := 0
		for _, p := range paths {
			url := p
			for strings.Contains(url, "{") {
				i := strings.Index(url, "{")
				j := strings.Index(url[i:], "}") + i
				v, ok := fill[url[i+1:j]]
				if !ok {
					t.Fatalf("%s: the walker cannot fill {%s}", p, url[i+1:j])
				}
				url = url[:i] + v + url[j+1:]
			}
			for m := range doc.Paths[p] {
				method := strings.ToUpper(m)
				if method == "PARAMETERS" {
					continue
				}
				body := ""
				if method != http.MethodGet && method != http.MethodDelete {
					body = "{}"
				}
				code, got, _ := s.do(method, url, body, "")
				walked++
				if strings.Contains(strings.ToLower(string(got)), strings.ToLower(bMarker)) {
					t.Errorf("%s %s (%d): the answer holds organisation B's data: %.300s", method, p, code, got)
				}
				if code >= 500 {
					t.Errorf("%s %s: %d %.200s", method, p, code, got)
				}
			}
		}
		if walked < 50 {
			t.Fatalf("walked only %d routes", walked)
		}
	})
}

func ptr[T any](v T) *T { return &v }
