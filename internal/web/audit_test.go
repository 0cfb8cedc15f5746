package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/audit"
	"github.com/activator-voip/activator/internal/web/console"
)

// unaudited are the mutating routes the audit wrapper does not run, each
// with why. Only public routes can be here: the wrapper runs every
// mutating route that has a caller.
var unaudited = map[string]string{
	"POST /api/v1/device/activate":          "a device redeeming its link, not an operator; the account's timeline records it",
	"POST /a/{token}/linphone":              "a person redeeming their link from its landing page, not an operator; the account's timeline records it",
	"POST /api/v1/receipts/{gateway}/{key}": "a provider's delivery receipt, not an operator; the message's delivery state records it, and the path holds the gateway's receipt key",
	"POST /console/login":                   "audited by its handler (session:<name>, failures too): the caller is known only once the password is checked",
	"POST /console/set-password/{token}":    "audited by its handler (operator:<name>) once the link is checked; the path's wildcard is the secret link, never an audit target",
}

// TestEveryMutatingRouteHasAnAuditKindWithASnapshot walks the API's and
// the console's route tables: every route that changes something (POST,
// PUT, PATCH, DELETE) has a kind in the audit table or is listed in
// unaudited with why; every kind of the table has a snapshot
// (Snapshots.Take answers "not found" for a missing target, not "unknown
// kind") or says why it has none; and no entry of the table or of
// unaudited is left over from a route that went.
func TestEveryMutatingRouteHasAnAuditKindWithASnapshot(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		cons, err := console.New(s.app.Domain, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		type walked struct {
			method, path string
			audited      bool // run by the surface's audit wrapper
		}
		var api, con []walked
		for _, rt := range s.app.Web.Routes() {
			api = append(api, walked{rt.Method, rt.Path, rt.Access == "token"})
		}
		for _, rt := range cons.Routes() {
			con = append(con, walked{rt.Method, rt.Path, !rt.Public})
		}
		used := map[string]bool{}   // kinds some route changes
		listed := map[string]bool{} // unaudited entries met
		checked := 0
		for _, sf := range []struct {
			name   string
			aud    *audit.Auditor
			routes []walked
		}{{"api", s.app.Web.Auditor(), api}, {"console", cons.Auditor(), con}} {
			for _, rt := range sf.routes {
				route := rt.method + " " + rt.path
				switch rt.method {
				case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
				default:
					continue
				}
				if why := unaudited[route]; why != "" {
					listed[route] = true
					if rt.audited {
						t.Errorf("%s (%s) is listed as unaudited, but the audit wrapper runs it", route, sf.name)
					}
					continue
				}
				if !rt.audited {
					t.Errorf("%s (%s) changes something and is not audited: a public route; audit it in its handler and list it in unaudited with why", route, sf.name)
					continue
				}
				k, _, ok := sf.aud.TargetKindOf(rt.path)
				if !ok {
					t.Errorf("%s (%s) has no audit target kind: add its first path segment to the table in internal/web/audit", route, sf.name)
					continue
				}
				used[k.Name] = true
				checked++
			}
		}
		if checked < 60 {
			t.Fatalf("only %d mutating routes walked", checked)
		}
		for route := range unaudited {
			if !listed[route] {
				t.Errorf("unaudited lists %s, which is no mutating route of either table", route)
			}
		}
		table := audit.TargetKinds()
		segs := make([]string, 0, len(table))
		for seg := range table {
			segs = append(segs, seg)
		}
		sort.Strings(segs)
		for _, seg := range segs {
			k := table[seg]
			if !used[k.Name] {
				t.Errorf("the audit table's %q (%s) is used by no mutating route", seg, k.Name)
			}
			if k.NoSnapshot != "" {
				continue
			}
			provider := tester // the one role that reads every kind: organisations too
			provider.Role = model.RoleProvider
			_, err := s.app.Domain.Snapshots.Take(ctx, k.Name, "no-such-"+k.Name, provider)
			var de *activation.Error
			switch {
			case errors.Is(err, activation.ErrUnknownTargetKind):
				t.Errorf("the audit table's %q names kind %q, which activation.Snapshots.Take cannot read: add it there, or say why it has no snapshot", seg, k.Name)
			case !errors.As(err, &de) || de.Kind != activation.KindNotFound:
				t.Errorf("snapshot of a missing %s: want not found, got %v", k.Name, err)
			}
		}
	})
}
