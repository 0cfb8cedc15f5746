package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// FuzzAPIBodies sends arbitrary bodies to every route of the route table
// that takes a JSON body (a new route is covered as it is added), as an
// admin, through the whole handler stack over a real SQLite store; the
// first input byte picks the route. The decoder alone refuses a body with
// a 400 or 413 of its own, or reads a value that reads back the same once
// written out again. The server never answers 5xx; an error is JSON with
// a code and a message, a 400 about a value names its field, and the
// admin's token never comes back.
//
//	go test -run='^$' -fuzz=FuzzAPIBodies -fuzztime=20s ./internal/web/
func FuzzAPIBodies(f *testing.F) {
	z := newRedeemFuzz(f)
	ctx := context.Background()
	for _, name := range []string{"fuzzgw"} {
		kind, sender := fakeKind.Name, "activator"
		if _, err := z.dom.Gateways.Create(ctx, model.GatewayInput{Name: &name, KindName: &kind, Settings: map[string]string{"sender": sender}}, fuzzCaller); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := z.dom.Profiles.Create(ctx, "fuzzp", nil, fuzzCaller); err != nil {
		f.Fatal(err)
	}
	other, role := "other", model.RoleCSR
	if _, err := z.dom.Operators.Create(ctx, model.OperatorInput{Name: &other, Role: &role}, fuzzCaller); err != nil {
		f.Fatal(err)
	}
	group, name := "fuzz", "Fuzz Target"
	acct, err := z.dom.Accounts.Create(ctx, model.AccountInput{Group: &group, Name: &name}, fuzzCaller)
	if err != nil {
		f.Fatal(err)
	}
	params := map[string]string{"username": acct.Username, "key": model.SettingCompanyName, "channel": model.ChannelSMS}
	byCollection := map[string]string{"groups": "fuzz", "profiles": "fuzzp", "operators": "other", "gateways": "fuzzgw"}
	var routes []route
	for _, rt := range z.srv.routes {
		if rt.body != nil && rt.access == token {
			routes = append(routes, rt)
		}
	}
	// The seed corpus is testdata/fuzz/FuzzAPIBodies; here, each body
	// type's zero value, so every route has one.
	for i, rt := range routes {
		b, _ := json.Marshal(rt.body)
		f.Add(uint8(i), b)
	}

	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		rt := routes[int(pick)%len(routes)]
		checkDecoder(t, rt, body)

		path := fillPath(rt.path, params, byCollection)
		req := httptest.NewRequest(rt.method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+z.admin)
		rec := httptest.NewRecorder()
		z.srv.ServeHTTP(rec, req)
		resp := rec.Body.Bytes()
		if rec.Code >= 500 {
			t.Fatalf("%s %s: status %d: %.500s", rt.method, rt.path, rec.Code, resp)
		}
		if bytes.Contains(resp, []byte(z.admin)) {
			t.Fatalf("%s %s: the answer holds the admin's token: %.500s", rt.method, rt.path, resp)
		}
		if rec.Code < 400 {
			return
		}
		var eb model.ErrorBody
		if err := json.Unmarshal(resp, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("%s %s: status %d without an error code and message (%v): %.500s", rt.method, rt.path, rec.Code, err, resp)
		}
		if rec.Code == http.StatusBadRequest && eb.Error.Field == "" && !bodyLevel(eb.Error.Code, eb.Error.Message) {
			t.Fatalf("%s %s: 400 %s names no field: %.500s", rt.method, rt.path, eb.Error.Code, resp)
		}
	})
}

// checkDecoder runs body through the API's decoder into rt's body type.
func checkDecoder(t *testing.T, rt route, body []byte) {
	t.Helper()
	typ := reflect.TypeOf(rt.body)
	v := reflect.New(typ).Interface()
	err := decode(httptest.NewRecorder(), jsonRequest(rt, body), v)
	if err != nil {
		var (
			br *badRequest
			tl bodyTooLarge
		)
		switch {
		case errors.As(err, &br):
			if br.code == "" || br.msg == "" || (br.field == "" && !bodyLevel(br.code, br.msg)) {
				t.Fatalf("%s %s: a 400 without a code, message or field: %+v", rt.method, rt.path, br)
			}
		case errors.As(err, &tl):
			if len(body) <= maxBody {
				t.Fatalf("%s %s: a %d-byte body is too large", rt.method, rt.path, len(body))
			}
		default:
			t.Fatalf("%s %s: the decoder answers %T %v, neither a 400 nor a 413", rt.method, rt.path, err, err)
		}
		return
	}
	once, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s %s: the decoded value cannot be written out: %v", rt.method, rt.path, err)
	}
	w := reflect.New(typ).Interface()
	if err := decode(httptest.NewRecorder(), jsonRequest(rt, once), w); err != nil {
		t.Fatalf("%s %s: %s, the decoder's own value written out, is refused: %v", rt.method, rt.path, once, err)
	}
	if twice, _ := json.Marshal(w); !bytes.Equal(once, twice) {
		t.Fatalf("%s %s: %s reads back as %s", rt.method, rt.path, once, twice)
	}
}

// bodyLevel says whether a 400 is about the body as a whole, which names
// no field: it is not JSON, or has a key with no name at its top.
func bodyLevel(code, msg string) bool {
	return code == "invalid_json" || (code == "unknown_field" && strings.HasPrefix(msg, `unknown field "": `))
}

func jsonRequest(rt route, body []byte) *http.Request {
	r := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// fillPath puts values in a route pattern's wildcards: by name, or by the
// collection the wildcard follows ({name} after groups/ is a group).
func fillPath(pattern string, params, byCollection map[string]string) string {
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		if v, ok := params[strings.Trim(s, "{}")]; ok {
			segs[i] = v
		} else if i > 0 {
			segs[i] = byCollection[segs[i-1]]
		}
	}
	return strings.Join(segs, "/")
}

// fakeKind is a gateway kind that never leaves the process: whatever a
// fuzzed body configures, a test send reaches no network.
var fakeKind = messaging.Kind{
	Name:    "fake",
	Channel: model.ChannelSMS,
	Help:    "a stand-in that sends nothing",
	Keys:    []model.GatewayKey{messaging.RateLimitKey(), {Key: "sender", Help: "the sender", Required: true}, {Key: "secret", Help: "a secret", Secret: true}},
	New: func(name string, _ map[string]string, _ messaging.Options) (messaging.Gateway, error) {
		return stubGateway(name), nil
	},
}

type stubGateway string

func (g stubGateway) Name() string { return string(g) }
func (g stubGateway) Send(context.Context, *model.Message) (string, error) {
	return "stub-1", nil
}
