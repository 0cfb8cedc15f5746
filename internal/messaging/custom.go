package messaging

import (
	"fmt"
	"html"
	"strings"
	"text/template/parse"
	"unicode/utf8"

	"github.com/activator-voip/activator/internal/model"
)

// An organisation's own message texts. A custom text is plain text with
// placeholders written as the catalogue writes them ({{.Link}}); nothing
// else of the template language is allowed (no if, range, functions or
// variables), so a text can only write the values of
// model.TemplatePlaceholders, none of which is a credential, and renders in
// time proportional to its length.

// Limits on a custom text, before rendering.
const (
	MaxCustomSMS     = 1000  // characters of an SMS text
	MaxCustomSubject = 200   // characters of an e-mail subject
	MaxCustomBody    = 10000 // characters of an e-mail body
	// MaxSMSSegments is the most parts an SMS may take, rendered with
	// sample values: beyond it gateways refuse or truncate it, and each
	// part is paid for.
	MaxSMSSegments = 6
)

// TemplateError is a custom text refused: the field (subject or text)
// and what is wrong with it.
type TemplateError struct {
	Field, Problem string
}

func (e *TemplateError) Error() string { return e.Field + ": " + e.Problem }

// CustomText is a parsed custom text: literal text and placeholders.
type CustomText struct {
	src   string
	parts []customPart
}

type customPart struct {
	text  string // literal, when field is ""
	field string // a placeholder's name
}

// Source is the text as the organisation wrote it.
func (c *CustomText) Source() string { return c.src }

// hasField reports whether the text writes the placeholder name.
func (c *CustomText) hasField(name string) bool {
	for _, p := range c.parts {
		if p.field == name {
			return true
		}
	}
	return false
}

// ParseCustom parses a custom text of field ("text" or "subject"): only
// literal text and the placeholders of model.TemplatePlaceholders.
func ParseCustom(field, src string) (*CustomText, error) {
	bad := func(format string, args ...any) error {
		return &TemplateError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if !utf8.ValidString(src) {
		return nil, bad("is not valid UTF-8")
	}
	trees, err := parse.Parse(field, src, "{{", "}}", map[string]any{})
	if err != nil {
		// "template: text:1: unexpected ..." reads better as "line 1: unexpected ...".
		msg := strings.TrimPrefix(err.Error(), "template: "+field+":")
		if strings.Contains(msg, "not defined") {
			msg += ": only placeholders such as {{.Link}} are allowed (" + placeholderList() + ")"
		}
		return nil, bad("does not parse: line %s", msg)
	}
	c := &CustomText{src: src}
	tree := trees[field]
	if tree == nil || tree.Root == nil {
		return c, nil
	}
	if len(trees) > 1 {
		return nil, bad("defines templates; only text and placeholders such as {{.Link}} are allowed")
	}
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			c.parts = append(c.parts, customPart{text: string(n.Text)})
		case *parse.ActionNode:
			name, ok := placeholderName(n)
			if !ok {
				return nil, bad("%s is not a placeholder: only placeholders such as {{.Link}} are allowed (%s)", n, placeholderList())
			}
			if !knownPlaceholder(name) {
				return nil, bad("unknown placeholder {{.%s}}: the placeholders are %s", name, placeholderList())
			}
			c.parts = append(c.parts, customPart{field: name})
		default:
			return nil, bad("%s is not a placeholder: only placeholders such as {{.Link}} are allowed (%s)", n, placeholderList())
		}
	}
	return c, nil
}

// placeholderName is the name of an action {{.Name}}, and whether the
// action is nothing more.
func placeholderName(n *parse.ActionNode) (string, bool) {
	if n.Pipe == nil || len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
		return "", false
	}
	f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return "", false
	}
	return f.Ident[0], true
}

func knownPlaceholder(name string) bool {
	for _, p := range model.TemplatePlaceholders {
		if p.Name == name {
			return true
		}
	}
	return false
}

func placeholderList() string {
	names := make([]string, len(model.TemplatePlaceholders))
	for i, p := range model.TemplatePlaceholders {
		names[i] = "{{." + p.Name + "}}"
	}
	return strings.Join(names, ", ")
}

// customValues are the placeholders' values for one message.
type customValues struct {
	Name, Link, Company, Expiry, ITContact string
}

func (v customValues) of(field string) string {
	switch field {
	case "Name":
		return v.Name
	case "Link":
		return v.Link
	case "Company":
		return v.Company
	case "Expiry":
		return v.Expiry
	case "ITContact":
		return v.ITContact
	}
	return ""
}

// text renders c as plain text.
func (c *CustomText) text(v customValues) string {
	var b strings.Builder
	for _, p := range c.parts {
		if p.field == "" {
			b.WriteString(p.text)
		} else {
			b.WriteString(v.of(p.field))
		}
	}
	return b.String()
}

// html renders c as the paragraphs of an e-mail's HTML part: every
// character escaped, so that the text is shown as written and no HTML of
// the organisation's reaches a mail client; blank lines part paragraphs,
// line breaks stay, and the link is a link.
func (c *CustomText) html(v customValues, linkStyle string) string {
	var b strings.Builder
	b.WriteString(`<p style="margin:0 0 16px">`)
	for _, p := range c.parts {
		switch p.field {
		case "":
			b.WriteString(paragraphs(p.text))
		case "Link":
			fmt.Fprintf(&b, `<a href="%s" style="%s">%s</a>`, html.EscapeString(v.Link), linkStyle, html.EscapeString(v.Link))
		default:
			b.WriteString(paragraphs(v.of(p.field)))
		}
	}
	b.WriteString(`</p>`)
	return strings.ReplaceAll(b.String(), `<p style="margin:0 0 16px"></p>`, "")
}

// paragraphs escapes s and turns its blank lines into paragraph breaks
// and its other line breaks into <br>.
func paragraphs(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for i, para := range strings.Split(s, "\n\n") {
		if i > 0 {
			b.WriteString(`</p><p style="margin:0 0 16px">`)
		}
		for j, line := range strings.Split(para, "\n") {
			if j > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(html.EscapeString(line))
		}
	}
	return b.String()
}

// Custom is an organisation's texts for one channel and link kind in one
// language (or every language): nil fields keep the built-in text.
type Custom struct {
	Subject *CustomText // e-mail only
	Text    *CustomText // the SMS text or the e-mail body
}

// CustomSet is an organisation's custom texts by template key
// (model.MessageTemplate.Key). The zero value is every built-in text.
type CustomSet map[string]Custom

// TemplateKey is the key of the template of channel and kind in lang; ""
// is every language's.
func TemplateKey(channel string, kind model.LinkKind, lang string) string {
	k := channel + "." + string(kind)
	if lang != "" {
		k += "." + lang
	}
	return k
}

// ParseTemplateKey splits a template key, and says what is wrong with it.
func ParseTemplateKey(key string) (channel string, kind model.LinkKind, lang string, err error) {
	parts := strings.Split(key, ".")
	want := fmt.Sprintf("want CHANNEL.KIND or CHANNEL.KIND.LANGUAGE, like sms.activation or email.installation.de (channels sms, email; kinds activation, installation; languages %s)",
		strings.Join(model.Languages, ", "))
	if len(parts) < 2 || len(parts) > 3 {
		return "", "", "", fmt.Errorf("unknown template %q: %s", key, want)
	}
	channel, kind = parts[0], model.LinkKind(parts[1])
	if len(parts) == 3 {
		lang = parts[2]
	}
	if (channel != model.ChannelSMS && channel != model.ChannelEmail) || !kind.Valid() || (len(parts) == 3 && (lang == "" || !model.ValidLanguage(lang))) {
		return "", "", "", fmt.Errorf("unknown template %q: %s", key, want)
	}
	return channel, kind, lang, nil
}

// pick is the custom subject and text of a message: each the language's
// own, else every language's, else nil for the built-in one.
func (s CustomSet) pick(channel string, kind model.LinkKind, lang string) Custom {
	if len(s) == 0 {
		return Custom{}
	}
	own, all := s[TemplateKey(channel, kind, lang)], s[TemplateKey(channel, kind, "")]
	c := own
	if c.Subject == nil {
		c.Subject = all.Subject
	}
	if c.Text == nil {
		c.Text = all.Text
	}
	return c
}

// CheckCustom checks an organisation's texts for channel: each within its
// length, the text writing the link and the subject not (a subject is
// shown in listings, the link never). The rendered length is checked by
// CheckRendered.
func CheckCustom(channel string, c Custom) error {
	if c.Subject != nil {
		switch {
		case channel != model.ChannelEmail:
			return &TemplateError{Field: "subject", Problem: "only an e-mail has a subject"}
		case utf8.RuneCountInString(c.Subject.src) > MaxCustomSubject:
			return &TemplateError{Field: "subject", Problem: fmt.Sprintf("is over %d characters", MaxCustomSubject)}
		case strings.ContainsAny(c.Subject.src, "\r\n"):
			return &TemplateError{Field: "subject", Problem: "must be one line"}
		case c.Subject.hasField("Link"):
			return &TemplateError{Field: "subject", Problem: "must not write {{.Link}}: the link is a secret, and a subject is shown in listings"}
		}
	}
	if c.Text != nil {
		limit := MaxCustomBody
		if channel == model.ChannelSMS {
			limit = MaxCustomSMS
		}
		if n := utf8.RuneCountInString(c.Text.src); n > limit {
			return &TemplateError{Field: "text", Problem: fmt.Sprintf("is %d characters, over the %d a %s text may have", n, limit, channelName(channel))}
		}
		if !c.Text.hasField("Link") {
			return &TemplateError{Field: "text", Problem: "must write the link, {{.Link}}: it is what the message is for"}
		}
	}
	return nil
}

// CheckRendered refuses an SMS that takes more than MaxSMSSegments parts
// rendered with sample values.
func CheckRendered(channel string, r Rendered) error {
	if channel != model.ChannelSMS {
		return nil
	}
	if enc, n := SMSSegments(r.Text); n > MaxSMSSegments {
		return &TemplateError{Field: "text", Problem: fmt.Sprintf("renders as %d SMS parts (%s, %d characters with a sample name and link); at most %d are allowed: shorten it",
			n, enc, utf8.RuneCountInString(r.Text), MaxSMSSegments)}
	}
	return nil
}

func channelName(channel string) string {
	if channel == model.ChannelSMS {
		return "SMS"
	}
	return "e-mail"
}

// BuiltIn is the built-in subject and text of channel and kind in lang,
// written with the custom texts' placeholders: what a custom text
// replaces, and a start for writing one. The built-in message itself is
// rendered from the catalogue (Render), which also leaves out a greeting's
// name when the user has none.
func (t *Templates) BuiltIn(channel string, kind model.LinkKind, lang string) (subject, text string) {
	r := strings.NewReplacer("{{.Date}}", "{{.Expiry}}", "{{.ITEmail}}", "{{.ITContact}}")
	if channel == model.ChannelSMS {
		return "", r.Replace(t.cat.T(lang, "sms."+string(kind)))
	}
	body := strings.Join([]string{
		t.cat.T(lang, "email.greeting"),
		t.cat.T(lang, "email."+string(kind)+".intro"),
		"{{.Link}}",
		t.cat.T(lang, "email.expires"),
		t.cat.T(lang, "email.help"),
	}, "\n\n")
	return r.Replace(t.cat.T(lang, "email."+string(kind)+".subject")), r.Replace(body)
}
