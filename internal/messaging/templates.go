package messaging

import (
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/model"
)

// MessageVars are the values an installation or activation message carries.
// None of them is a credential: the link is the only secret, and it is the
// https landing page link, never the SIP password.
type MessageVars struct {
	Name    string // the user's display name; may be empty
	Link    string // BASE/a/{token}
	Company string // company name; empty reads as "your IT department"
	ITEmail string // the group's IT e-mail; may be empty
	// ITContact is the organisation's IT contact (it_contact), which a
	// custom text's {{.ITContact}} writes when the group has no IT e-mail.
	ITContact string
	ExpiresAt time.Time
	// LogoURL is the company's logo, shown with its name at the top of the
	// e-mail: an https URL; anything else (a data URI, which mail clients
	// block) is left out. SMS shows the name only.
	LogoURL string
	// Colour is the company's colour as #rrggbb, the e-mail button's
	// background; "" or malformed keeps the default blue.
	Colour string
}

// Rendered is a message ready for a gateway. Subject and HTML are empty for SMS.
type Rendered struct {
	Subject, Text, HTML string
}

// Templates renders the messages of both channels and both link kinds in
// every language of the catalogue. It is safe for concurrent use.
type Templates struct {
	cat  *i18n.Catalogue
	text *texttemplate.Template
	html *htmltemplate.Template
}

// emailText is the plain text part of an e-mail.
const emailText = `{{if .Custom}}{{.BodyText}}
{{else}}{{.Greeting}}

{{.Intro}}

{{.Link}}

{{.Expires}}

{{.Help}}
{{end}}
-- 
{{.Footer}}
`

// emailHTML is the HTML part of an e-mail. Mail clients drop <style> and
// scripts, so the styles are inline and the layout is a table; the link is
// there twice, as a button and as text to copy. The empty data-activator-qr
// paragraph is where the SMTP gateway puts the link's QR code, an inline image.
const emailHTML = `<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f3f4f6">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px;background:#ffffff;border:1px solid #d9dde3;border-radius:12px">
<tr><td style="padding:24px;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2328">
{{if .Company}}<p data-activator-brand style="margin:0 0 16px;font-weight:600;color:#4b5563">{{if .Logo}}<img src="{{.Logo}}" alt="" height="32" style="display:block;height:32px;width:auto;max-width:160px;border:0;margin:0 0 8px">{{end}}{{.Company}}</p>
{{end}}{{if .Custom}}{{.Body}}
<p style="margin:0 0 24px;text-align:center"><a href="{{.Link}}" style="display:inline-block;padding:14px 28px;background:{{.ButtonBG}};color:{{.ButtonFG}};text-decoration:none;border-radius:10px;font-weight:600;font-size:18px;line-height:1.25">{{.Button}}</a></p>
<p data-activator-qr style="margin:0 0 24px;text-align:center"></p>
{{else}}<p style="margin:0 0 16px">{{.Greeting}}</p>
<p style="margin:0 0 24px">{{.Intro}}</p>
<p style="margin:0 0 24px;text-align:center"><a href="{{.Link}}" style="display:inline-block;padding:14px 28px;background:{{.ButtonBG}};color:{{.ButtonFG}};text-decoration:none;border-radius:10px;font-weight:600;font-size:18px;line-height:1.25">{{.Button}}</a></p>
<p style="margin:0 0 8px;font-size:14px;color:#4b5563">{{.LinkText}}</p>
<p style="margin:0 0 24px;font-size:14px;word-break:break-all"><a href="{{.Link}}" style="color:#0b57d0">{{.Link}}</a></p>
<p data-activator-qr style="margin:0 0 24px;text-align:center"></p>
<p style="margin:0 0 16px">{{.Expires}}</p>
<p style="margin:0">{{.Help}}</p>
{{end}}</td></tr>
</table>
<p style="max-width:560px;margin:16px auto 0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:12px;line-height:1.5;color:#6b7280">{{.Footer}}</p>
</td></tr>
</table>
</body>
</html>
`

// NewTemplates parses the e-mail layouts once and renders every language,
// channel and kind once with sample values, so that a broken catalogue
// text fails at start and not when a message is queued.
func NewTemplates(cat *i18n.Catalogue) (*Templates, error) {
	if cat == nil {
		return nil, fmt.Errorf("messaging: templates: no catalogue")
	}
	text, err := texttemplate.New("email.txt").Option("missingkey=error").Parse(emailText)
	if err != nil {
		return nil, fmt.Errorf("messaging: parsing e-mail text template: %w", err)
	}
	html, err := htmltemplate.New("email.html").Option("missingkey=error").Parse(emailHTML)
	if err != nil {
		return nil, fmt.Errorf("messaging: parsing e-mail html template: %w", err)
	}
	t := &Templates{cat: cat, text: text, html: html}
	sample := MessageVars{
		Name: "Ada", Link: "https://activate.example.com/a/sample", Company: "ACME",
		ITEmail: "it@example.com", ExpiresAt: time.Date(2030, time.January, 1, 12, 0, 0, 0, time.UTC),
		LogoURL: "https://activate.example.com/logo.png", Colour: "#ffd54f",
	}
	for _, lang := range cat.Languages() {
		for _, channel := range []string{model.ChannelEmail, model.ChannelSMS} {
			for _, kind := range model.LinkKinds {
				if _, err := t.Render(lang, channel, kind, sample); err != nil {
					return nil, fmt.Errorf("messaging: checking templates: %w", err)
				}
			}
		}
	}
	return t, nil
}

// placeholders are the values the catalogue's message texts may use.
type placeholders struct {
	Name, Company, Link, Date, ITEmail string
}

// emailData is the input of both e-mail layouts, every text already chosen.
type emailData struct {
	Lang, Subject, Greeting, Intro, Button, LinkText, Link, Expires, Help, Footer string
	Company, Logo                                                                 string // the brand line at the top; "" leaves it out
	ButtonBG, ButtonFG                                                            htmltemplate.CSS
	// Custom says the body is the organisation's: BodyText in the text
	// part, Body (its text escaped, CustomText.html) in the HTML part.
	Custom   bool
	BodyText string
	Body     htmltemplate.HTML
}

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Render builds the message carrying a link of kind for channel
// (model.ChannelEmail or model.ChannelSMS) in lang with the built-in
// texts; an empty or unsupported lang is English.
func (t *Templates) Render(lang, channel string, kind model.LinkKind, v MessageVars) (Rendered, error) {
	return t.RenderWith(nil, lang, channel, kind, v)
}

// RenderWith is Render with an organisation's custom texts: each of the
// message's subject and text is the language's own custom one, else the
// custom one of every language, else the built-in one.
func (t *Templates) RenderWith(set CustomSet, lang, channel string, kind model.LinkKind, v MessageVars) (Rendered, error) {
	if !kind.Valid() {
		return Rendered{}, fmt.Errorf("messaging: rendering message: unknown kind %q", kind)
	}
	if channel != model.ChannelEmail && channel != model.ChannelSMS {
		return Rendered{}, fmt.Errorf("messaging: rendering message: unknown channel %q", channel)
	}
	if v.Link == "" {
		return Rendered{}, fmt.Errorf("messaging: rendering %s %s message: no link", kind, channel)
	}
	if v.ExpiresAt.IsZero() {
		return Rendered{}, fmt.Errorf("messaging: rendering %s %s message: no expiry time", kind, channel)
	}
	lang = i18n.Normalize(lang)
	p := placeholders{
		Name:    v.Name,
		Company: v.Company,
		Link:    v.Link,
		Date:    t.cat.FormatDate(lang, v.ExpiresAt),
		ITEmail: v.ITEmail,
	}
	if p.Company == "" {
		p.Company = t.cat.T(lang, "company.fallback")
	}
	f := formatter{cat: t.cat, lang: lang, p: p}
	custom := set.pick(channel, kind, lang)
	cv := customValues{Name: v.Name, Link: v.Link, Company: p.Company, ITContact: v.ITEmail}
	if cv.ITContact == "" {
		cv.ITContact = v.ITContact
	}

	if channel == model.ChannelSMS {
		// The date alone keeps the SMS short.
		f.p.Date = t.cat.FormatDay(lang, v.ExpiresAt)
		var text string
		if custom.Text != nil {
			cv.Expiry = f.p.Date
			text = custom.Text.text(cv)
		} else {
			text = f.named("sms." + string(kind))
		}
		text = FoldGSM(text) // GSM-7 when look-alikes allow: 160 characters a part, not 70
		if f.err != nil {
			return Rendered{}, fmt.Errorf("messaging: rendering %s sms: %w", kind, f.err)
		}
		return Rendered{Text: text}, nil
	}

	d := emailData{
		Lang:     lang,
		Subject:  singleLine(f.format("email." + string(kind) + ".subject")),
		Greeting: f.named("email.greeting"),
		Intro:    f.format("email." + string(kind) + ".intro"),
		Button:   t.cat.T(lang, "email."+string(kind)+".button"),
		LinkText: t.cat.T(lang, "email.link.text"),
		Link:     v.Link,
		Expires:  f.format("email.expires"),
		Help:     t.cat.T(lang, "email.help"),
		Footer:   f.format("email.footer"),
		Company:  singleLine(v.Company),
		ButtonBG: "#0b57d0",
		ButtonFG: "#ffffff",
	}
	if u, err := url.Parse(v.LogoURL); err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
		d.Logo = v.LogoURL
	}
	if colourRE.MatchString(v.Colour) {
		c := strings.ToLower(v.Colour)
		d.ButtonBG, d.ButtonFG = htmltemplate.CSS(c), htmltemplate.CSS(model.BrandTextColour(c))
	}
	if v.ITEmail != "" {
		d.Help = f.format("email.help.email")
	}
	cv.Expiry = p.Date
	if custom.Subject != nil {
		d.Subject = singleLine(custom.Subject.text(cv))
	}
	if custom.Text != nil {
		d.Custom, d.BodyText = true, custom.Text.text(cv)
		d.Body = htmltemplate.HTML(custom.Text.html(cv, "color:#0b57d0;word-break:break-all")) // every character escaped
	}
	if f.err != nil {
		return Rendered{}, fmt.Errorf("messaging: rendering %s e-mail: %w", kind, f.err)
	}
	var text, html strings.Builder
	if err := t.text.Execute(&text, d); err != nil {
		return Rendered{}, fmt.Errorf("messaging: rendering %s e-mail text: %w", kind, err)
	}
	if err := t.html.Execute(&html, d); err != nil {
		return Rendered{}, fmt.Errorf("messaging: rendering %s e-mail html: %w", kind, err)
	}
	return Rendered{Subject: d.Subject, Text: text.String(), HTML: html.String()}, nil
}

// formatter renders catalogue texts for one message and keeps the first
// error, so Render checks once.
type formatter struct {
	cat  *i18n.Catalogue
	lang string
	p    placeholders
	err  error
}

func (f *formatter) format(key string) string {
	s, err := f.cat.Format(f.lang, key, f.p)
	if err != nil && f.err == nil {
		f.err = err
	}
	return s
}

// named renders key, or key+".anonymous" when the user has no name, so that
// no message reads "Hello ,".
func (f *formatter) named(key string) string {
	if strings.TrimSpace(f.p.Name) == "" {
		key += ".anonymous"
	}
	return f.format(key)
}

// singleLine keeps a header value on one line whatever the company name holds.
func singleLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
