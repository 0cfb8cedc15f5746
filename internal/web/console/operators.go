package console

import (
	"net/http"
	"strings"

	"github.com/activator-voip/activator/internal/model"
)

type operatorsData struct {
	Operators []model.Operator
	Created   *model.OperatorCreated
}

func (c *Console) operatorsPage(w http.ResponseWriter, r *http.Request, p *Page, created *model.OperatorCreated, status int) error {
	os, err := c.dom.Operators.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "Operators", "operators", operatorsData{os, created}
	if p.Flash == "" {
		p.Flash = flashOf(r)
	}
	c.render(w, status, "operators", p)
	return nil
}

func (c *Console) operators(w http.ResponseWriter, r *http.Request, p *Page) error {
	return c.operatorsPage(w, r, p, nil, http.StatusOK)
}

func (c *Console) operatorCreate(w http.ResponseWriter, r *http.Request, p *Page) error {
	name, role := strings.TrimSpace(r.PostFormValue("name")), model.Role(r.PostFormValue("role"))
	created, err := c.dom.Operators.Create(r.Context(), model.OperatorInput{Name: &name, Role: &role}, *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		p.Form = r.PostForm
		return c.operatorsPage(w, r, p, nil, http.StatusBadRequest)
	}
	p.target = created.Operator.Name
	// The link is shown on this answer only; it is not kept anywhere readable.
	return c.operatorsPage(w, r, p, created, http.StatusOK)
}

func (c *Console) operatorDisable(w http.ResponseWriter, r *http.Request, p *Page) error {
	if _, err := c.dom.Operators.SetDisabled(r.Context(), r.PathValue("name"), true, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/operators", flashOperatorOff)
	return nil
}

func (c *Console) operatorEnable(w http.ResponseWriter, r *http.Request, p *Page) error {
	if _, err := c.dom.Operators.SetDisabled(r.Context(), r.PathValue("name"), false, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/operators", flashOperatorOn)
	return nil
}

// operatorRole changes an operator's role.
func (c *Console) operatorRole(w http.ResponseWriter, r *http.Request, p *Page) error {
	role := model.Role(r.PostFormValue("role"))
	if _, err := c.dom.Operators.Update(r.Context(), r.PathValue("name"), model.OperatorInput{Role: &role}, *p.Caller); err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		return c.operatorsPage(w, r, p, nil, http.StatusBadRequest)
	}
	redirect(w, r, "/console/operators", flashRoleChanged)
	return nil
}

func (c *Console) operatorReset(w http.ResponseWriter, r *http.Request, p *Page) error {
	created, err := c.dom.Operators.ResetPassword(r.Context(), r.PathValue("name"), *p.Caller)
	if err != nil {
		return err
	}
	return c.operatorsPage(w, r, p, created, http.StatusOK)
}
