package activation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestMessageTemplatesAreEachOrganisationsOwn sends for two
// organisations, one with its own texts: its messages carry them, the
// other's keep the built-in text, and a bad text is refused naming its
// field.
func TestMessageTemplatesAreEachOrganisationsOwn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		provider := Caller{Name: "provider", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
		orgs := map[string]Caller{}
		for _, slug := range []string{"acme", "bravo"} {
			name := strings.ToUpper(slug)
			o, err := dom.Organisations.Create(ctx, model.OrganisationInput{Name: &name, Slug: &slug}, provider)
			if err != nil {
				t.Fatal(err)
			}
			by := Caller{Name: slug + "-admin", Role: model.RoleAdmin, OrgID: o.ID}
			orgs[slug] = by
			if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, by); err != nil {
				t.Fatal(err)
			}
		}
		acme, bravo := orgs["acme"], orgs["bravo"]
		if _, err := dom.Settings.Set(ctx, model.SettingITContact, "help@acme.example", acme); err != nil {
			t.Fatal(err)
		}
		set := func(key string, subject, text *string) (*model.MessageTemplate, error) {
			return dom.Messages.SetTemplate(ctx, key, model.MessageTemplateInput{Subject: subject, Text: text}, acme)
		}
		sms, err := set("sms.activation", nil, strp("{{.Company}}: {{.Name}}, your phone: {{.Link}} (until {{.Expiry}}; help: {{.ITContact}})"))
		if err != nil {
			t.Fatal(err)
		}
		if !sms.CustomText || sms.Segments < 1 || sms.Encoding == "" || sms.Chars == 0 {
			t.Errorf("the SMS template's report: %+v", sms)
		}
		if _, err := set("email.activation.de", strp("{{.Company}} – Ihr Telefon"), strp("Hallo {{.Name}},\n\n<b>bitte</b> öffnen: {{.Link}}")); err != nil {
			t.Fatal(err)
		}

		send := func(by Caller, lang, channel string) *store.MessageRow {
			t.Helper()
			a, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Ada"), Email: strp("ada@example.com"),
				Mobile: strp("+39 333 123 4567"), Language: strp(lang)}, by)
			if err != nil {
				t.Fatal(err)
			}
			res, err := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: channel}, by)
			if err != nil {
				t.Fatal(err)
			}
			m, err := st.MessageByID(ctx, res.Message.ID)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		if m := send(acme, "it", model.ChannelSMS); !strings.HasPrefix(m.Body, "ACME: Ada, your phone: ") || !strings.Contains(m.Body, "help: help@acme.example)") {
			t.Errorf("ACME's SMS does not carry its text: %q", m.Body)
		}
		if m := send(bravo, "it", model.ChannelSMS); strings.Contains(m.Body, "your phone") || !strings.HasPrefix(m.Body, "BRAVO: ") {
			t.Errorf("BRAVO's SMS is not the built-in one: %q", m.Body)
		}
		m := send(acme, "de", model.ChannelEmail)
		if m.Subject != "ACME – Ihr Telefon" || !strings.Contains(m.Body, "Hallo Ada,\n\n<b>bitte</b> öffnen: ") {
			t.Errorf("ACME's German e-mail: subject %q, text %q", m.Subject, m.Body)
		}
		if !strings.Contains(m.HTML, "&lt;b&gt;bitte&lt;/b&gt;") || strings.Contains(m.HTML, "<b>bitte") {
			t.Errorf("the custom body reached the HTML part unescaped:\n%s", m.HTML)
		}
		if m := send(acme, "fr", model.ChannelEmail); strings.Contains(m.Subject, "Ihr Telefon") {
			t.Errorf("the German template was used for French: %q", m.Subject)
		}
		if m := send(bravo, "de", model.ChannelEmail); strings.Contains(m.Subject, "Ihr Telefon") || strings.Contains(m.Body, "bitte") {
			t.Errorf("BRAVO's German e-mail carries ACME's text: %q %q", m.Subject, m.Body)
		}

		// The wall: BRAVO's listing shows only built-in texts.
		ts, err := dom.Messages.Templates(ctx, bravo)
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range ts {
			if tm.CustomText || tm.CustomSubject {
				t.Errorf("BRAVO sees a custom template: %+v", tm)
			}
		}

		for _, c := range []struct {
			key, field, want string
			subject, text    *string
		}{
			{"sms.activation", "text", "must write the link", nil, strp("Hello {{.Name}}")},
			{"sms.activation", "text", "unknown placeholder {{.Password}}", nil, strp("{{.Link}} {{.Password}}")},
			{"sms.activation", "text", "does not parse", nil, strp("{{.Link}} {{.Name")},
			{"sms.activation", "text", "only placeholders", nil, strp(`{{.Link}} {{printf "%s" .Name}}`)},
			{"sms.activation", "text", "is not a placeholder", nil, strp(`{{.Link}} {{if .Name}}x{{end}}`)},
			{"sms.activation", "text", "SMS parts", nil, strp("{{.Link}} " + strings.Repeat("long text ", 99))},
			{"sms.activation", "subject", "only an e-mail", strp("Hi"), strp("{{.Link}}")},
			{"email.activation", "subject", "must not write {{.Link}}", strp("{{.Link}}"), nil},
			{"email.activation", "subject", "one line", strp("a\nb"), nil},
			{"sms.pigeon", "key", "unknown template", nil, strp("{{.Link}}")},
			{"sms.activation.xx", "key", "unknown template", nil, strp("{{.Link}}")},
		} {
			_, err := set(c.key, c.subject, c.text)
			var de *Error
			if !errors.As(err, &de) || de.Field != c.field || !strings.Contains(de.Message, c.want) {
				t.Errorf("%s %v %v: want field %s %q, got %v", c.key, c.subject, c.text, c.field, c.want, err)
			}
		}
		// A refused text changed nothing.
		if got, _ := dom.Messages.Template(ctx, "sms.activation", acme); !strings.Contains(got.Text, "your phone") {
			t.Errorf("a refused text replaced the stored one: %+v", got)
		}

		// An empty text restores the built-in one.
		if tm, err := set("sms.activation", nil, strp("")); err != nil || tm.CustomText || !strings.Contains(tm.Text, "{{.Expiry}}") {
			t.Fatalf("restoring the built-in SMS: %+v %v", tm, err)
		}
		if m := send(acme, "it", model.ChannelSMS); strings.Contains(m.Body, "your phone") {
			t.Errorf("the restored SMS still carries the custom text: %q", m.Body)
		}
	})
}

// TestEveryBuiltInTemplateIsAValidCustomOne checks that the built-in texts
// the templates' listing shows, in every language, are accepted as custom
// texts, so an admin can start from one, and that every preview renders.
func TestEveryBuiltInTemplateIsAValidCustomOne(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		ts, err := dom.Messages.Templates(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 2*2*(1+len(model.Languages)) {
			t.Fatalf("%d templates listed", len(ts))
		}
		for _, tm := range ts {
			var subject *string
			if tm.Channel == model.ChannelEmail {
				subject = &tm.Subject
			}
			got, err := dom.Messages.SetTemplate(ctx, tm.Key, model.MessageTemplateInput{Subject: subject, Text: &tm.Text}, admin)
			if err != nil {
				t.Errorf("the built-in %s as a custom text: %v", tm.Key, err)
				continue
			}
			if !got.CustomText {
				t.Errorf("%s: not stored", tm.Key)
			}
			lang := tm.Language
			for _, name := range []string{"Ada", ""} {
				p, err := dom.Messages.Preview(ctx, lang, tm.Channel, tm.Kind, name, admin)
				if err != nil || p.Text == "" || (tm.Channel == model.ChannelSMS && p.Segments > messaging.MaxSMSSegments) {
					t.Errorf("preview of %s: %+v %v", tm.Key, p, err)
				}
			}
		}
	})
}
