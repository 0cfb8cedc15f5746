package console

import (
	"net/http"
	"net/url"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

type gatewaysData struct {
	Gateways []model.Gateway
	Test     *model.GatewayTestResult
}

func (c *Console) gatewaysPage(w http.ResponseWriter, r *http.Request, p *Page, test *model.GatewayTestResult, status int) error {
	gs, err := c.dom.Gateways.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "Gateways", "gateways", gatewaysData{gs, test}
	c.render(w, status, "gateways", p)
	return nil
}

// gateways lists the message gateways (secrets masked by the domain).
// They are added and changed with `activator gateway` or the API.
func (c *Console) gateways(w http.ResponseWriter, r *http.Request, p *Page) error {
	return c.gatewaysPage(w, r, p, nil, http.StatusOK)
}

// gatewayTest sends a test message through a gateway and shows the outcome.
func (c *Console) gatewayTest(w http.ResponseWriter, r *http.Request, p *Page) error {
	res, err := c.dom.Gateways.Test(r.Context(), r.PathValue("name"), r.PostFormValue("to"), *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		p.Form = r.PostForm
		return c.gatewaysPage(w, r, p, nil, http.StatusBadRequest)
	}
	return c.gatewaysPage(w, r, p, res, http.StatusOK)
}

// templatesData is the templates page: the preview of the chosen
// message, and the organisation's text of it to edit.
type templatesData struct {
	Preview      *activation.MessagePreview
	Template     *model.MessageTemplate // nil when the choice is not valid
	Placeholders []model.TemplatePlaceholder
	Language     string // the preview's language, en when none is chosen
}

// templateChoice is the template key the page's choices name: the
// channel and kind, for every language (scope "all") or the chosen one.
func templateChoice(q url.Values) string {
	channel, kind := q.Get("channel"), q.Get("kind")
	if channel == "" {
		channel = model.ChannelSMS
	}
	if kind == "" {
		kind = string(model.LinkActivation)
	}
	key := channel + "." + kind
	if q.Get("scope") == "language" {
		lang := q.Get("language")
		if lang == "" {
			lang = "en"
		}
		key += "." + lang
	}
	return key
}

// templates previews the messages a user receives, with the SMS segment
// count, and edits the organisation's text of them; the form re-renders
// as its choices change.
func (c *Console) templates(w http.ResponseWriter, r *http.Request, p *Page) error {
	return c.templatesPage(w, r, p, r.URL.Query(), http.StatusOK)
}

func (c *Console) templatesPage(w http.ResponseWriter, r *http.Request, p *Page, q url.Values, status int) error {
	if q.Get("name") == "" {
		q.Set("name", "Ada Lovelace")
	}
	d := templatesData{Placeholders: model.TemplatePlaceholders, Language: q.Get("language")}
	if d.Language == "" {
		d.Language = "en"
	}
	prev, err := c.dom.Messages.Preview(r.Context(), q.Get("language"), q.Get("channel"), model.LinkKind(q.Get("kind")), q.Get("name"), *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		prev = &activation.MessagePreview{}
	}
	d.Preview = prev
	if t, err := c.dom.Messages.Template(r.Context(), templateChoice(q), *p.Caller); err == nil {
		d.Template = t
		// A text being corrected shows as the operator wrote it.
		if _, ok := q["text"]; ok {
			t.Text, t.Subject = q.Get("text"), q.Get("subject")
		}
	}
	if p.Flash == "" {
		p.Flash = flashOf(r)
	}
	p.Title, p.Menu, p.Data, p.Form = "Message templates", "templates", d, q
	c.render(w, status, "templates", p)
	return nil
}

// templateSave stores the organisation's text of the chosen message, or
// restores the built-in one ("reset"); a refused text is shown again with
// what is wrong with it.
func (c *Console) templateSave(w http.ResponseWriter, r *http.Request, p *Page) error {
	f := r.PostForm
	key := templateChoice(f)
	subject, text := f.Get("subject"), f.Get("text")
	if f.Get("action") == "reset" {
		subject, text = "", ""
	}
	in := model.MessageTemplateInput{Text: &text}
	if f.Get("channel") == model.ChannelEmail {
		in.Subject = &subject
	}
	p.target = key
	if _, err := c.dom.Messages.SetTemplate(r.Context(), key, in, *p.Caller); err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		q := url.Values{}
		for _, k := range []string{"channel", "kind", "language", "scope", "name", "subject", "text"} {
			q.Set(k, f.Get(k))
		}
		return c.templatesPage(w, r, p, q, http.StatusBadRequest)
	}
	q := url.Values{}
	for _, k := range []string{"channel", "kind", "language", "scope", "name"} {
		if v := f.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	redirect(w, r, "/console/templates?"+q.Encode(), flashSaved)
	return nil
}
