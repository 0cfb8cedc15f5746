package activation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// An organisation's message templates are kept with its settings, one
// row a template under the key "template." + its key (template.sms.activation,
// template.email.installation.de), the value {"subject": ..., "text": ...}:
// they are read, cached and dropped with the settings, so the send path
// finds them in Resolved.Templates at no cost, and an organisation's
// templates are never another's. Settings.List and Set know only the keys
// of model.SettingDefs, so these rows are reached only through the
// template methods below.
const templateSettingPrefix = "template."

// storedTemplate is a template row's value.
type storedTemplate struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
}

// parseTemplates reads an organisation's custom texts from its settings.
// Every one was checked when stored; one that no longer parses (stored
// by hand, or refused by a later version) is skipped, so its messages
// keep the built-in text rather than fail.
func parseTemplates(raw map[string]string) messaging.CustomSet {
	var set messaging.CustomSet
	for k, v := range raw {
		key, ok := strings.CutPrefix(k, templateSettingPrefix)
		if !ok {
			continue
		}
		if _, _, _, err := messaging.ParseTemplateKey(key); err != nil {
			continue
		}
		var st storedTemplate
		if json.Unmarshal([]byte(v), &st) != nil {
			continue
		}
		c, err := parseCustom(st)
		if err != nil {
			continue
		}
		if set == nil {
			set = messaging.CustomSet{}
		}
		set[key] = c
	}
	return set
}

// parseCustom parses a stored template's subject and text; an empty one
// is the built-in one.
func parseCustom(st storedTemplate) (messaging.Custom, error) {
	var c messaging.Custom
	var err error
	if st.Subject != "" {
		if c.Subject, err = messaging.ParseCustom("subject", st.Subject); err != nil {
			return c, err
		}
	}
	if st.Text != "" {
		if c.Text, err = messaging.ParseCustom("text", st.Text); err != nil {
			return c, err
		}
	}
	return c, nil
}

// templateKeys lists every template key: each channel and kind, for
// every language and then for each.
func templateKeys() []string {
	var keys []string
	for _, channel := range []string{model.ChannelSMS, model.ChannelEmail} {
		for _, kind := range model.LinkKinds {
			keys = append(keys, messaging.TemplateKey(channel, kind, ""))
			for _, lang := range model.Languages {
				keys = append(keys, messaging.TemplateKey(channel, kind, lang))
			}
		}
	}
	return keys
}

// Templates lists the caller's organisation's message templates, every
// channel, kind and language, each with its custom text or the built-in one.
func (s *Messages) Templates(ctx context.Context, by Caller) ([]model.MessageTemplate, error) {
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	keys := templateKeys()
	out := make([]model.MessageTemplate, 0, len(keys))
	for _, key := range keys {
		t, err := s.template(st, key)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}

// Template shows one of the caller's organisation's message templates.
func (s *Messages) Template(ctx context.Context, key string, by Caller) (*model.MessageTemplate, error) {
	if _, _, _, err := messaging.ParseTemplateKey(key); err != nil {
		return nil, notFound("template_not_found", "%v", err)
	}
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	return s.template(st, key)
}

// template is the template key of an organisation with settings st.
func (s *Messages) template(st *Resolved, key string) (*model.MessageTemplate, error) {
	channel, kind, lang, err := messaging.ParseTemplateKey(key)
	if err != nil {
		return nil, err
	}
	c := st.Templates[key]
	subject, text := s.templates.BuiltIn(channel, kind, lang)
	t := &model.MessageTemplate{Key: key, Channel: channel, Kind: kind, Language: lang, Subject: subject, Text: text}
	if c.Subject != nil {
		t.Subject, t.CustomSubject = c.Subject.Source(), true
	}
	if c.Text != nil {
		t.Text, t.CustomText = c.Text.Source(), true
	}
	if channel == model.ChannelSMS {
		r, err := s.renderSample(st, channel, kind, lang, c)
		if err != nil {
			return nil, err
		}
		t.Encoding, t.Segments = messaging.SMSSegments(r.Text)
		t.Chars = utf8.RuneCountInString(r.Text)
	}
	return t, nil
}

// renderSample renders a message of channel and kind in lang with
// custom texts c (the built-in ones where nil), the organisation's
// settings and sample values: a sample link as long as a real one, never
// a live one.
func (s *Messages) renderSample(st *Resolved, channel string, kind model.LinkKind, lang string, c messaging.Custom) (messaging.Rendered, error) {
	if lang == "" {
		lang = "en"
	}
	return s.templates.RenderWith(messaging.CustomSet{messaging.TemplateKey(channel, kind, lang): c}, lang, channel, kind, s.sampleVars(st, "Ada Lovelace"))
}

// sampleVars are the values of a preview: the organisation's brand, a
// sample link and IT e-mail.
func (s *Messages) sampleVars(st *Resolved, name string) messaging.MessageVars {
	return messaging.MessageVars{
		Name: name, Link: st.BaseURL + "/a/" + secret.PrefixLink + strings.Repeat("0", secret.TokenChars), Company: st.Company,
		ITEmail: "it@example.com", ITContact: st.ITContact, ExpiresAt: s.now().Add(st.LinkExpiry), LogoURL: st.BrandLogoURL, Colour: st.BrandColour,
	}
}

// SetTemplate sets one of the caller's organisation's message templates:
// an absent subject or text keeps its value, an empty one restores the
// built-in one. Each is
// checked before anything is stored: it must parse, write only known
// placeholders, the text must write the link and the subject must not,
// and an SMS must render in at most messaging.MaxSMSSegments parts.
func (s *Messages) SetTemplate(ctx context.Context, key string, in model.MessageTemplateInput, by Caller) (*model.MessageTemplate, error) {
	channel, kind, lang, err := messaging.ParseTemplateKey(key)
	if err != nil {
		return nil, invalid("key", "%v", err)
	}
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	var stored storedTemplate
	if cur := st.Templates[key]; cur.Subject != nil || cur.Text != nil {
		if cur.Subject != nil {
			stored.Subject = cur.Subject.Source()
		}
		if cur.Text != nil {
			stored.Text = cur.Text.Source()
		}
	}
	if in.Subject != nil {
		stored.Subject = strings.TrimSpace(*in.Subject)
	}
	if in.Text != nil {
		stored.Text = strings.TrimSpace(*in.Text)
	}
	c, err := parseCustom(stored)
	if err == nil {
		err = messaging.CheckCustom(channel, c)
	}
	if err == nil {
		var r messaging.Rendered
		if r, err = s.renderSample(st, channel, kind, lang, c); err == nil {
			err = messaging.CheckRendered(channel, r)
		}
	}
	var te *messaging.TemplateError
	if errors.As(err, &te) {
		return nil, invalid(te.Field, "template %s: %s", key, te)
	}
	if err != nil {
		return nil, fmt.Errorf("checking template %s: %w", key, err)
	}
	value := ""
	if stored != (storedTemplate{}) {
		b, err := json.Marshal(stored)
		if err != nil {
			return nil, err
		}
		value = string(b)
	}
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if value == "" {
			return tx.DeleteSetting(ctx, by.OrgID, templateSettingPrefix+key)
		}
		return tx.PutSetting(ctx, by.OrgID, templateSettingPrefix+key, value)
	})
	if err != nil {
		return nil, fmt.Errorf("storing template %s: %w", key, err)
	}
	s.settings.invalidate(by.OrgID)
	return s.Template(ctx, key, by)
}
