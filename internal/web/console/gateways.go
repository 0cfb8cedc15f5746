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

// templates previews the messages a user receives, with the SMS segment
// count; the form re-renders as its choices change.
func (c *Console) templates(w http.ResponseWriter, r *http.Request, p *Page) error {
	q := r.URL.Query()
	if q.Get("name") == "" {
		q.Set("name", "Ada Lovelace")
	}
	prev, err := c.dom.Messages.Preview(r.Context(), q.Get("language"), q.Get("channel"), model.LinkKind(q.Get("kind")), q.Get("name"), *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		prev = &activation.MessagePreview{}
	}
	p.Title, p.Menu, p.Data, p.Form = "Message templates", "templates", prev, url.Values(q)
	c.render(w, http.StatusOK, "templates", p)
	return nil
}
