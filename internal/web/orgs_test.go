package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
)

// TestProviderManagesOrganisations: the provider admin creates an
// organisation with its settings, lists, renames, suspends (its tokens,
// links and devices are refused, nothing is lost), resumes, counts and
// deletes it; an organisation's admin can do none of it, nor make or
// change a provider admin.
func TestProviderManagesOrganisations(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		provider := orgClient{s: s, token: s.token}
		var o model.Organisation
		provider.must("POST", "/api/v1/orgs", `{"name":"ACME Corp","slug":"acme","sip_domain":"sip.acme.example","base_url":"https://acme.activate.example"}`, 201, &o)
		if o.Slug != "acme" || o.Name != "ACME Corp" || o.Suspended || o.ID <= model.DefaultOrgID {
			t.Fatalf("created %+v", o)
		}
		for _, c := range []struct{ body, field string }{
			{`{"name":"Again","slug":"acme"}`, "slug"},
			{`{"name":"ACME Corp","slug":"acme-2"}`, "name"},
			{`{"name":"Bad","slug":"Not A Slug"}`, "slug"},
			{`{"name":"Digits","slug":"12345"}`, "slug"},
			{`{"slug":"noname"}`, "name"},
			{`{"name":"Bad URL","slug":"bad-url","base_url":"ftp://x"}`, "base_url"},
		} {
			code, out := provider.do("POST", "/api/v1/orgs", c.body)
			if e := apiError(t, out); code < 400 || code >= 500 || e.Field != c.field {
				t.Errorf("create %s: %d %s, want a 4xx naming %s", c.body, code, out, c.field)
			}
		}
		acme := provider
		acme.org = "acme"
		var settings struct{ Settings []model.Setting }
		acme.must("GET", "/api/v1/settings", "", 200, &settings)
		got := map[string]string{}
		for _, st := range settings.Settings {
			got[st.Key] = st.Value
		}
		if got[model.SettingSIPDomain] != "sip.acme.example" || got[model.SettingPublicBaseURL] != "https://acme.activate.example" {
			t.Errorf("acme's settings: %v", got)
		}
		var profiles struct{ Profiles []model.Profile }
		acme.must("GET", "/api/v1/profiles", "", 200, &profiles)
		if len(profiles.Profiles) != 1 || !profiles.Profiles[0].IsDefault {
			t.Errorf("acme's profiles: %+v", profiles.Profiles)
		}
		// Its admin, made by the provider acting inside it.
		acme.must("POST", "/api/v1/operators", `{"name":"acme-admin","role":"admin"}`, 201, nil)
		var tc model.TokenCreated
		acme.must("POST", "/api/v1/tokens", `{"name":"cli","operator":"acme-admin"}`, 201, &tc)
		admin := orgClient{s: s, token: tc.Token}
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/api/v1/orgs", ""}, {"POST", "/api/v1/orgs", `{"name":"X","slug":"x"}`}, {"GET", "/api/v1/orgs/acme", ""},
			{"GET", "/api/v1/orgs/acme/stats", ""}, {"POST", "/api/v1/orgs/acme/suspend", ""}, {"DELETE", "/api/v1/orgs/acme", ""},
			{"POST", "/api/v1/operators", `{"name":"sneaky","role":"provider"}`},
		} {
			if code, out := admin.do(r.method, r.path, r.body); code != http.StatusForbidden {
				t.Errorf("acme's admin %s %s: %d %s, want 403", r.method, r.path, code, out)
			}
		}
		// The default organisation's admin is below the provider too.
		provider.must("POST", "/api/v1/operators", `{"name":"boss","role":"provider"}`, 201, nil)
		provider.must("POST", "/api/v1/operators", `{"name":"home-admin","role":"admin"}`, 201, nil)
		provider.must("POST", "/api/v1/tokens", `{"name":"cli","operator":"home-admin"}`, 201, &tc)
		home := orgClient{s: s, token: tc.Token}
		for _, r := range []struct{ method, path, body string }{
			{"POST", "/api/v1/operators/boss/reset-password", ""}, {"POST", "/api/v1/operators/boss/disable", ""},
			{"PATCH", "/api/v1/operators/boss", `{"role":"csr"}`}, {"POST", "/api/v1/tokens", `{"name":"mine","operator":"boss"}`},
			{"PATCH", "/api/v1/operators/home-admin", `{"role":"provider"}`},
		} {
			if code, out := home.do(r.method, r.path, r.body); code != http.StatusForbidden {
				t.Errorf("the default organisation's admin %s %s: %d %s, want 403", r.method, r.path, code, out)
			}
		}
		if code, out := acme.do("POST", "/api/v1/operators", `{"name":"acme-boss","role":"provider"}`); code != 400 {
			t.Errorf("a provider admin inside acme: %d %s, want 400: provider admins are the provider's own", code, out)
		}

		// An account with a live link, and one activated.
		acme.must("POST", "/api/v1/groups", `{"name":"sales"}`, 201, nil)
		link := func(name string) (string, string) {
			var a model.Account
			acme.must("POST", "/api/v1/accounts", `{"group":"sales","name":"`+name+`","email":"`+strings.ToLower(name)+`@acme.example"}`, 201, &a)
			acme.must("POST", "/api/v1/accounts/"+a.Username+"/send", `{"channel":"email"}`, 201, nil)
			for range 200 {
				var box struct{ Outbox []model.OutboxItem }
				acme.must("GET", "/api/v1/outbox", "", 200, &box)
				for _, it := range box.Outbox {
					if it.Recipient == strings.ToLower(name)+"@acme.example" {
						var whole model.OutboxItem
						acme.must("GET", "/api/v1/outbox/"+jsonID(it.ID), "", 200, &whole)
						return a.Username, secret.LinkTokens.FindString(whole.Body)
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatalf("%s's message never reached the outbox", name)
			return "", ""
		}
		redeem := func(token, device string) (int, []byte) {
			body, _ := json.Marshal(model.RedeemRequest{Token: token, Device: model.DeviceInfo{ID: device, Platform: "android"}})
			return provider.do("POST", "/api/v1/device/activate", string(body))
		}
		_, live := link("Ada")
		_, used := link("Grace")
		code, out := redeem(used, "grace-phone")
		if code != 200 {
			t.Fatalf("redeem: %d %s", code, out)
		}
		var rr model.RedeemResponse
		json.Unmarshal(out, &rr)
		if !strings.Contains(string(out), "https://acme.activate.example") || rr.Config.Account.SIPDomain != "sip.acme.example" {
			t.Errorf("acme's activation does not name its base URL and SIP domain: %s", out)
		}

		var stats model.OrganisationStats
		provider.must("GET", "/api/v1/orgs/acme/stats", "", 200, &stats)
		if stats.Accounts[model.StageActivated] != 1 || stats.Accounts[model.StageInvited]+stats.Accounts[model.StageOpened] != 1 ||
			stats.Messages[model.MessageSent] != 2 || len(stats.Activations) != model.StatsDays || stats.Activations[model.StatsDays-1].Count != 1 {
			t.Errorf("acme's stats: %+v", stats)
		}
		provider.must("GET", "/api/v1/orgs/"+jsonID(o.ID)+"/stats", "", 200, nil) // by id too

		// Suspended: its admin's token, its links and its devices are refused.
		provider.must("POST", "/api/v1/orgs/acme/suspend", "", 200, &o)
		if !o.Suspended || o.SuspendedAt == nil {
			t.Errorf("suspended: %+v", o)
		}
		if code, out := admin.do("GET", "/api/v1/groups", ""); code != 403 || apiError(t, out).Code != "organisation_suspended" {
			t.Errorf("a suspended organisation's token: %d %s", code, out)
		}
		if code, out := redeem(live, "ada-phone"); code != 403 || apiError(t, out).Code != "organisation_suspended" {
			t.Errorf("a suspended organisation's link redeemed: %d %s", code, out)
		}
		if code, _ := provider.do("GET", "/a/"+live, ""); code != 403 {
			t.Errorf("a suspended organisation's landing page: %d, want 403", code)
		}
		req, _ := http.NewRequest("GET", s.url+"/api/v1/device/config", nil)
		req.Header.Set("Authorization", "Bearer "+rr.DeviceCredential)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
			t.Errorf("a suspended organisation's device: %v %v", resp, err)
		}
		// The provider still acts inside it; nothing was lost.
		acme.must("GET", "/api/v1/groups/sales", "", 200, nil)
		if code, out := provider.do("POST", "/api/v1/orgs/default/suspend", ""); code != 409 {
			t.Errorf("suspending the default organisation: %d %s", code, out)
		}
		provider.must("POST", "/api/v1/orgs/acme/resume", "", 200, &o)
		if o.Suspended {
			t.Errorf("resumed: %+v", o)
		}
		if code, out := admin.do("GET", "/api/v1/groups", ""); code != 200 {
			t.Errorf("after resuming, acme's token: %d %s", code, out)
		}
		if code, out := redeem(live, "ada-phone"); code != 200 {
			t.Errorf("after resuming, acme's link: %d %s", code, out)
		}

		provider.must("PATCH", "/api/v1/orgs/acme", `{"name":"ACME Europe","slug":"acme-eu"}`, 200, &o)
		var list struct{ Organisations []model.Organisation }
		provider.must("GET", "/api/v1/orgs", "", 200, &list)
		if len(list.Organisations) != 2 || list.Organisations[0].Slug != "acme-eu" || list.Organisations[1].Slug != "default" {
			t.Errorf("organisations: %+v", list.Organisations)
		}
		// Deleting is refused while anything is left in it.
		if code, out := provider.do("DELETE", "/api/v1/orgs/acme-eu", ""); code != 409 || apiError(t, out).Code != "organisation_has_accounts" {
			t.Errorf("deleting an organisation with accounts: %d %s", code, out)
		}
		if code, out := provider.do("DELETE", "/api/v1/orgs/default", ""); code != 409 {
			t.Errorf("deleting the default organisation: %d %s", code, out)
		}
		provider.must("POST", "/api/v1/orgs", `{"name":"Empty","slug":"empty"}`, 201, nil)
		provider.must("DELETE", "/api/v1/orgs/empty", "", 204, nil)
		if code, _ := provider.do("GET", "/api/v1/orgs/empty", ""); code != 404 {
			t.Errorf("a deleted organisation: %d", code)
		}
		// Every change is in the provider's audit log, under the provider.
		var audit struct{ Entries []model.AuditEntry }
		provider.must("GET", "/api/v1/audit?action=POST+/api/v1/orgs/{org}/suspend&target=organisation:acme", "", 200, &audit)
		if len(audit.Entries) != 1 || audit.Entries[0].Role != model.RoleProvider || audit.Entries[0].Target != "organisation:acme" {
			t.Errorf("the suspension's audit entry: %+v", audit.Entries)
		}
		// What the provider did inside acme is in acme's log, as the provider.
		acmeEU := provider
		acmeEU.org = "acme-eu"
		acmeEU.must("GET", "/api/v1/audit?action=POST+/api/v1/groups", "", 200, &audit)
		if len(audit.Entries) != 1 || audit.Entries[0].Role != model.RoleProvider || audit.Entries[0].Actor != "admin (first start)" {
			t.Errorf("the provider's change inside acme, in acme's log: %+v", audit.Entries)
		}
	})
}

func jsonID(id int64) string { b, _ := json.Marshal(id); return string(b) }

// TestOrganisationQuotas: past an organisation's most accounts, a create
// and an import are refused naming the quota, as is a send past its most
// messages a day; nothing of the refused request is written, and raising
// a quota (the provider's alone) lets the same request through.
func TestOrganisationQuotas(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		provider := orgClient{s: s, token: s.token}
		provider.must("POST", "/api/v1/orgs", `{"name":"Small Co","slug":"small","max_accounts":2,"max_messages_per_day":1}`, 201, nil)
		if code, out := provider.do("PATCH", "/api/v1/orgs/small", `{"max_accounts":-1}`); code != 400 || apiError(t, out).Field != "max_accounts" {
			t.Errorf("a negative quota: %d %s", code, out)
		}
		in := provider
		in.org = "small"
		in.must("POST", "/api/v1/groups", `{"name":"sales"}`, 201, nil)
		var a model.Account
		in.must("POST", "/api/v1/accounts", `{"group":"sales","name":"Ada","email":"ada@small.example"}`, 201, &a)
		in.must("POST", "/api/v1/accounts", `{"group":"sales","name":"Grace","email":"grace@small.example"}`, 201, nil)
		code, out := in.do("POST", "/api/v1/accounts", `{"group":"sales","name":"Alan","email":"alan@small.example"}`)
		if e := apiError(t, out); code != 409 || e.Code != "quota_exceeded" || e.Field != "max_accounts" || !strings.Contains(e.Message, "at most 2 accounts") {
			t.Errorf("an account past the quota: %d %s", code, out)
		}
		var imp model.ImportPreview
		in.must("POST", "/api/v1/imports", "name,email,group\nAlan,alan@small.example,sales\n", 201, &imp)
		code, out = in.do("POST", "/api/v1/imports/"+jsonID(imp.ID)+"/confirm", "{}")
		if !strings.Contains(string(out), "max_accounts") {
			// The import may run as a job: its state says why it stopped.
			for range 200 {
				_, out = in.do("GET", "/api/v1/imports/"+jsonID(imp.ID), "")
				if strings.Contains(string(out), `"failed"`) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !strings.Contains(string(out), "max_accounts") {
			t.Errorf("an import past the quota: %d %s", code, out)
		}
		var list struct{ Accounts []model.Account }
		in.must("GET", "/api/v1/accounts", "", 200, &list)
		if len(list.Accounts) != 2 {
			t.Errorf("%d accounts after the refusals, want 2", len(list.Accounts))
		}
		in.must("POST", "/api/v1/accounts/"+a.Username+"/send", `{"channel":"email"}`, 201, nil)
		code, out = in.do("POST", "/api/v1/accounts/"+a.Username+"/send", `{"channel":"email"}`)
		if e := apiError(t, out); code != 409 || e.Code != "quota_exceeded" || e.Field != "max_messages_per_day" {
			t.Errorf("a message past the day's quota: %d %s", code, out)
		}
		var msgs struct{ Messages []model.Message }
		in.must("GET", "/api/v1/messages", "", 200, &msgs)
		if len(msgs.Messages) != 1 {
			t.Errorf("%d messages after the refusal, want 1", len(msgs.Messages))
		}
		provider.must("PATCH", "/api/v1/orgs/small", `{"max_accounts":3,"max_messages_per_day":0}`, 200, nil)
		in.must("POST", "/api/v1/accounts", `{"group":"sales","name":"Alan","email":"alan@small.example"}`, 201, nil)
		in.must("POST", "/api/v1/accounts/"+a.Username+"/send", `{"channel":"email"}`, 201, nil)
	})
}

// TestOrganisationCallsTo: the provider sets the organisations an
// organisation's accounts may call by slug (allow_calls_to), shown on the
// organisation and audited with it before and after; an unknown slug or
// the organisation itself is refused on the field, and an organisation's
// own admin cannot set it.
func TestOrganisationCallsTo(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		provider := orgClient{s: s, token: s.token}
		provider.must("POST", "/api/v1/orgs", `{"name":"ACME Corp","slug":"acme","sip_domain":"acme.example"}`, 201, nil)
		provider.must("POST", "/api/v1/orgs", `{"name":"Beta","slug":"beta","sip_domain":"beta.example","allow_calls_to":["acme"]}`, 201, nil)
		var o model.Organisation
		provider.must("PATCH", "/api/v1/orgs/acme", `{"allow_calls_to":["beta","default","beta"]}`, 200, &o)
		if strings.Join(o.AllowCallsTo, ",") != "beta,default" {
			t.Fatalf("acme's allow_calls_to: %q, want beta,default", o.AllowCallsTo)
		}
		provider.must("GET", "/api/v1/orgs/beta", "", 200, &o)
		if strings.Join(o.AllowCallsTo, ",") != "acme" {
			t.Fatalf("beta's allow_calls_to given at create: %q, want acme", o.AllowCallsTo)
		}
		for _, bad := range []string{`["nobody"]`, `["acme"]`} {
			if code, out := provider.do("PATCH", "/api/v1/orgs/acme", `{"allow_calls_to":`+bad+`}`); code != 400 || apiError(t, out).Field != "allow_calls_to" {
				t.Errorf("allow_calls_to %s: want 400 on allow_calls_to, got %d %s", bad, code, out)
			}
		}
		var audit struct{ Entries []model.AuditEntry }
		provider.must("GET", "/api/v1/audit?action=PATCH+/api/v1/orgs/{org}&target=organisation:acme", "", 200, &audit)
		if len(audit.Entries) == 0 || !strings.Contains(audit.Entries[len(audit.Entries)-1].After, `"allow_calls_to":["beta","default"]`) ||
			audit.Entries[len(audit.Entries)-1].Role != model.RoleProvider {
			t.Errorf("the change's audit entry: %+v", audit.Entries)
		}
		provider.must("PATCH", "/api/v1/orgs/acme", `{"allow_calls_to":[]}`, 200, &o)
		if len(o.AllowCallsTo) != 0 {
			t.Errorf("acme's allow_calls_to after clearing: %q", o.AllowCallsTo)
		}
		// acme's own admin has no say.
		acme := provider
		acme.org = "acme"
		acme.must("POST", "/api/v1/operators", `{"name":"acme-admin","role":"admin"}`, 201, nil)
		var tc model.TokenCreated
		acme.must("POST", "/api/v1/tokens", `{"name":"cli","operator":"acme-admin"}`, 201, &tc)
		admin := orgClient{s: s, token: tc.Token}
		if code, out := admin.do("PATCH", "/api/v1/orgs/acme", `{"allow_calls_to":["beta"]}`); code != 403 {
			t.Errorf("acme's admin setting allow_calls_to: want 403, got %d %s", code, out)
		}
	})
}

// TestLinksAnswerAtTheirOrganisationsHost: at an organisation's own host
// (its public base URL's), on the same listener, the landing page, the
// activation file, the redeem and the device API answer for its links and
// devices, and another organisation's exactly as unknown ones.
func TestLinksAnswerAtTheirOrganisationsHost(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		u, _ := url.Parse(s.url)
		acmeURL := "http://localhost:" + u.Port()
		provider := orgClient{s: s, token: s.token}
		provider.must("POST", "/api/v1/orgs", `{"name":"ACME Corp","slug":"acme","base_url":"`+acmeURL+`"}`, 201, nil)
		acme := provider
		acme.org = "acme"
		linkIn := func(c orgClient, name string) string {
			c.must("POST", "/api/v1/groups", `{"name":"sales-`+name+`"}`, 201, nil)
			var a model.Account
			c.must("POST", "/api/v1/accounts", `{"group":"sales-`+name+`","name":"`+name+`","email":"`+name+`@example.com"}`, 201, &a)
			var res model.SendResult
			c.must("POST", "/api/v1/accounts/"+a.Username+"/send", `{"channel":"email"}`, 201, &res)
			for range 200 {
				var box struct{ Outbox []model.OutboxItem }
				c.must("GET", "/api/v1/outbox", "", 200, &box)
				for _, it := range box.Outbox {
					if it.Recipient == name+"@example.com" {
						var whole model.OutboxItem
						c.must("GET", "/api/v1/outbox/"+jsonID(it.ID), "", 200, &whole)
						return secret.LinkTokens.FindString(whole.Body)
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatalf("%s's message never reached the outbox", name)
			return ""
		}
		acmeLink, homeLink := linkIn(acme, "ada"), linkIn(provider, "grace")
		get := func(base, path string) (int, string) {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		unknown, _ := secret.NewToken(secret.PrefixLink)
		codeU, _ := get(acmeURL, "/a/"+unknown)
		for _, c := range []struct {
			base, link string
			want       int
		}{{acmeURL, acmeLink, 200}, {s.url, acmeLink, 200}, {s.url, homeLink, 200}, {acmeURL, homeLink, codeU}} {
			if code, _ := get(c.base, "/a/"+c.link); code != c.want {
				t.Errorf("the landing page of %s at %s: %d, want %d", secret.Display(c.link), c.base, code, c.want)
			}
		}
		if codeU != 404 {
			t.Errorf("an unknown link at acme's host: %d", codeU)
		}
		if code, _ := get(acmeURL, "/a/"+homeLink+"/activation"); code != 404 {
			t.Errorf("the provider's activation file at acme's host: %d, want 404", code)
		}
		redeemAt := func(base, token, device string) (int, model.RedeemResponse, string) {
			body, _ := json.Marshal(model.RedeemRequest{Token: token, Device: model.DeviceInfo{ID: device, Platform: "android"}})
			resp, err := http.Post(base+"/api/v1/device/activate", "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var rr model.RedeemResponse
			json.Unmarshal(b, &rr)
			return resp.StatusCode, rr, string(b)
		}
		if code, _, out := redeemAt(acmeURL, homeLink, "phone-1"); code != 404 || !strings.Contains(out, "link_unknown") {
			t.Errorf("the provider's link redeemed at acme's host: %d %s", code, out)
		}
		code, home, out := redeemAt(s.url, homeLink, "phone-1")
		if code != 200 {
			t.Fatalf("the provider's link at its host: %d %s", code, out)
		}
		config := func(base, credential string) int {
			req, _ := http.NewRequest("GET", base+"/api/v1/device/config", nil)
			req.Header.Set("Authorization", "Bearer "+credential)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if c := config(acmeURL, home.DeviceCredential); c != 401 {
			t.Errorf("the provider's device at acme's host: %d, want 401", c)
		}
		if c := config(s.url, home.DeviceCredential); c != 200 {
			t.Errorf("the provider's device at its host: %d", c)
		}
		if code, _, out := redeemAt(acmeURL, acmeLink, "phone-2"); code != 200 {
			t.Errorf("acme's link at acme's host: %d %s", code, out)
		}
	})
}
