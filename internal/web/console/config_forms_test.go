package console_test

import (
	"context"
	"html"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
)

// onEachBackend runs fn against a whole activator on SQLite and, when
// configured, PostgreSQL, with an admin "ada" and a csr "bob" logged in.
func onEachBackend(t *testing.T, fn func(t *testing.T, ts *consoleServer, admin, csr *operatorClient)) {
	t.Helper()
	apptest.ForEachDatabase(t, func(t *testing.T, database string) {
		ts := startConsole(t, database)
		addOperator(t, ts.app.Domain, "ada", model.RoleAdmin)
		addOperator(t, ts.app.Domain, "bob", model.RoleCSR)
		admin, csr := newClient(ts.url), newClient(ts.url)
		admin.login(t, "ada", "password of ada")
		csr.login(t, "bob", "password of bob")
		fn(t, ts, admin, csr)
	})
}

// pageForm reads a page and returns its form as a browser would send it:
// every input whose name starts with prefix, with its current value, and
// the session's CSRF token.
func pageForm(t *testing.T, c *operatorClient, path, prefix string) url.Values {
	t.Helper()
	code, page := c.get(t, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", path, code, page)
	}
	re := regexp.MustCompile(`name="(` + regexp.QuoteMeta(prefix) + `[^"]*)" value="([^"]*)"`)
	form := url.Values{"csrf": {c.csrf}}
	for _, m := range re.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if len(form) < 2 {
		t.Fatalf("GET %s: no %s inputs on the page", path, prefix)
	}
	return form
}

// fieldErrorAt returns the error shown right after the input named name, or "".
func fieldErrorAt(page, name string) string {
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `"[^>]*>(?:</label><span class="help">[^<]*(?:<code>[^<]*</code>[^<]*)?</span>)?<span class="ferr">([^<]*)</span>`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func appURLs(t *testing.T, ts *consoleServer) map[string]string {
	t.Helper()
	as, err := ts.app.Domain.Downloads.List(context.Background(), tester)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range as {
		out[a.Platform+"/"+string(a.SecurityModel)] = a.URL
	}
	return out
}

func settingValues(t *testing.T, ts *consoleServer) map[string]string {
	t.Helper()
	st, err := ts.app.Domain.Settings.List(context.Background(), tester)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range st {
		out[s.Key] = s.Value
	}
	return out
}

// TestDownloadsGridForm sets, refuses and clears download URLs through the
// console's grid, and refuses a csr's post.
func TestDownloadsGridForm(t *testing.T) {
	const (
		androidE2E = "https://downloads.example.com/android/e2e.apk"
		iosAny     = "https://apps.apple.com/app/id123456789"
	)
	onEachBackend(t, func(t *testing.T, ts *consoleServer, admin, csr *operatorClient) {
		if got := appURLs(t, ts); len(got) != 0 {
			t.Fatalf("a new server has download URLs: %v", got)
		}
		form := pageForm(t, admin, "/console/downloads", "u.")
		if len(form) != 1+len(model.Platforms)*3 {
			t.Fatalf("the grid has %d cells, want %d", len(form)-1, len(model.Platforms)*3)
		}
		form.Set("u.android/end-to-end", androidE2E)
		form.Set("u.ios/", "  "+iosAny+" ")
		if code, body := admin.post(t, "/console/downloads", form); code != http.StatusSeeOther {
			t.Fatalf("saving the grid: %d %.300s", code, body)
		}
		want := map[string]string{"android/end-to-end": androidE2E, "ios/": iosAny}
		if got := appURLs(t, ts); !maps.Equal(got, want) {
			t.Fatalf("after the save the URLs are %v, want %v", got, want)
		}
		if _, page := admin.get(t, "/console/downloads"); !strings.Contains(page, `value="`+androidE2E+`"`) || !strings.Contains(page, `value="`+iosAny+`"`) {
			t.Error("the grid does not show the saved URLs")
		}

		// A bad URL in one cell stores nothing, not even a good cell before it.
		form = pageForm(t, admin, "/console/downloads", "u.")
		form.Set("u.android/", "https://downloads.example.com/android/any.apk")
		form.Set("u.ios/end-to-end", "")
		form.Set("u.ios/end-to-site", "javascript:alert(1)")
		code, page := admin.post(t, "/console/downloads", form)
		if code == http.StatusSeeOther || code >= 500 {
			t.Fatalf("a bad URL: %d, want the page again", code)
		}
		if e := fieldErrorAt(page, "u.ios/end-to-site"); !strings.Contains(e, "http(s) URL") {
			t.Errorf("no error next to the ios end-to-site cell (got %q)", e)
		}
		if e := fieldErrorAt(page, "u.android/"); e != "" {
			t.Errorf("an error next to a good cell: %q", e)
		}
		if !strings.Contains(page, `role="alert">ios/end-to-site: `) {
			t.Error("the page's error does not name the cell")
		}
		if got := appURLs(t, ts); !maps.Equal(got, want) {
			t.Fatalf("a post with a bad URL changed the URLs to %v, want %v", got, want)
		}

		// Clearing a cell removes that URL only.
		form = pageForm(t, admin, "/console/downloads", "u.")
		form.Set("u.android/end-to-end", "")
		if code, body := admin.post(t, "/console/downloads", form); code != http.StatusSeeOther {
			t.Fatalf("clearing a cell: %d %.300s", code, body)
		}
		want = map[string]string{"ios/": iosAny}
		if got := appURLs(t, ts); !maps.Equal(got, want) {
			t.Fatalf("after clearing the URLs are %v, want %v", got, want)
		}

		// A csr may read the grid but not save it.
		form = pageForm(t, csr, "/console/downloads", "u.")
		form.Set("u.android/end-to-end", androidE2E)
		form.Set("u.ios/", "")
		if code, _ := csr.post(t, "/console/downloads", form); code != http.StatusForbidden {
			t.Errorf("a csr saving the grid: %d, want 403", code)
		}
		if got := appURLs(t, ts); !maps.Equal(got, want) {
			t.Fatalf("a csr's post changed the URLs to %v, want %v", got, want)
		}
	})
}

// TestSettingsForm sets settings through the console's form, refuses an
// invalid value without storing any of the post, and refuses a csr's post.
func TestSettingsForm(t *testing.T) {
	onEachBackend(t, func(t *testing.T, ts *consoleServer, admin, csr *operatorClient) {
		before := settingValues(t, ts)
		if before[model.SettingCompanyName] == "Acme Telecom" || before[model.SettingLinkExpiry] == "72h" {
			t.Fatalf("the settings already hold the test's values: %v", before)
		}
		form := pageForm(t, admin, "/console/settings", "v.")
		if len(form) != 1+len(model.SettingDefs) {
			t.Fatalf("the form has %d settings, want %d", len(form)-1, len(model.SettingDefs))
		}
		form.Set("v."+model.SettingCompanyName, "Acme Telecom")
		form.Set("v."+model.SettingLinkExpiry, "72h")
		if code, body := admin.post(t, "/console/settings", form); code != http.StatusSeeOther {
			t.Fatalf("saving the settings: %d %.300s", code, body)
		}
		want := maps.Clone(before)
		want[model.SettingCompanyName] = "Acme Telecom"
		want[model.SettingLinkExpiry] = "72h"
		if got := settingValues(t, ts); !maps.Equal(got, want) {
			t.Fatalf("after the save the settings are %v, want %v", got, want)
		}

		// One invalid value: the page again, the error at that setting, and
		// none of the post stored (sip_tls_port comes before link_expiry on
		// the form, company_name after it).
		form = pageForm(t, admin, "/console/settings", "v.")
		form.Set("v."+model.SettingSIPTLSPort, "5062")
		form.Set("v."+model.SettingLinkExpiry, "forever")
		form.Set("v."+model.SettingCompanyName, "Other Corp")
		code, page := admin.post(t, "/console/settings", form)
		if code == http.StatusSeeOther || code >= 500 {
			t.Fatalf("an invalid link_expiry: %d, want the page again", code)
		}
		if e := fieldErrorAt(page, "v."+model.SettingLinkExpiry); !strings.Contains(e, "link_expiry") {
			t.Errorf("no error naming link_expiry next to it (got %q)", e)
		}
		for _, k := range []string{model.SettingSIPTLSPort, model.SettingCompanyName} {
			if e := fieldErrorAt(page, "v."+k); e != "" {
				t.Errorf("an error next to %s: %q", k, e)
			}
		}
		if !strings.Contains(page, `role="alert">link_expiry: `) {
			t.Error("the page's error does not name link_expiry")
		}
		if got := settingValues(t, ts); !maps.Equal(got, want) {
			t.Fatalf("a post with an invalid value changed the settings to %v, want %v", got, want)
		}

		// A csr may read the settings but not save them.
		form = pageForm(t, csr, "/console/settings", "v.")
		form.Set("v."+model.SettingCompanyName, "Bob's Company")
		form.Set("v."+model.SettingLinkExpiry, "1h")
		if code, _ := csr.post(t, "/console/settings", form); code != http.StatusForbidden {
			t.Errorf("a csr saving the settings: %d, want 403", code)
		}
		if got := settingValues(t, ts); !maps.Equal(got, want) {
			t.Fatalf("a csr's post changed the settings to %v, want %v", got, want)
		}
	})
}

// TestProfileEditForm edits the default profile through its form, as a
// browser posts it (every field), refuses an invalid value without changing
// anything, and refuses a csr's post.
func TestProfileEditForm(t *testing.T) {
	onEachBackend(t, func(t *testing.T, ts *consoleServer, admin, csr *operatorClient) {
		ctx := context.Background()
		dom := ts.app.Domain
		stored := func() model.ProfileSettings {
			t.Helper()
			p, err := dom.Profiles.Get(ctx, "default", tester)
			if err != nil {
				t.Fatal(err)
			}
			return p.Settings
		}
		before := stored()
		if before.PIN.Forced || before.KeepAliveSeconds == 45 || before.Security[model.EndToSite].Transport == "tcp" {
			t.Fatalf("the default profile already holds the test's values: %+v", before)
		}
		form := pageForm(t, admin, "/console/profiles/default", "s.")
		form.Set("s.pin.forced", "true")
		form.Set("s.keep_alive_seconds", "45")
		form.Set("s.security.end-to-site.transport", "tcp")
		if code, body := admin.post(t, "/console/profiles/default", form); code != http.StatusSeeOther {
			t.Fatalf("saving the profile: %d %.300s", code, body)
		}
		want := before
		want.PIN.Forced = true
		want.KeepAliveSeconds = 45
		want.Security = maps.Clone(before.Security)
		e2s := want.Security[model.EndToSite]
		e2s.Transport = "tcp"
		want.Security[model.EndToSite] = e2s
		if got := stored(); !reflect.DeepEqual(got, want) {
			t.Fatalf("after the save the profile is\n%+v\nwant\n%+v", got, want)
		}

		// An invalid value: a field error and nothing changed, not even the
		// valid fields of the same post.
		form = pageForm(t, admin, "/console/profiles/default", "s.")
		form.Set("s.keep_alive_seconds", "-1")
		form.Set("s.pin.attempts", "7")
		form.Set("s.pin.forced", "false")
		code, page := admin.post(t, "/console/profiles/default", form)
		if code != http.StatusBadRequest {
			t.Fatalf("keep_alive_seconds=-1: %d, want 400", code)
		}
		if e := fieldErrorAt(page, "s.keep_alive_seconds"); !strings.Contains(e, "0 to 3600") {
			t.Errorf("no error next to keep_alive_seconds (got %q)", e)
		}
		if e := fieldErrorAt(page, "s.pin.attempts"); e != "" {
			t.Errorf("an error next to pin.attempts: %q", e)
		}
		if got := stored(); !reflect.DeepEqual(got, want) {
			t.Fatalf("a post with an invalid value changed the profile to\n%+v\nwant\n%+v", got, want)
		}

		// A csr may read the profile but not save it.
		form = pageForm(t, csr, "/console/profiles/default", "s.")
		form.Set("s.pin.forced", "false")
		form.Set("s.keep_alive_seconds", "60")
		if code, _ := csr.post(t, "/console/profiles/default", form); code != http.StatusForbidden {
			t.Errorf("a csr saving the profile: %d, want 403", code)
		}
		if got := stored(); !reflect.DeepEqual(got, want) {
			t.Fatalf("a csr's post changed the profile to\n%+v\nwant\n%+v", got, want)
		}
	})
}

// TestTemplatesForm writes the organisation's SMS text on the templates
// page, sees it previewed, is refused a text without the link with the
// error at the text, and restores the built-in text; a CSR may not write.
func TestTemplatesForm(t *testing.T) {
	onEachBackend(t, func(t *testing.T, ts *consoleServer, admin, csr *operatorClient) {
		form := url.Values{"csrf": {admin.csrf}, "channel": {"sms"}, "kind": {"activation"}, "language": {"de"}, "scope": {"language"},
			"action": {"save"}, "text": {"{{.Company}}: Telefon einrichten: {{.Link}}"}}
		if code, body := admin.post(t, "/console/templates", form); code != http.StatusSeeOther {
			t.Fatalf("saving a template: %d %.300s", code, body)
		}
		code, page := admin.get(t, "/console/templates?channel=sms&kind=activation&language=de&scope=language")
		if code != http.StatusOK || !strings.Contains(page, ": Telefon einrichten: http") || !strings.Contains(page, "(the organisation's)") {
			t.Fatalf("the German SMS preview does not show the saved text: %d %.3000s", code, page[strings.Index(page, "<h1>"):])
		}
		if _, page := admin.get(t, "/console/templates?channel=sms&kind=activation&language=it"); strings.Contains(page, "Telefon einrichten") {
			t.Errorf("the German text is previewed for Italian")
		}

		form.Set("text", "Telefon einrichten, ohne Link")
		code, page = admin.post(t, "/console/templates", form)
		if code != http.StatusBadRequest {
			t.Fatalf("a text without the link: %d, want 400", code)
		}
		if !regexp.MustCompile(`</textarea></label><span class="ferr">[^<]*text: must write the link`).MatchString(page) || !strings.Contains(page, ">Telefon einrichten, ohne Link</textarea>") {
			t.Errorf("the refused text is not shown again with its error: %.3000s", page)
		}
		tm, err := ts.app.Domain.Messages.Template(context.Background(), "sms.activation.de", tester)
		if err != nil || !strings.Contains(tm.Text, "{{.Link}}") || !tm.CustomText {
			t.Errorf("the refused text changed the stored one: %+v %v", tm, err)
		}

		csrForm := maps.Clone(form)
		csrForm.Set("csrf", csr.csrf)
		csrForm.Set("text", "{{.Link}}")
		if code, _ := csr.post(t, "/console/templates", csrForm); code != http.StatusForbidden {
			t.Errorf("a CSR writing a template: %d, want 403", code)
		}

		form.Set("action", "reset")
		if code, body := admin.post(t, "/console/templates", form); code != http.StatusSeeOther {
			t.Fatalf("restoring the built-in text: %d %.300s", code, body)
		}
		if tm, _ := ts.app.Domain.Messages.Template(context.Background(), "sms.activation.de", tester); tm.CustomText {
			t.Errorf("the built-in text is not restored: %+v", tm)
		}
	})
}
