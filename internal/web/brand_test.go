package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
)

// brandLogo is a 4x1 PNG as a data URI.
const brandLogo = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAQAAAABCAIAAAB2XpiaAAAAEUlEQVR4nGPgDr/w/6o/hAQAKGEGq9d/VOQAAAAASUVORK5CYII="

// TestOrganisationBrandOnItsPages: an organisation's admin sets its logo,
// colour and IT contact like any setting; its links' landing pages show
// its name (its own, company_name being unset) and logo and wear its
// colour, under a Content-Security-Policy that allows that logo and that
// colour's style sheet and nothing more; the error pages of its revoked,
// used-up and suspended links offer its IT contact, an https URL or an
// e-mail address. The default organisation's pages keep their policy.
func TestOrganisationBrandOnItsPages(t *testing.T) {
	s := startServer(t, "")
	provider := orgClient{s: s, token: s.token}
	provider.must("POST", "/api/v1/orgs", `{"name":"Brand Co","slug":"brandco"}`, 201, nil)
	org := provider
	org.org = "brandco"
	for _, c := range []struct{ key, value, field string }{
		{model.SettingBrandLogoURL, "http://cdn.brand.example/logo.png", model.SettingBrandLogoURL},
		{model.SettingBrandColour, "yellow", model.SettingBrandColour},
		{model.SettingITContact, "call Bob", model.SettingITContact},
	} {
		code, out := org.do("PUT", "/api/v1/settings/"+c.key, `{"value":"`+c.value+`"}`)
		if e := apiError(t, out); code != 400 || e.Field != "value" || !strings.Contains(e.Message, c.field) {
			t.Errorf("setting %s=%q: %d %s, want a 400 naming it", c.key, c.value, code, out)
		}
	}
	for k, v := range map[string]string{
		model.SettingBrandLogoURL: brandLogo, model.SettingBrandColour: "#0A1F44", model.SettingITContact: "https://help.brand.example/phones",
	} {
		org.must("PUT", "/api/v1/settings/"+k, `{"value":"`+v+`"}`, 200, nil)
	}
	org.must("POST", "/api/v1/groups", `{"name":"sales","it_email":"it@brand.example"}`, 201, nil)
	var a model.Account
	org.must("POST", "/api/v1/accounts", `{"group":"sales","name":"Ada","email":"ada@brand.example"}`, 201, &a)
	link := func() string {
		t.Helper()
		org.must("POST", "/api/v1/accounts/"+a.Username+"/send", `{"channel":"email"}`, 201, nil)
		for range 200 {
			var box struct{ Outbox []model.OutboxItem }
			org.must("GET", "/api/v1/outbox", "", 200, &box)
			if len(box.Outbox) > 0 {
				var whole model.OutboxItem
				org.must("GET", "/api/v1/outbox/"+jsonID(box.Outbox[0].ID), "", 200, &whole)
				if tok := secret.LinkTokens.FindString(whole.Body); tok != "" {
					return tok
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("the message never reached the outbox")
		return ""
	}
	first := link()
	page := func(tok string, want int) (string, string) {
		t.Helper()
		resp, err := http.Get(s.url + "/a/" + tok)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want {
			t.Fatalf("/a/%s: %d, want %d", tok, resp.StatusCode, want)
		}
		return string(b), resp.Header.Get("Content-Security-Policy")
	}

	body, csp := page(first, 200)
	for _, want := range []string{
		`<img class="logo" id="logo" src="` + brandLogo + `" alt="Brand Co" height="32"><span aria-hidden="true">Brand Co</span>`,
		"<style>:root{--brand:#0a1f44;--on-brand:#ffffff}</style>",
		"Brand Co has prepared",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the landing page lacks %s:\n%s", want, body)
		}
	}
	if !strings.Contains(csp, "; img-src 'self' data:; ") || strings.Count(csp, "'sha256-") != 3 || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "script-src 'sha256-") {
		t.Errorf("the landing page's policy: %q", csp)
	}
	_, plain := page("avl_"+strings.Repeat("a", 32), 404) // the default organisation's error page
	if strings.Contains(plain, "data:") || strings.Count(plain, "'sha256-") != 2 || !strings.Contains(plain, "img-src 'self';") {
		t.Errorf("the default organisation's policy: %q", plain)
	}

	link() // revokes the first
	body, _ = page(first, http.StatusGone)
	if !strings.Contains(body, `id="it-contact" href="https://help.brand.example/phones"`) || !strings.Contains(body, `alt="Brand Co"`) {
		t.Errorf("the revoked link's page does not offer the organisation's IT contact:\n%s", body)
	}
	org.must("PUT", "/api/v1/settings/"+model.SettingITContact, `{"value":"helpdesk@brand.example"}`, 200, nil)
	if body, _ = page(first, http.StatusGone); !strings.Contains(body, `id="it-contact" href="mailto:helpdesk@brand.example"`) {
		t.Errorf("the revoked link's page does not offer the organisation's IT e-mail:\n%s", body)
	}
	org.must("PUT", "/api/v1/settings/"+model.SettingITContact, `{"value":""}`, 200, nil)
	if body, _ = page(first, http.StatusGone); !strings.Contains(body, `id="it-contact" href="mailto:it@brand.example"`) {
		t.Errorf("with no it_contact the revoked link's page does not offer the group's IT e-mail:\n%s", body)
	}
	org.must("PUT", "/api/v1/settings/"+model.SettingITContact, `{"value":"https://help.brand.example/phones"}`, 200, nil)
	live := link()
	provider.must("POST", "/api/v1/orgs/brandco/suspend", "", 200, nil)
	if body, _ = page(live, http.StatusForbidden); !strings.Contains(body, `id="it-contact" href="https://help.brand.example/phones"`) {
		t.Errorf("the suspended organisation's link page does not offer its IT contact:\n%s", body)
	}
}
