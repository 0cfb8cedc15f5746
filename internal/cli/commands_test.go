package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/activator-voip/activator/internal/testnet"
)

// testToken is the API token every test uses; no output may ever show it.
const testToken = "actk_T0PSECRET-9f2c4e"

// recorded is one request the CLI made.
type recorded struct {
	Method, Path, Query, Body, Auth, ContentType string
}

// reply is a canned answer of the recording server.
type reply struct {
	status int
	body   string
}

// recorder is an httptest server that records every request the CLI makes
// and answers from fixtures written after the API contract.
type recorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	routes map[string]reply // "METHOD /escaped/path"
}

func newRecorder(t *testing.T, routes map[string]reply) *recorder {
	t.Helper()
	r := &recorder{routes: routes}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{
			Method: req.Method, Path: req.URL.EscapedPath(), Query: req.URL.RawQuery,
			Body: string(body), Auth: req.Header.Get("Authorization"), ContentType: req.Header.Get("Content-Type"),
		})
		r.mu.Unlock()
		rep, ok := r.routes[req.Method+" "+req.URL.EscapedPath()]
		if !ok {
			rep = reply{404, `{"error":{"code":"not_found","message":"no such route in the test"}}`}
		}
		if rep.status == http.StatusNoContent {
			w.WriteHeader(rep.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// result is what one run of the command line printed and returned.
type result struct {
	stdout, stderr string
	err            error
}

// all is everything a user could see from a run.
func (r result) all() string {
	s := r.stdout + r.stderr
	if r.err != nil {
		s += r.err.Error()
	}
	return s
}

// runCLI runs the command tree as main does, with env as the environment.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	root := NewRootCmd(Env{Getenv: func(k string) string { return env[k] }, Version: "v9.9.9-test"})
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	err := Execute(context.Background(), root, args)
	return result{out.String(), errOut.String(), err}
}

// Fixtures, as the API contract describes the answers.
const (
	groupJSON   = `{"id":3,"name":"sales","it_email":"it@example.com","profile":"field-staff","created_at":"2026-01-02T10:00:00Z"}`
	profileJSON = `{"id":2,"name":"field-staff","is_default":false,"settings":{"customer_service_email":"help@example.com",
		"customer_service_phone":"","logging":"errors","read_only_settings":true,"secure_messaging":true,
		"privacy":{"user_may_edit_history_size":true,"history_size":100},
		"pin":{"forced":true,"ask_after_idle_minutes":10,"attempts":5,"lockout_minutes":1},
		"oem_licence_code":"","keep_alive_seconds":30,"rtp_obfuscation":"off","codecs":["opus","pcma"],
		"security":{"end-to-end":{"transport":"tls","media_encryption":"zrtp","media_encryption_mandatory":true,"verify_server_certificate":true}},
		"platform_options":{"android":{"battery_saver":"off"}}},
		"created_at":"2026-01-02T10:00:00Z","updated_at":"2026-01-03T11:00:00Z"}`
	accountJSON = `{"id":7,"username":"1234567890","name":"Ada Lovelace","group":"sales","mobile":"+393331234567",
		"security_model":"end-to-end","virtual_number":"100200","kind":"wizard","stage":"invited","disabled":false,
		"status":"invited","created_at":"2026-01-02T10:00:00Z","updated_at":"2026-01-02T10:05:00Z"}`
	detailJSON = `{"account":` + accountJSON + `,
		"effective_profile":{"profile":"field-staff","source":"group","settings":{"logging":"errors"}},
		"invitations":[{"id":4,"kind":"activation","channel":"sms","token_prefix":"actl_ab12","created_at":"2026-01-02T10:01:00Z","expires_at":"2999-01-09T10:01:00Z"}],
		"devices":[{"id":1,"device_id":"dev-42","platform":"android","model":"Pixel 8","app_version":"1.2.0","credential_prefix":"actd_9z","created_at":"2026-01-02T10:30:00Z"}],
		"messages":[{"id":12,"username":"1234567890","channel":"sms","kind":"activation","gateway":"outbox","recipient":"+393331234567","state":"sent","attempts":1,"created_at":"2026-01-02T10:01:00Z","next_attempt_at":"2026-01-02T10:01:00Z","sent_at":"2026-01-02T10:01:05Z"}],
		"events":[
			{"id":3,"kind":"message_sent","at":"2026-01-02T10:01:05Z","actor":"system","detail":{"message":"12"}},
			{"id":1,"kind":"created","at":"2026-01-02T10:00:00Z","actor":"admin"},
			{"id":2,"kind":"link_issued","at":"2026-01-02T10:01:00Z","actor":"admin","detail":{"kind":"activation","channel":"sms"}}]}`
	sendJSON = `{"invitation":{"id":5,"kind":"activation","channel":"sms","token_prefix":"actl_cd34","created_at":"2026-01-02T10:01:00Z","expires_at":"2026-01-09T10:01:00Z"},
		"message":{"id":13,"channel":"sms","kind":"activation","gateway":"outbox","recipient":"+393331234567","state":"queued","attempts":0,"created_at":"2026-01-02T10:01:00Z","next_attempt_at":"2026-01-02T10:01:00Z"}}`
	effectiveJSON = `{"profile":"field-staff","source":"group","settings":{"customer_service_email":"help@example.com","pin":{"forced":true},"codecs":["opus","pcma"]}}`
	settingJSON   = `{"key":"link_expiry","value":"72h","default":"168h","help":"How long a secure link stays valid."}`
	templateJSON  = `{"key":"sms.activation.it","channel":"sms","kind":"activation","language":"it","text":"{{.Company}}: ciao {{.Name}} {{.Link}}","custom_subject":false,"custom_text":true,"encoding":"GSM-7","segments":1,"chars":88}`
	outboxJSON    = `{"id":9,"message_id":13,"channel":"sms","recipient":"+393331234567","body":"Activate: https://activate.example.com/l/actl_cd34xyz","created_at":"2026-01-02T10:01:00Z"}`
	messagesJSON  = `{"messages":[{"id":13,"username":"1234567890","channel":"sms","kind":"activation","gateway":"outbox","recipient":"+393331234567","state":"failed","attempts":3,"last_error":"gateway refused","created_at":"2026-01-02T10:01:00Z","next_attempt_at":"2026-01-02T10:01:00Z"}]}`
)

// fixtureRoutes answers every endpoint the CLI uses.
func fixtureRoutes() map[string]reply {
	const p = "/api/v1"
	return map[string]reply{
		"GET " + p + "/groups":                                    {200, `{"groups":[` + groupJSON + `]}`},
		"POST " + p + "/groups":                                   {201, groupJSON},
		"GET " + p + "/groups/sales":                              {200, groupJSON},
		"GET " + p + "/groups/sales%20eu%2Fnorth":                 {200, groupJSON},
		"PATCH " + p + "/groups/sales":                            {200, groupJSON},
		"DELETE " + p + "/groups/sales":                           {204, ""},
		"GET " + p + "/profiles":                                  {200, `{"profiles":[` + profileJSON + `]}`},
		"POST " + p + "/profiles":                                 {201, profileJSON},
		"GET " + p + "/profiles/field-staff":                      {200, profileJSON},
		"PATCH " + p + "/profiles/field-staff":                    {200, profileJSON},
		"DELETE " + p + "/profiles/field-staff":                   {204, ""},
		"GET " + p + "/apps":                                      {200, `{"apps":[{"platform":"android","url":"https://play.example.com/voip"},{"platform":"ios","security_model":"end-to-site","url":"https://apps.example.com/voip"}]}`},
		"PUT " + p + "/apps":                                      {200, `{"platform":"ios","security_model":"end-to-site","url":"https://apps.example.com/voip"}`},
		"DELETE " + p + "/apps/android":                           {204, ""},
		"GET " + p + "/settings":                                  {200, `{"settings":[` + settingJSON + `]}`},
		"PUT " + p + "/settings/link_expiry":                      {200, settingJSON},
		"GET " + p + "/templates":                                 {200, `{"templates":[` + templateJSON + `],"placeholders":[]}`},
		"GET " + p + "/templates/sms.activation.it":               {200, templateJSON},
		"PUT " + p + "/templates/sms.activation.it":               {200, templateJSON},
		"PUT " + p + "/templates/email.installation":              {200, templateJSON},
		"GET " + p + "/accounts":                                  {200, `{"accounts":[` + accountJSON + `]}`},
		"POST " + p + "/accounts":                                 {201, accountJSON},
		"GET " + p + "/accounts/1234567890":                       {200, detailJSON},
		"PATCH " + p + "/accounts/1234567890":                     {200, accountJSON},
		"DELETE " + p + "/accounts/1234567890":                    {204, ""},
		"POST " + p + "/accounts/1234567890/disable":              {200, strings.Replace(accountJSON, `"status":"invited"`, `"status":"disabled"`, 1)},
		"POST " + p + "/accounts/1234567890/enable":               {200, accountJSON},
		"POST " + p + "/accounts/1234567890/send":                 {201, sendJSON},
		"POST " + p + "/accounts/1234567890/revoke":               {200, `{"revoked":2}`},
		"POST " + p + "/accounts/1234567890/device-access/revoke": {200, `{"revoked":1}`},
		"GET " + p + "/accounts/1234567890/profile":               {200, effectiveJSON},
		"GET " + p + "/messages":                                  {200, messagesJSON},
		"GET " + p + "/outbox":                                    {200, `{"outbox":[{"id":9,"message_id":13,"channel":"sms","recipient":"+393331234567","body":"Activate: https://activate.example.com/l/***","created_at":"2026-01-02T10:01:00Z"}]}`},
		"GET " + p + "/outbox/9":                                  {200, outboxJSON},
	}
}

func TestCommandsMakeTheContractsRequests(t *testing.T) {
	tests := []struct {
		args      []string
		method    string
		path      string
		query     string
		body      string // JSON; empty: no body
		wantOut   []string
		wantLines []string // lines that must appear in this order
	}{
		{args: []string{"group", "create", "sales", "--it-email", "it@example.com"},
			method: "POST", path: "/api/v1/groups", body: `{"name":"sales","it_email":"it@example.com"}`,
			wantOut: []string{"name:", "sales", "profile:", "field-staff"}},
		{args: []string{"group", "list"}, method: "GET", path: "/api/v1/groups",
			wantOut: []string{"NAME", "IT E-MAIL", "sales", "it@example.com", "2026-01-02 10:00:00Z"}},
		{args: []string{"group", "show", "sales eu/north"}, method: "GET", path: "/api/v1/groups/sales%20eu%2Fnorth",
			wantOut: []string{"it e-mail:"}},
		{args: []string{"group", "edit", "sales", "--profile", ""}, method: "PATCH", path: "/api/v1/groups/sales",
			body: `{"profile":""}`},
		{args: []string{"group", "edit", "sales", "--name", "sales-eu", "--it-email", "x@example.com"}, method: "PATCH",
			path: "/api/v1/groups/sales", body: `{"name":"sales-eu","it_email":"x@example.com"}`},
		{args: []string{"group", "delete", "sales"}, method: "DELETE", path: "/api/v1/groups/sales",
			wantOut: []string{"deleted group sales"}},

		{args: []string{"profile", "create", "field-staff", "--set", "pin.forced=true", "--set", "codecs=opus,pcma",
			"--set", "security.end-to-end.transport=tls", "--set", "customer_service_email=help@example.com"},
			method: "POST", path: "/api/v1/profiles",
			body: `{"name":"field-staff","settings":{"pin":{"forced":true},"codecs":["opus","pcma"],
				"security":{"end-to-end":{"transport":"tls"}},"customer_service_email":"help@example.com"}}`,
			wantOut: []string{"settings:\n", "  pin.forced:", "  codecs:", "opus,pcma", "  platform_options.android.battery_saver:"}},
		{args: []string{"profile", "create", "field-staff"}, method: "POST", path: "/api/v1/profiles",
			body: `{"name":"field-staff","settings":{}}`},
		{args: []string{"profile", "list"}, method: "GET", path: "/api/v1/profiles",
			wantOut: []string{"NAME", "field-staff", "help@example.com"}},
		{args: []string{"profile", "show", "field-staff"}, method: "GET", path: "/api/v1/profiles/field-staff",
			wantOut: []string{"  security.end-to-end.media_encryption:", "zrtp"}},
		{args: []string{"profile", "edit", "field-staff", "--name", "field"}, method: "PATCH",
			path: "/api/v1/profiles/field-staff", body: `{"name":"field"}`},
		{args: []string{"profile", "edit", "field-staff", "--set", "platform_options.android.foo=bar", "--set", "pin.attempts=3"},
			method: "PATCH", path: "/api/v1/profiles/field-staff",
			body: `{"settings":{"platform_options":{"android":{"foo":"bar"}},"pin":{"attempts":3}}}`},
		{args: []string{"profile", "delete", "field-staff"}, method: "DELETE", path: "/api/v1/profiles/field-staff",
			wantOut: []string{"deleted profile field-staff"}},

		{args: []string{"app", "set", "android", "https://play.example.com/voip"}, method: "PUT", path: "/api/v1/apps",
			body: `{"platform":"android","url":"https://play.example.com/voip"}`},
		{args: []string{"app", "set", "ios", "--security-model", "end-to-site", "https://apps.example.com/voip"},
			method: "PUT", path: "/api/v1/apps",
			body:    `{"platform":"ios","security_model":"end-to-site","url":"https://apps.example.com/voip"}`,
			wantOut: []string{"security model:", "end-to-site"}},
		{args: []string{"app", "list"}, method: "GET", path: "/api/v1/apps",
			wantOut: []string{"PLATFORM", "android", "any", "end-to-site"}},
		{args: []string{"app", "unset", "android"}, method: "DELETE", path: "/api/v1/apps/android"},
		{args: []string{"app", "unset", "android", "--security-model", "end-to-end"}, method: "DELETE",
			path: "/api/v1/apps/android", query: "security_model=end-to-end"},

		{args: []string{"settings", "set", "link_expiry", "72h"}, method: "PUT", path: "/api/v1/settings/link_expiry",
			body: `{"value":"72h"}`, wantOut: []string{"value:", "72h"}},
		{args: []string{"settings", "show"}, method: "GET", path: "/api/v1/settings",
			wantOut: []string{"KEY", "VALUE", "DEFAULT", "HELP", "link_expiry", "168h", "How long a secure link stays valid."}},

		{args: []string{"template", "show"}, method: "GET", path: "/api/v1/templates",
			wantOut: []string{"KEY", "CUSTOM", "SEGMENTS", "sms.activation.it", "yes", "{{.Company}}: ciao"}},
		{args: []string{"template", "show", "sms", "activation", "--language", "it"}, method: "GET", path: "/api/v1/templates/sms.activation.it",
			wantOut: []string{"custom text:", "segments:", "1 (GSM-7, 88 characters", "{{.Company}}: ciao {{.Name}} {{.Link}}"}},
		{args: []string{"template", "set", "sms", "activation", "--language", "it", "--text", "{{.Company}}: ciao {{.Name}} {{.Link}}"},
			method: "PUT", path: "/api/v1/templates/sms.activation.it", body: `{"text":"{{.Company}}: ciao {{.Name}} {{.Link}}"}`,
			wantOut: []string{"custom text:", "yes"}},
		{args: []string{"template", "reset", "email", "installation"}, method: "PUT", path: "/api/v1/templates/email.installation",
			body: `{"subject":"","text":""}`},

		{args: []string{"account", "create", "--group", "sales", "--name", "Ada Lovelace", "--mobile", "+393331234567"},
			method: "POST", path: "/api/v1/accounts",
			body:    `{"group":"sales","name":"Ada Lovelace","mobile":"+393331234567"}`,
			wantOut: []string{"username:", "1234567890", "virtual number:", "100200"}},
		{args: []string{"account", "list"}, method: "GET", path: "/api/v1/accounts",
			wantOut: []string{"USERNAME", "1234567890", "Ada Lovelace", "invited"}},
		{args: []string{"account", "list", "--group", "sales", "--status", "invited", "--search", "ada", "--limit", "5", "--offset", "10"},
			method: "GET", path: "/api/v1/accounts", query: "group=sales&limit=5&offset=10&q=ada&status=invited"},
		{args: []string{"account", "show", "1234567890"}, method: "GET", path: "/api/v1/accounts/1234567890",
			wantOut: []string{"effective profile:", "field-staff (from group)", "dev-42", "Pixel 8", "actl_ab12", "live",
				"+393331234567", "sent"},
			wantLines: []string{"links:", "devices:", "messages:", "timeline:",
				"2026-01-02 10:00:00Z  created", "2026-01-02 10:01:00Z  link_issued", "channel=sms kind=activation",
				"2026-01-02 10:01:05Z  message_sent"}},
		{args: []string{"account", "edit", "1234567890", "--email", "ada@example.com", "--profile", ""},
			method: "PATCH", path: "/api/v1/accounts/1234567890", body: `{"email":"ada@example.com","profile":""}`},
		{args: []string{"account", "disable", "1234567890"}, method: "POST", path: "/api/v1/accounts/1234567890/disable",
			wantOut: []string{"status:", "disabled"}},
		{args: []string{"account", "enable", "1234567890"}, method: "POST", path: "/api/v1/accounts/1234567890/enable"},
		{args: []string{"account", "delete", "1234567890"}, method: "DELETE", path: "/api/v1/accounts/1234567890",
			wantOut: []string{"deleted account 1234567890"}},
		{args: []string{"account", "send", "1234567890", "--channel", "sms"}, method: "POST",
			path: "/api/v1/accounts/1234567890/send", body: `{"channel":"sms"}`,
			wantOut: []string{"actl_cd34", "queued", "outbox"}},
		{args: []string{"account", "send", "1234567890", "--channel", "email", "--kind", "installation"}, method: "POST",
			path: "/api/v1/accounts/1234567890/send", body: `{"channel":"email","kind":"installation"}`},
		{args: []string{"account", "revoke", "1234567890"}, method: "POST", path: "/api/v1/accounts/1234567890/revoke",
			wantOut: []string{"revoked 2 live link(s) of account 1234567890"}},
		{args: []string{"account", "profile", "1234567890"}, method: "GET", path: "/api/v1/accounts/1234567890/profile",
			wantOut: []string{"profile:", "field-staff", "source:", "group", "settings:\n", "  pin.forced:", "true"}},
		{args: []string{"device-access", "revoke", "1234567890"}, method: "POST",
			path: "/api/v1/accounts/1234567890/device-access/revoke", wantOut: []string{"revoked the access of 1 device(s)"}},

		{args: []string{"messages", "list", "--state", "failed", "--username", "1234567890"}, method: "GET",
			path: "/api/v1/messages", query: "state=failed&username=1234567890",
			wantOut: []string{"STATE", "failed", "gateway refused"}},
		{args: []string{"messages", "list"}, method: "GET", path: "/api/v1/messages"},
		{args: []string{"outbox", "list"}, method: "GET", path: "/api/v1/outbox",
			wantOut: []string{"9", "13", "Activate: https://activate.example.com/l/***"}},
		{args: []string{"outbox", "show", "9"}, method: "GET", path: "/api/v1/outbox/9",
			wantOut: []string{"recipient:", "Activate: https://activate.example.com/l/actl_cd34xyz"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			rec := newRecorder(t, fixtureRoutes())
			env := map[string]string{envURL: rec.srv.URL, envToken: testToken}
			res := runCLI(t, env, "", tt.args...)
			if res.err != nil {
				t.Fatalf("run: %v", res.err)
			}
			reqs := rec.requests()
			if len(reqs) != 1 {
				t.Fatalf("made %d requests, want 1: %+v", len(reqs), reqs)
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path || r.Query != tt.query {
				t.Errorf("request %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, tt.method, tt.path, tt.query)
			}
			if r.Auth != "Bearer "+testToken {
				t.Errorf("Authorization %q, want the bearer token", r.Auth)
			}
			if tt.body == "" {
				if r.Body != "" {
					t.Errorf("body %s, want none", r.Body)
				}
			} else {
				if !sameJSON(t, r.Body, tt.body) {
					t.Errorf("body %s, want %s", r.Body, tt.body)
				}
				if r.ContentType != "application/json" {
					t.Errorf("Content-Type %q, want application/json", r.ContentType)
				}
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, res.stdout)
				}
			}
			rest := res.stdout
			for _, w := range tt.wantLines {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("output lacks %q after the previous lines, or has it out of order:\n%s", w, res.stdout)
					break
				}
				rest = rest[i+len(w):]
			}
			if strings.Contains(res.all(), testToken) {
				t.Errorf("the token appears in the output:\n%s", res.all())
			}
		})
	}
}

func TestJSONOutputIsTheAPIsJSON(t *testing.T) {
	for _, args := range [][]string{
		{"group", "list"},
		{"group", "show", "sales"},
		{"profile", "show", "field-staff"},
		{"account", "show", "1234567890"},
		{"account", "list"},
		{"account", "send", "1234567890", "--channel", "sms"},
		{"account", "revoke", "1234567890"},
		{"messages", "list"},
		{"outbox", "show", "9"},
		{"settings", "show"},
		{"app", "list"},
	} {
		rec := newRecorder(t, fixtureRoutes())
		env := map[string]string{envURL: rec.srv.URL, envToken: testToken}
		res := runCLI(t, env, "", append(args, "-o", "json")...)
		if res.err != nil {
			t.Fatalf("%q: %v", args, res.err)
		}
		req := rec.requests()[0]
		want := fixtureRoutes()[req.Method+" "+req.Path].body
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, []byte(want), "", "  "); err != nil {
			t.Fatal(err)
		}
		if !sameJSON(t, res.stdout, want) {
			t.Errorf("%q -o json printed\n%s\nwant the API's answer\n%s", args, res.stdout, want)
		}
		if !strings.Contains(res.stdout, "\n  ") {
			t.Errorf("%q -o json is not indented:\n%s", args, res.stdout)
		}
	}
}

func TestAPIErrorPrintsMessageAndField(t *testing.T) {
	rec := newRecorder(t, map[string]reply{
		"POST /api/v1/groups":               {409, `{"error":{"code":"conflict","message":"a group named sales already exists","field":"name"}}`},
		"GET /api/v1/groups/gone":           {404, `{"error":{"code":"not_found","message":"group not found"}}`},
		"GET /api/v1/groups":                {401, `{"error":{"code":"unauthorized","message":"token ` + testToken + ` is not valid"}}`},
		"GET /api/v1/accounts/1234567890":   {502, `<html>bad gateway</html>`},
		"POST /api/v1/accounts/1/send":      {410, `{"error":{"code":"gone","message":"account deleted"}}`},
		"PATCH /api/v1/accounts/1234567890": {400, `{"error":{"code":"invalid_field","message":"not a mobile number","field":"mobile"}}`},
	})
	env := map[string]string{envURL: rec.srv.URL, envToken: testToken}
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"group", "create", "sales"}, "a group named sales already exists (field name)"},
		{[]string{"group", "show", "gone"}, "group not found"},
		{[]string{"group", "list"}, "token *** is not valid"},
		{[]string{"account", "show", "1234567890"}, "server answered 502 Bad Gateway"},
		{[]string{"account", "send", "1", "--channel", "sms"}, "account deleted"},
		{[]string{"account", "edit", "1234567890", "--mobile", "12"}, "not a mobile number (field mobile)"},
	}
	for _, tt := range tests {
		res := runCLI(t, env, "", tt.args...)
		if res.err == nil || res.err.Error() != tt.wantErr {
			t.Errorf("%q: error %v, want %q", tt.args, res.err, tt.wantErr)
		}
		if strings.Contains(res.all(), testToken) {
			t.Errorf("%q: the token appears: %s", tt.args, res.all())
		}
		if res.stdout != "" {
			t.Errorf("%q: printed %q on an error", tt.args, res.stdout)
		}
	}
}

// TestBinaryPrintsErrors builds the real binary and checks what an operator
// sees on an API error: "activator: <message> (field <field>)" and exit code 1.
func TestBinaryPrintsErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "activator")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, "github.com/activator-voip/activator/cmd/activator")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rec := newRecorder(t, map[string]reply{
		"POST /api/v1/groups": {409, `{"error":{"code":"conflict","message":"a group named sales already exists","field":"name"}}`},
	})
	cmd := exec.Command(bin, "group", "create", "sales", "--url", rec.srv.URL)
	cmd.Env = append(os.Environ(), envToken+"="+testToken)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want exit code 1", err)
	}
	if got, want := stderr.String(), "activator: a group named sales already exists (field name)\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}

func TestTokenResolution(t *testing.T) {
	dir := t.TempDir()
	fileToken := "actk_from-file-1234"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("\n"+fileToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t, fixtureRoutes())

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantAuth string
	}{
		{"flag wins", map[string]string{envToken: "from-env"}, []string{"--token", "from-flag"}, "Bearer from-flag"},
		{"environment", map[string]string{envToken: "from-env", envTokenFile: tokenFile}, nil, "Bearer from-env"},
		{"token file", map[string]string{envTokenFile: tokenFile}, nil, "Bearer " + fileToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.requests())
			args := append([]string{"--url", rec.srv.URL, "group", "list"}, tt.args...)
			res := runCLI(t, tt.env, "", args...)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if got := rec.requests()[before].Auth; got != tt.wantAuth {
				t.Errorf("Authorization %q, want %q", got, tt.wantAuth)
			}
		})
	}

	t.Run("./data/admin.token", func(t *testing.T) {
		work := t.TempDir()
		if err := os.MkdirAll(filepath.Join(work, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, "data", "admin.token"), []byte("actk_default-file\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Chdir(work)
		before := len(rec.requests())
		res := runCLI(t, map[string]string{envURL: rec.srv.URL}, "", "group", "list")
		if res.err != nil {
			t.Fatal(res.err)
		}
		if got := rec.requests()[before].Auth; got != "Bearer actk_default-file" {
			t.Errorf("Authorization %q, want the token of ./data/admin.token", got)
		}
	})

	t.Run("none", func(t *testing.T) {
		t.Chdir(t.TempDir())
		before := len(rec.requests())
		res := runCLI(t, map[string]string{envURL: rec.srv.URL}, "", "group", "list")
		if res.err == nil || !strings.Contains(res.err.Error(), "no API token") {
			t.Errorf("error %v, want one saying there is no token", res.err)
		}
		if len(rec.requests()) != before {
			t.Errorf("made a request without a token")
		}
	})

	t.Run("missing token file", func(t *testing.T) {
		res := runCLI(t, map[string]string{envURL: rec.srv.URL, envTokenFile: filepath.Join(dir, "nope")}, "", "group", "list")
		if res.err == nil || !strings.Contains(res.err.Error(), envTokenFile) {
			t.Errorf("error %v, want one naming %s", res.err, envTokenFile)
		}
	})
}

func TestTokenNeverShown(t *testing.T) {
	env := map[string]string{envToken: testToken, envURL: "http://127.0.0.1:1"}
	closedURL := "http://" + testnet.RefusingAddr(t)
	for _, args := range [][]string{
		{"--help"},
		{"account", "--help"},
		{"account", "send", "--help"},
		{"--token", testToken, "group", "list", "--help"},
		{"version"},
		{"--url", closedURL, "group", "list"},
		{"--url", closedURL, "--token", testToken, "account", "show", "1"},
		{"--url", "ftp://example.com", "group", "list"},
		{"--token", testToken, "--url", "http://" + testToken + "@127.0.0.1:1", "group", "list"},
	} {
		res := runCLI(t, env, "", args...)
		if strings.Contains(res.all(), testToken) {
			t.Errorf("%q shows the token:\n%s", args, res.all())
		}
	}
}

func TestClientSideChecks(t *testing.T) {
	rec := newRecorder(t, fixtureRoutes())
	env := map[string]string{envURL: rec.srv.URL, envToken: testToken}
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"group", "show"}, `activator group show needs NAME; missing NAME`},
		{[]string{"group", "show", "a", "b"}, `activator group show takes only NAME; unexpected "b"`},
		{[]string{"group", "list", "x"}, `activator group list takes no arguments, got "x"`},
		{[]string{"group", "frobnicate"}, `unknown command "frobnicate" for "activator group"`},
		{[]string{"group", "edit", "sales"}, "nothing to change: give --name, --it-email or --profile"},
		{[]string{"profile", "edit", "field-staff"}, "nothing to change: give --name, --set or --file"},
		{[]string{"profile", "create", "x", "--set", "colour=red"}, `unknown setting "colour"; valid keys: customer_service_email,`},
		{[]string{"account", "create", "--group", "sales"}, `required flag(s) "name" not set`},
		{[]string{"account", "create", "--group", "sales", "--name", "A", "--security-model", "zrtp"}, `--security-model "zrtp": want one of end-to-end, end-to-site`},
		{[]string{"account", "edit", "1234567890"}, "nothing to change"},
		{[]string{"account", "send", "1234567890"}, `required flag(s) "channel" not set`},
		{[]string{"account", "send", "1234567890", "--channel", "pigeon"}, `--channel "pigeon": want email or sms`},
		{[]string{"account", "list", "--status", "sleeping"}, `--status "sleeping": want one of new, invited, opened, installed, activated, disabled`},
		{[]string{"account", "list", "--limit", "0"}, "--limit 0: want a positive number"},
		{[]string{"messages", "list", "--state", "lost"}, `--state "lost": want one of queued, sending, sent, delivered, failed`},
		{[]string{"outbox", "show", "abc"}, `outbox ID "abc": want a positive number`},
		{[]string{"app", "set", "symbian", "https://x.example.com"}, `unknown platform "symbian"; valid: android, ios, windows, macos, linux`},
		{[]string{"app", "set", "android", "not a url"}, `URL "not a url": want an absolute URL`},
		{[]string{"settings", "set", "colour", "red"}, `unknown setting "colour"; valid keys: public_base_url,`},
		{[]string{"template", "set", "fax", "activation", "--text", "x"}, `unknown channel "fax": want sms or email`},
		{[]string{"template", "set", "sms", "activation"}, "needs --text, --text-file or --subject"},
		{[]string{"template", "set", "sms", "activation", "--subject", "Hi"}, "only an e-mail has a subject"},
		{[]string{"template", "show", "sms", "activation", "--language", "xx"}, `unknown language "xx"`},
		{[]string{"group", "list", "-o", "yaml"}, `--output "yaml": want text or json`},
		{[]string{"group", "list", "--bogus"}, `unknown flag: --bogus`},
	}
	for _, tt := range tests {
		res := runCLI(t, env, "", tt.args...)
		if res.err == nil || !strings.Contains(res.err.Error(), tt.wantErr) {
			t.Errorf("%q: error %v, want one containing %q", tt.args, res.err, tt.wantErr)
		}
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("refused commands made %d requests: %+v", n, rec.requests())
	}
}

// An unknown command fails with one line in every form, --help and the help
// command included; a known one still prints its help and succeeds.
func TestUnknownCommandsFailInEveryForm(t *testing.T) {
	for _, args := range [][]string{
		{"tenant"}, {"tenant", "--help"}, {"tenant", "-h"}, {"help", "tenant"}, {"-o", "json", "tenant", "--help"},
		{"account", "frob"}, {"account", "frob", "--help"}, {"help", "account", "frob"},
	} {
		res := runCLI(t, nil, "", args...)
		want := `unknown command "tenant" for "activator" (see "activator --help")`
		if args[len(args)-1] == "frob" || slices.Contains(args, "frob") {
			want = `unknown command "frob" for "activator account" (see "activator account --help")`
		}
		if res.err == nil || res.err.Error() != want {
			t.Errorf("%q: error %v, want %q", args, res.err, want)
		}
		if res.stdout != "" || strings.Contains(res.all(), "Usage:") {
			t.Errorf("%q printed help for an unknown command:\n%s", args, res.all())
		}
	}
	if res := runCLI(t, nil, "", "acount"); res.err == nil || !strings.Contains(res.err.Error(), `did you mean "account"?`) {
		t.Errorf("a misspelt command: want a suggestion, got %v", res.err)
	}
	for _, args := range [][]string{{"--help"}, {"account", "--help"}, {"help", "account"}, {"account"}, {"help"}} {
		res := runCLI(t, nil, "", args...)
		if res.err != nil || !strings.Contains(res.stdout, "Usage:") {
			t.Errorf("%q: want its help and no error, got %v:\n%s", args, res.err, res.all())
		}
	}
}

func TestProfileSettingsFromFileAndStdin(t *testing.T) {
	rec := newRecorder(t, fixtureRoutes())
	env := map[string]string{envURL: rec.srv.URL, envToken: testToken}
	file := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(file, []byte(`{"logging":"debug","pin":{"forced":false,"attempts":4}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, env, "", "profile", "edit", "field-staff", "--file", file, "--set", "pin.forced=true")
	if res.err != nil {
		t.Fatal(res.err)
	}
	res = runCLI(t, env, `{"codecs":["opus"]}`, "profile", "create", "field-staff", "--file", "-")
	if res.err != nil {
		t.Fatal(res.err)
	}
	reqs := rec.requests()
	if want := `{"settings":{"logging":"debug","pin":{"forced":true,"attempts":4}}}`; !sameJSON(t, reqs[0].Body, want) {
		t.Errorf("edit body %s, want %s", reqs[0].Body, want)
	}
	if want := `{"name":"field-staff","settings":{"codecs":["opus"]}}`; !sameJSON(t, reqs[1].Body, want) {
		t.Errorf("create body %s, want %s", reqs[1].Body, want)
	}
}

func TestURLWithPathPrefix(t *testing.T) {
	rec := newRecorder(t, nil)
	res := runCLI(t, map[string]string{envToken: testToken}, "", "--url", rec.srv.URL+"/activator/", "group", "list")
	if res.err == nil {
		t.Fatal("want the 404 of the test server")
	}
	if got := rec.requests()[0].Path; got != "/activator/api/v1/groups" {
		t.Errorf("path %q, want /activator/api/v1/groups", got)
	}
}

func TestVersion(t *testing.T) {
	res := runCLI(t, nil, "", "version")
	if res.err != nil || !strings.HasPrefix(res.stdout, "activator v9.9.9-test (go") {
		t.Errorf("version printed %q, %v", res.stdout, res.err)
	}
	res = runCLI(t, nil, "", "version", "-o", "json")
	var v struct{ Version string }
	if err := json.Unmarshal([]byte(res.stdout), &v); err != nil || v.Version != "v9.9.9-test" {
		t.Errorf("version -o json printed %q", res.stdout)
	}
}

// TestEveryCommandIsDocumented walks the tree: every command of activator's
// own has a Short and a Long help and examples.
func TestEveryCommandIsDocumented(t *testing.T) {
	root := NewRootCmd(Env{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch c.Name() {
		case "help", "completion", "serve": // cobra's own, and serve is wired elsewhere
			return
		}
		if c.Short == "" || c.Long == "" || c.Example == "" {
			t.Errorf("%q lacks Short, Long or Example", c.CommandPath())
		}
		if c.Args == nil {
			t.Errorf("%q does not validate its arguments", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
