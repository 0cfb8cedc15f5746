package console_test

import (
	"context"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/web/axetest"
)

// TestProviderInBrowser is the provider's day in Chromium: the provider
// admin creates an organisation from the Organisations page, acts inside
// it and makes its admin, who sets a password and logs in at the
// organisation's own host, imports accounts and sends their links; the
// landing page of one of them shows the organisation's name and logo, and
// axe finds nothing wrong with it.
func TestProviderInBrowser(t *testing.T) {
	needChromium(t)
	axe := axetest.Available(t)
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	u, _ := url.Parse(ts.url)
	acmeURL := "http://localhost:" + u.Port() // acme's host, on the same listener
	provider := activation.Caller{Name: "provider", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
	created, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("boss"), Role: new(model.RoleProvider)}, provider)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dom.Access.SetPassword(ctx, created.SetPasswordURL[strings.LastIndex(created.SetPasswordURL, "/")+1:], "password of boss"); err != nil {
		t.Fatal(err)
	}
	b := browser(t)
	run(t, b, "provider's login", viewport(false), chromedp.Navigate(ts.url+"/console/login"), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "boss"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "password of boss"),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#dash-counts")))
	run(t, b, "create acme", chromedp.Navigate(ts.url+"/console/orgs"), chromedp.WaitVisible(chromedp.CSS("#org-form")),
		chromedp.SendKeys(chromedp.CSS(`#org-form input[name=name]`), "ACME Corp"),
		chromedp.SendKeys(chromedp.CSS(`#org-form input[name=slug]`), "acme"),
		chromedp.SendKeys(chromedp.CSS(`#org-form input[name=base_url]`), acmeURL),
		chromedp.Click(chromedp.CSS("#create-org")), chromedp.WaitVisible(chromedp.CSS("#org-acme")))
	run(t, b, "act inside acme", chromedp.Click(chromedp.CSS(`#org-acme form[action="/console/orgs/act"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#acting-in")))
	if got := textOf(t, b, "#acting-in"); got != "ACME Corp" {
		t.Fatalf("acting in %q", got)
	}
	acme, err := dom.Organisations.Get(ctx, "acme", provider)
	if err != nil {
		t.Fatal(err)
	}
	inAcme := provider
	inAcme.OrgID = acme.ID
	// Its logo, as its admin would set it.
	logo := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="64" height="16"><rect width="64" height="16" fill="#c00"/></svg>`))
	if _, err := dom.Settings.Set(ctx, model.SettingBrandLogoURL, logo, inAcme); err != nil {
		t.Fatal(err)
	}
	if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("staff"), ITEmail: strp("it@acme.example")}, inAcme); err != nil {
		t.Fatal(err)
	}
	run(t, b, "acme's admin", chromedp.Navigate(ts.url+"/console/operators"), chromedp.WaitVisible(chromedp.CSS("#operator-form")),
		chromedp.SendKeys(chromedp.CSS(`#operator-form input[name=name]`), "acme-admin"),
		chromedp.SetValue(chromedp.CSS(`#operator-form select[name=role]`), "admin"),
		chromedp.Click(chromedp.CSS(`#operator-form button`)), chromedp.WaitVisible(chromedp.CSS("#set-password-link")))
	link := textOf(t, b, "#set-password-link code")
	if !strings.HasPrefix(link, acmeURL+"/console/set-password/") {
		t.Fatalf("acme's admin's link is not at acme's host: %q", link)
	}

	// Acme's admin, at acme's host.
	run(t, b, "acme's admin sets a password", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#set-password")),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "a long enough password"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password2]`), "a long enough password"),
		chromedp.Click(chromedp.CSS("#set-password")), chromedp.WaitVisible(chromedp.CSS("#dash-counts")))
	if who := textOf(t, b, ".who span"); !strings.Contains(who, "acme-admin") || strings.Contains(who, "provider") {
		t.Errorf("logged in at acme's host as %q", who)
	}
	csvPath := filepath.Join(t.TempDir(), "acme.csv")
	if err := os.WriteFile(csvPath, []byte("full name;e-mail\nAda Lovelace;ada@acme.example\nGrace Hopper;grace@acme.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, b, "import and send", chromedp.Navigate(acmeURL+"/console/import"), chromedp.WaitVisible(chromedp.CSS("#import-form")),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=file]`), []string{csvPath}),
		chromedp.SetValue(chromedp.CSS(`#import-form select[name=group]`), "staff"),
		chromedp.SetValue(chromedp.CSS(`#import-form select[name=send]`), "email"),
		chromedp.Click(chromedp.CSS("#preview")), chromedp.WaitVisible(chromedp.CSS("#confirm-import")),
		chromedp.Click(chromedp.CSS("#confirm-import")))
	waitFor(t, b, "the sending's end", `(document.querySelector("#import-state") || {}).textContent === "done" && document.querySelector("#send-progress") && document.querySelector("#send-progress").value === 2`)
	if home, _ := dom.Accounts.List(ctx, "", "", "", 10, 0, tester); len(home) != 0 {
		t.Errorf("acme's import made %d accounts in the provider's organisation", len(home))
	}

	// Ada's landing page, from the message acme's outbox kept.
	var token string
	for range 200 {
		items, err := dom.Messages.Outbox(ctx, 10, inAcme)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Recipient == "ada@acme.example" {
				whole, err := dom.Messages.OutboxItem(ctx, it.ID, inAcme)
				if err != nil {
					t.Fatal(err)
				}
				token = secret.LinkTokens.FindString(whole.Body)
			}
		}
		if token != "" {
			break
		}
		waitFor(t, b, "a moment", `new Promise(r => setTimeout(() => r(true), 20))`)
	}
	if token == "" {
		t.Fatal("ada's message never reached acme's outbox")
	}
	run(t, b, "ada's landing page", viewport(true), chromedp.Navigate(acmeURL+"/a/"+token), chromedp.WaitVisible(chromedp.CSS("#logo")))
	if alt := get(t, b, "the logo", chromedp.Evaluate[string](`document.querySelector("#logo").alt + "|" + document.querySelector("#logo").naturalWidth`)); alt != "ACME Corp|64" {
		t.Errorf("the landing page's logo: %q, want ACME Corp's, loaded", alt)
	}
	if name := textOf(t, b, ".company"); !strings.Contains(name, "ACME Corp") {
		t.Errorf("the landing page names %q", name)
	}
	if axe {
		axetest.Check(t, b, "acme's landing page")
	}
}
