package console

import (
	"net/http"

	"github.com/activator-voip/activator/internal/model"
)

type groupsData struct {
	Groups   []model.Group
	Profiles []model.Profile
}

func (c *Console) groupsPage(w http.ResponseWriter, r *http.Request, p *Page, status int) error {
	gs, err := c.dom.Groups.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	ps, err := c.dom.Profiles.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "Groups", "groups", groupsData{gs, ps}
	if p.Flash == "" {
		p.Flash = flashOf(r)
	}
	c.render(w, status, "groups", p)
	return nil
}

func (c *Console) groups(w http.ResponseWriter, r *http.Request, p *Page) error {
	return c.groupsPage(w, r, p, http.StatusOK)
}

func (c *Console) groupCreate(w http.ResponseWriter, r *http.Request, p *Page) error {
	name, mail, prof := r.PostFormValue("name"), r.PostFormValue("it_email"), r.PostFormValue("profile")
	in := model.GroupInput{Name: &name, ITEmail: &mail}
	if prof != "" {
		in.Profile = &prof
	}
	g, err := c.dom.Groups.Create(r.Context(), in, *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		p.Form = r.PostForm
		return c.groupsPage(w, r, p, http.StatusBadRequest)
	}
	p.target = g.Name
	redirect(w, r, "/console/groups", flashGroupCreated)
	return nil
}

// groupUpdate changes a group's IT e-mail and profile.
func (c *Console) groupUpdate(w http.ResponseWriter, r *http.Request, p *Page) error {
	mail, prof := r.PostFormValue("it_email"), r.PostFormValue("profile")
	if _, err := c.dom.Groups.Update(r.Context(), r.PathValue("name"), model.GroupInput{ITEmail: &mail, Profile: &prof}, *p.Caller); err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		return c.groupsPage(w, r, p, http.StatusBadRequest)
	}
	redirect(w, r, "/console/groups", flashGroupSaved)
	return nil
}

func (c *Console) groupDelete(w http.ResponseWriter, r *http.Request, p *Page) error {
	if err := c.dom.Groups.Delete(r.Context(), r.PathValue("name"), *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/groups", flashGroupDeleted)
	return nil
}
