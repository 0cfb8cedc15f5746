package messaging

import (
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
)

func mustCustom(t *testing.T, field, src string) *CustomText {
	t.Helper()
	c, err := ParseCustom(field, src)
	if err != nil {
		t.Fatalf("ParseCustom(%q): %v", src, err)
	}
	return c
}

// TestCustomEmailBodyIsTextInTheHTML: an organisation's body is escaped
// into the HTML part, paragraph by paragraph, its link a link, with the
// button and the QR code's place kept; the text part is the body as
// written; its language's own subject wins over every language's.
func TestCustomEmailBodyIsTextInTheHTML(t *testing.T) {
	tm, _ := newTemplates(t)
	v := testVars()
	v.Name = `Ada <script>alert(1)</script>`
	set := CustomSet{
		TemplateKey(model.ChannelEmail, model.LinkActivation, ""): {
			Subject: mustCustom(t, "subject", "{{.Company}} for everyone"),
			Text:    mustCustom(t, "text", "Hi {{.Name}},\n\n<b>open</b> this:\n{{.Link}}\n\nUntil {{.Expiry}}. Help: {{.ITContact}}"),
		},
		TemplateKey(model.ChannelEmail, model.LinkActivation, "de"): {Subject: mustCustom(t, "subject", "{{.Company}} auf Deutsch")},
	}
	r, err := tm.RenderWith(set, "de", model.ChannelEmail, model.LinkActivation, v)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "ACME Corp auf Deutsch" {
		t.Errorf("subject %q, want the German one", r.Subject)
	}
	if !strings.HasPrefix(r.Text, "Hi Ada <script>alert(1)</script>,\n\n<b>open</b> this:\n"+testLink+"\n\nUntil 9. März 2026") || !strings.Contains(r.Text, "Help: it@acme.example\n\n-- \n") {
		t.Errorf("text part:\n%s", r.Text)
	}
	for _, want := range []string{
		`<p style="margin:0 0 16px">Hi Ada &lt;script&gt;alert(1)&lt;/script&gt;,</p><p style="margin:0 0 16px">&lt;b&gt;open&lt;/b&gt; this:<br><a href="` + testLink + `"`,
		`data-activator-qr`,
	} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML part lacks %s:\n%s", want, r.HTML)
		}
	}
	if strings.Count(r.HTML, `href="`+testLink+`"`) != 2 || strings.Contains(r.HTML, "<b>") || strings.Contains(r.HTML, "<script>") {
		t.Errorf("HTML part: want the link as a link and as the button, and no HTML of the text's:\n%s", r.HTML)
	}
	// French has no own subject: every language's.
	if r, _ := tm.RenderWith(set, "fr", model.ChannelEmail, model.LinkActivation, v); r.Subject != "ACME Corp for everyone" {
		t.Errorf("French subject %q, want every language's", r.Subject)
	}
	// The installation e-mail keeps the built-in texts.
	if r, _ := tm.RenderWith(set, "de", model.ChannelEmail, model.LinkInstallation, v); strings.Contains(r.Subject, "auf Deutsch") || strings.Contains(r.Text, "open</b>") {
		t.Errorf("the installation e-mail took the activation's texts: %q", r.Subject)
	}
}
