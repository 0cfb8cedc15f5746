package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// liveMarker in a fuzz input stands for a live link token. A new link is
// issued after every successful redeem, so mutations of a valid body keep
// reaching the success path instead of meeting link_used.
const liveMarker = "$LIVE$"

// FuzzRedeemBody sends arbitrary bodies to POST /api/v1/device/activate
// through the whole handler stack over a real SQLite store. Whatever the
// body, the answer is never a 5xx, an error is JSON with a code, a 400 says
// which field or why the JSON was refused, and the token never comes back.
//
//	go test -run='^$' -fuzz=FuzzRedeemBody -fuzztime=20s ./internal/web/
func FuzzRedeemBody(f *testing.F) {
	z := newRedeemFuzz(f)

	valid := `{"token":"` + liveMarker + `","device":{"id":"phone-1","platform":"android","model":"Pixel 8","app_version":"1.2.3"}}`
	unknown := `{"token":"avl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","device":{"id":"phone-1","platform":"ios"}}`
	for _, s := range []string{
		valid,
		unknown,
		strings.Replace(valid, liveMarker, "avl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1), // wrong alphabet
		strings.Replace(valid, liveMarker, "avd_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1), // a device credential's prefix
		strings.Replace(valid, liveMarker, "avl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1),  // one short
		// garbage and the JSON decoder's edges
		``, ` `, `null`, `{}`, `[]`, `"avl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`, `123`, `true`,
		`{`, `{"token":`, `{"token":"avl_`, "\x00\xff\xfe", `{"token":"x"}{"token":"y"}`, `{"token":"x"} ]`,
		`{"token":"a\ud800b","device":{"id":"\u0000","platform":"android"}}`,
		"\xef\xbb\xbf" + valid, // a byte-order mark
		// deep nesting
		`{"device":` + strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000) + `}`,
		`{"device":` + strings.Repeat(`{"a":`, 12000) + `1` + strings.Repeat(`}`, 12000) + `}`,
		// unknown fields
		`{"token":"` + liveMarker + `","device":{"id":"p","platform":"android"},"admin":true}`,
		`{"token":"` + liveMarker + `","device":{"id":"p","platform":"android","imei":"1"}}`,
		`{"TOKEN":"` + liveMarker + `","Device":{"ID":"p","Platform":"android"}}`,
		// wrong types
		`{"token":123,"device":{"id":"p","platform":"android"}}`,
		`{"token":"` + liveMarker + `","device":"android"}`,
		`{"token":"` + liveMarker + `","device":{"id":true,"platform":"android"}}`,
		`{"token":"` + liveMarker + `","device":{"id":"p","platform":["android"]}}`,
		`{"token":null,"device":null}`,
		`{"token":{"token":"x"}}`,
		// invalid values
		`{"token":"` + liveMarker + `","device":{"id":" ","platform":"android"}}`,
		`{"token":"` + liveMarker + `","device":{"id":"p","platform":"symbian"}}`,
		`{"token":"` + liveMarker + `","device":{"id":"p\n","platform":"android"}}`,
		// huge strings, and a body over the limit
		`{"token":"avl_` + strings.Repeat("a", 100_000) + `","device":{"id":"p","platform":"android"}}`,
		`{"token":"` + liveMarker + `","device":{"id":"` + strings.Repeat("é", 150) + `","platform":"android","model":"` + strings.Repeat("m", 201) + `"}}`,
		`{"token":"` + liveMarker + `","device":{"id":"` + strings.Repeat("x", 64<<10) + `","platform":"android"}}`,
		`{"token":"` + strings.Repeat("x", maxBody) + `"}`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		body = bytes.ReplaceAll(body, []byte(liveMarker), []byte(z.live))
		req := httptest.NewRequest(http.MethodPost, "/api/v1/device/activate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		z.srv.ServeHTTP(rec, req)
		checkRedeemAnswer(t, body, rec)
		if rec.Code == http.StatusOK {
			z.live = z.issue(t)
		}
	})
}

// checkRedeemAnswer holds the invariants of every redeem answer.
func checkRedeemAnswer(t *testing.T, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	resp := rec.Body.Bytes()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %.500s", rec.Code, resp)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("status %d with Content-Type %q: %.500s", rec.Code, ct, resp)
	}
	if rec.Code == http.StatusOK {
		var ok model.RedeemResponse
		if err := json.Unmarshal(resp, &ok); err != nil || !secret.WellFormed(ok.DeviceCredential, secret.PrefixDevice) {
			t.Fatalf("200 without a device credential (%v): %.500s", err, resp)
		}
	} else {
		var eb model.ErrorBody
		if err := json.Unmarshal(resp, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("status %d without an error code and message (%v): %.500s", rec.Code, err, resp)
		}
		if rec.Code == http.StatusBadRequest && eb.Error.Field == "" {
			switch eb.Error.Code {
			case "invalid_json", "unknown_field", "body_too_large":
			default:
				t.Fatalf("400 %s names no field: %.500s", eb.Error.Code, resp)
			}
		}
	}
	// The token must not come back. Tokens shorter than 16 bytes may be
	// words of the fixed texts, and a token the body also carries elsewhere
	// (as a field name, which unknown_field names) may come back from there.
	var probe struct {
		Token any `json:"token"`
	}
	_ = json.Unmarshal(body, &probe)
	if tok, ok := probe.Token.(string); ok && len(tok) >= 16 && bytes.Count(body, []byte(tok)) == 1 {
		quoted, _ := json.Marshal(tok)
		if bytes.Contains(resp, []byte(tok)) || bytes.Contains(resp, quoted[1:len(quoted)-1]) {
			t.Fatalf("status %d echoes the token: %.500s", rec.Code, resp)
		}
	}
}

// redeemFuzz is a server over a real SQLite store in a temporary folder,
// and the live link the next valid body redeems.
type redeemFuzz struct {
	srv      *Server
	dom      activation.Domain
	live     string
	accounts int
	admin    string // the first start's admin API token
}

func newRedeemFuzz(f testing.TB) *redeemFuzz {
	f.Helper()
	ctx := context.Background()
	dir := f.TempDir()
	discard := slog.New(slog.DiscardHandler)
	st, err := store.Open(ctx, filepath.Join(dir, "activator.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	key, _, err := secret.LoadOrCreateKey(filepath.Join(dir, "secret.key"))
	if err != nil {
		f.Fatal(err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		f.Fatal(err)
	}
	boot, err := activation.Bootstrap(ctx, st, box, dir, discard)
	if err != nil {
		f.Fatal(err)
	}
	cat, err := i18n.Load()
	if err != nil {
		f.Fatal(err)
	}
	tmpl, err := messaging.NewTemplates(cat)
	if err != nil {
		f.Fatal(err)
	}
	dom := activation.NewDomain(activation.DomainConfig{
		Store: st, Box: box, SigningKey: boot.SigningKey, Templates: tmpl, ListenURL: "http://127.0.0.1:8080", Logger: discard,
		GatewayKinds: messaging.Kinds{fakeKind},
	})
	srv, err := New(dom, cat, discard, "fuzz", Limits{}, Ops{})
	if err != nil {
		f.Fatal(err)
	}
	name := "fuzz"
	if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: &name}, fuzzCaller); err != nil {
		f.Fatal(err)
	}
	adminToken, err := os.ReadFile(boot.AdminTokenPath)
	if err != nil {
		f.Fatal(err)
	}
	z := &redeemFuzz{srv: srv, dom: dom, admin: strings.TrimSpace(string(adminToken))}
	z.live = z.issue(f)
	return z
}

// fuzzCaller is who sets the fuzz targets up, in the default organisation.
var fuzzCaller = activation.Caller{Name: "fuzz", Role: "admin", OrgID: model.DefaultOrgID}

var fuzzLinkRe = regexp.MustCompile(`avl_[a-z2-7]{32}`)

// issue makes an account and sends it an activation link; the link's token
// comes from the queued message, as the recipient would read it.
func (z *redeemFuzz) issue(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	z.accounts++
	by := fuzzCaller
	group, name, email := "fuzz", fmt.Sprintf("Fuzz %d", z.accounts), fmt.Sprintf("fuzz%d@example.com", z.accounts)
	a, err := z.dom.Accounts.Create(ctx, model.AccountInput{Group: &group, Name: &name, Email: &email}, by)
	if err != nil {
		tb.Fatalf("creating an account: %v", err)
	}
	res, err := z.dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: model.ChannelEmail}, by)
	if err != nil {
		tb.Fatalf("sending a link: %v", err)
	}
	token := fuzzLinkRe.FindString(res.Message.Body)
	if token == "" {
		tb.Fatalf("no link in the message: %q", res.Message.Body)
	}
	return token
}
