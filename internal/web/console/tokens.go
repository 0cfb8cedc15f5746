package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/model"
)

type tokensData struct {
	Tokens    []model.APIToken
	Operators []model.Operator
	Created   *model.TokenCreated
}

func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request, p *Page, created *model.TokenCreated, status int) error {
	ts, err := c.dom.Operators.Tokens(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	os, err := c.dom.Operators.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "API tokens", "tokens", tokensData{ts, os, created}
	if p.Flash == "" {
		p.Flash = flashOf(r)
	}
	c.render(w, status, "tokens", p)
	return nil
}

func (c *Console) tokens(w http.ResponseWriter, r *http.Request, p *Page) error {
	return c.tokensPage(w, r, p, nil, http.StatusOK)
}

func (c *Console) tokenCreate(w http.ResponseWriter, r *http.Request, p *Page) error {
	t, err := c.dom.Operators.CreateToken(r.Context(), model.TokenInput{Name: strings.TrimSpace(r.PostFormValue("name")), Operator: r.PostFormValue("operator")}, *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		p.Form = r.PostForm
		return c.tokensPage(w, r, p, nil, http.StatusBadRequest)
	}
	p.target = strconv.FormatInt(t.APIToken.ID, 10)
	return c.tokensPage(w, r, p, t, http.StatusOK)
}

func (c *Console) tokenRevoke(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := c.dom.Operators.RevokeToken(r.Context(), id, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/tokens", flashTokenRevoked)
	return nil
}

// --- audit
