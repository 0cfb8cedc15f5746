package messaging

import (
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/model"
)

func newTemplates(t *testing.T) (*Templates, *i18n.Catalogue) {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatalf("i18n.Load: %v", err)
	}
	tm, err := NewTemplates(cat)
	if err != nil {
		t.Fatalf("NewTemplates: %v", err)
	}
	return tm, cat
}

const testLink = "https://activate.example.com/a/act_0123456789abcdefghijklmnopqrstuv"

func testVars() MessageVars {
	return MessageVars{
		Name:      "Ada Lovelace",
		Link:      testLink,
		Company:   "ACME Corp",
		ITEmail:   "it@acme.example",
		ExpiresAt: time.Date(2026, time.March, 9, 14, 30, 0, 0, time.UTC),
	}
}

func TestRenderEveryLanguageChannelKind(t *testing.T) {
	tm, cat := newTemplates(t)
	v := testVars()
	for _, lang := range cat.Languages() {
		for _, channel := range []string{model.ChannelSMS, model.ChannelEmail} {
			for _, kind := range model.LinkKinds {
				t.Run(lang+"/"+channel+"/"+string(kind), func(t *testing.T) {
					got, err := tm.Render(lang, channel, kind, v)
					if err != nil {
						t.Fatalf("Render: %v", err)
					}
					date := cat.FormatDate(lang, v.ExpiresAt)
					if channel == model.ChannelSMS {
						date = cat.FormatDay(lang, v.ExpiresAt)
					}
					for _, want := range []string{testLink, "Ada Lovelace", "ACME Corp", date} {
						if !strings.Contains(got.Text, want) {
							t.Errorf("text lacks %q:\n%s", want, got.Text)
						}
					}
					for _, part := range []string{got.Subject, got.Text, got.HTML} {
						if strings.Contains(part, "{{") || strings.Contains(part, "<no value>") ||
							strings.Contains(part, "email.") || strings.Contains(part, "sms.") {
							t.Errorf("a raw key or placeholder was left:\n%s", part)
						}
					}
					if channel == model.ChannelSMS {
						if got.Subject != "" || got.HTML != "" {
							t.Errorf("sms has a subject or html: %+v", got)
						}
						if strings.Count(got.Text, "https://") != 1 {
							t.Errorf("sms should carry exactly one link:\n%s", got.Text)
						}
						// Three GSM segments at most, even in UCS-2 for accented text.
						if n := len([]rune(got.Text)); n > 201 {
							t.Errorf("sms is %d characters long:\n%s", n, got.Text)
						}
						return
					}
					if got.Subject == "" || strings.ContainsAny(got.Subject, "\r\n") {
						t.Errorf("subject = %q", got.Subject)
					}
					if !strings.Contains(got.Subject, "ACME Corp") {
						t.Errorf("subject %q does not name the company", got.Subject)
					}
					if n := strings.Count(got.HTML, `href="`+testLink+`"`); n != 2 {
						t.Errorf("html links to the landing page %d times, want 2 (button and text)", n)
					}
					if !strings.Contains(got.HTML, `<html lang="`+lang+`">`) {
						t.Error("html part does not declare its language")
					}
					if !strings.Contains(got.HTML, htmlText(cat.T(lang, "email."+string(kind)+".button"))) {
						t.Error("html part lacks the button label")
					}
					if !strings.Contains(got.Text, "it@acme.example") || !strings.Contains(got.HTML, "it@acme.example") {
						t.Error("the IT e-mail is missing")
					}
				})
			}
		}
	}
}

// htmlText escapes s the way html/template writes text.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func TestNameIsEscapedInHTML(t *testing.T) {
	tm, _ := newTemplates(t)
	v := testVars()
	v.Name = `<img src=x onerror=alert(1)> "Ada" & Co`
	v.Company = `<b>ACME</b>`
	got, err := tm.Render("en", model.ChannelEmail, model.LinkActivation, v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.HTML, "<img") || strings.Contains(got.HTML, "<b>ACME") {
		t.Fatalf("markup reached the html part:\n%s", got.HTML)
	}
	if !strings.Contains(got.HTML, "&lt;img src=x onerror=alert(1)&gt; &#34;Ada&#34; &amp; Co") {
		t.Errorf("escaped name not found:\n%s", got.HTML)
	}
	if !strings.Contains(got.Text, v.Name) {
		t.Errorf("the text part should carry the name as is:\n%s", got.Text)
	}
}

func TestLinkWithQueryIsEscapedInHTML(t *testing.T) {
	tm, _ := newTemplates(t)
	v := testVars()
	v.Link = "https://activate.example.com/a/tok?x=1&y=2"
	got, err := tm.Render("de", model.ChannelEmail, model.LinkInstallation, v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.HTML, `href="https://activate.example.com/a/tok?x=1&amp;y=2"`) {
		t.Errorf("link not escaped as an attribute:\n%s", got.HTML)
	}
	if !strings.Contains(got.Text, v.Link) {
		t.Error("text part lacks the raw link")
	}
}

func TestUnknownChannelOrKind(t *testing.T) {
	tm, _ := newTemplates(t)
	v := testVars()
	if _, err := tm.Render("en", "pigeon", model.LinkActivation, v); err == nil || !strings.Contains(err.Error(), `"pigeon"`) {
		t.Errorf("unknown channel: err = %v", err)
	}
	if _, err := tm.Render("en", model.ChannelSMS, "welcome", v); err == nil || !strings.Contains(err.Error(), `"welcome"`) {
		t.Errorf("unknown kind: err = %v", err)
	}
	v.Link = ""
	if _, err := tm.Render("en", model.ChannelSMS, model.LinkActivation, v); err == nil {
		t.Error("no link: no error")
	}
	v = testVars()
	v.ExpiresAt = time.Time{}
	if _, err := tm.Render("en", model.ChannelEmail, model.LinkActivation, v); err == nil {
		t.Error("no expiry: no error")
	}
}

func TestLanguageFallback(t *testing.T) {
	tm, cat := newTemplates(t)
	v := testVars()
	for lang, want := range map[string]string{"": "en", "xx": "en", "it-IT": "it", "FR": "fr"} {
		got, err := tm.Render(lang, model.ChannelEmail, model.LinkActivation, v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.HTML, `<html lang="`+want+`">`) {
			t.Errorf("lang %q: html part is not %s", lang, want)
		}
		if !strings.Contains(got.Text, cat.FormatDate(want, v.ExpiresAt)) {
			t.Errorf("lang %q: text is not %s:\n%s", lang, want, got.Text)
		}
	}
}

func TestOptionalValues(t *testing.T) {
	tm, cat := newTemplates(t)
	v := testVars()
	v.Name, v.Company, v.ITEmail = "", "", ""
	for _, lang := range cat.Languages() {
		sms, err := tm.Render(lang, model.ChannelSMS, model.LinkActivation, v)
		if err != nil {
			t.Fatal(err)
		}
		if want := cat.T(lang, "company.fallback"); !strings.HasPrefix(sms.Text, want) {
			t.Errorf("%s: sms %q does not start with %q", lang, sms.Text, want)
		}
		mail, err := tm.Render(lang, model.ChannelEmail, model.LinkInstallation, v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(mail.Text, cat.T(lang, "email.greeting.anonymous")+"\n") {
			t.Errorf("%s: e-mail does not open with the anonymous greeting:\n%s", lang, mail.Text)
		}
		if !strings.Contains(mail.Text, cat.T(lang, "email.help")) || strings.Contains(mail.HTML, "@") {
			t.Errorf("%s: with no IT e-mail the help line should only name the IT department", lang)
		}
	}
}

func TestSubjectStaysOnOneLine(t *testing.T) {
	tm, _ := newTemplates(t)
	v := testVars()
	v.Company = "ACME\r\nBcc: victim@example.com"
	got, err := tm.Render("en", model.ChannelEmail, model.LinkActivation, v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(got.Subject, "\r\n") {
		t.Errorf("subject = %q", got.Subject)
	}
}

// TestBrandInEmail: an e-mail shows the company's logo (an https one: mail
// clients block data URIs) above its name, and its button in the
// company's colour with text that reads on it; an SMS carries the name
// alone; with no brand the e-mail keeps its default look.
func TestBrandInEmail(t *testing.T) {
	tm, _ := newTemplates(t)
	v := testVars()
	v.LogoURL, v.Colour = "https://cdn.acme.example/logo.png", "#FFF59D"
	r, err := tm.Render("en", model.ChannelEmail, model.LinkActivation, v)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<p data-activator-brand style="margin:0 0 16px;font-weight:600;color:#4b5563"><img src="https://cdn.acme.example/logo.png" alt="" height="32" style="display:block;height:32px;width:auto;max-width:160px;border:0;margin:0 0 8px">ACME Corp</p>`,
		`background:#fff59d;color:#000000;`,
	} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("the e-mail lacks %s:\n%s", want, r.HTML)
		}
	}
	if strings.Contains(r.Text, "logo") {
		t.Errorf("the text part names the logo:\n%s", r.Text)
	}
	sms, err := tm.Render("en", model.ChannelSMS, model.LinkActivation, v)
	if err != nil || !strings.HasPrefix(sms.Text, "ACME Corp: ") || strings.Contains(sms.Text, "logo") || sms.HTML != "" {
		t.Errorf("the SMS: %q %v", sms.Text, err)
	}

	v.LogoURL, v.Colour = "data:image/png;base64,iVBORw0KGgo=", "#0a1f44"
	r, _ = tm.Render("en", model.ChannelEmail, model.LinkActivation, v)
	if strings.Contains(r.HTML, "<img") || !strings.Contains(r.HTML, `">ACME Corp</p>`) || !strings.Contains(r.HTML, "background:#0a1f44;color:#ffffff;") {
		t.Errorf("an e-mail of a data URI logo and a dark colour:\n%s", r.HTML)
	}
	v.LogoURL, v.Colour = "", "red;background-image:url(x)"
	r, _ = tm.Render("en", model.ChannelEmail, model.LinkActivation, v)
	if strings.Contains(r.HTML, "<img") || strings.Contains(r.HTML, "url(x)") || !strings.Contains(r.HTML, "background:#0b57d0;color:#ffffff;") {
		t.Errorf("an e-mail of no logo and a malformed colour:\n%s", r.HTML)
	}
	v.Company = ""
	if r, _ = tm.Render("en", model.ChannelEmail, model.LinkActivation, v); strings.Contains(r.HTML, "data-activator-brand") {
		t.Errorf("an e-mail with no company name has a brand line:\n%s", r.HTML)
	}
}
