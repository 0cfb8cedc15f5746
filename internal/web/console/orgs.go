package console

import (
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

// actingCookie names the organisation a provider admin acts inside in the
// console (the organisation switcher). It is no secret: only a provider's
// session heeds it, and Organisations.ActIn checks it each request.
const actingCookie = "activator_org"

// actingIn is the caller acting inside the organisation the switcher
// chose, when the caller is a provider admin and chose one; else caller.
// An organisation deleted since is forgotten.
func (c *Console) actingIn(w http.ResponseWriter, r *http.Request, caller activation.Caller) activation.Caller {
	ck, err := r.Cookie(actingCookie)
	if err != nil || ck.Value == "" || caller.Role != model.RoleProvider {
		return caller
	}
	in, err := c.dom.Organisations.ActIn(r.Context(), ck.Value, caller)
	if err != nil {
		http.SetCookie(w, &http.Cookie{Name: actingCookie, Path: "/console/", MaxAge: -1})
		return caller
	}
	return in
}

// home is the caller in their own organisation, whichever they act in:
// organisations themselves are managed from the provider's own.
func (p *Page) home() activation.Caller {
	c := *p.Caller
	c.OrgID = p.HomeOrgID
	return c
}

// orgRow is one organisation on the provider's page, with its counts.
type orgRow struct {
	model.Organisation
	Stats       *model.OrganisationStats
	Activated30 int
	Acting      bool
}

type orgsData struct {
	Orgs []orgRow
}

func (c *Console) orgsPage(w http.ResponseWriter, r *http.Request, p *Page, status int) error {
	home := p.home()
	os, err := c.dom.Organisations.List(r.Context(), home)
	if err != nil {
		return err
	}
	rows := make([]orgRow, len(os))
	for i, o := range os {
		st, err := c.dom.Organisations.Stats(r.Context(), strconv.FormatInt(o.ID, 10), home)
		if err != nil {
			return err
		}
		n := 0
		for _, d := range st.Activations {
			n += d.Count
		}
		rows[i] = orgRow{Organisation: o, Stats: st, Activated30: n, Acting: o.ID == p.Caller.OrgID}
	}
	p.Title, p.Menu, p.Data = "Organisations", "orgs", orgsData{rows}
	if p.Flash == "" {
		p.Flash = flashOf(r)
	}
	c.render(w, status, "orgs", p)
	return nil
}

func (c *Console) orgs(w http.ResponseWriter, r *http.Request, p *Page) error {
	return c.orgsPage(w, r, p, http.StatusOK)
}

func (c *Console) orgCreate(w http.ResponseWriter, r *http.Request, p *Page) error {
	in := model.OrganisationInput{}
	for field, to := range map[string]**string{"name": &in.Name, "slug": &in.Slug, "sip_domain": &in.SIPDomain, "base_url": &in.BaseURL} {
		if v := r.PostFormValue(field); v != "" || field == "name" || field == "slug" {
			*to = &v
		}
	}
	for field, to := range map[string]**int64{"max_accounts": &in.MaxAccounts, "max_messages_per_day": &in.MaxMessagesPerDay} {
		if v := r.PostFormValue(field); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				p.Fields[field], p.Error, p.Form = "a whole number, 0 for no quota", field+": a whole number, 0 for no quota", r.PostForm
				return c.orgsPage(w, r, p, http.StatusBadRequest)
			}
			*to = &n
		}
	}
	home := p.home()
	o, err := c.dom.Organisations.Create(r.Context(), in, home)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		p.Form = r.PostForm
		return c.orgsPage(w, r, p, http.StatusBadRequest)
	}
	p.target = o.Slug
	redirect(w, r, "/console/orgs", flashOrgCreated)
	return nil
}

func (c *Console) orgSuspend(w http.ResponseWriter, r *http.Request, p *Page) error {
	return c.orgSetSuspended(w, r, p, true)
}

func (c *Console) orgResume(w http.ResponseWriter, r *http.Request, p *Page) error {
	return c.orgSetSuspended(w, r, p, false)
}

func (c *Console) orgSetSuspended(w http.ResponseWriter, r *http.Request, p *Page, suspended bool) error {
	home := p.home()
	if _, err := c.dom.Organisations.SetSuspended(r.Context(), r.PathValue("org"), suspended, home); err != nil {
		return err
	}
	redirect(w, r, "/console/orgs", map[bool]flash{true: flashOrgSuspended, false: flashOrgResumed}[suspended])
	return nil
}

// orgAct switches the organisation the provider admin acts inside; an
// empty choice is their own.
func (c *Console) orgAct(w http.ResponseWriter, r *http.Request, p *Page) error {
	slug := r.PostFormValue("org")
	home := p.home()
	in, err := c.dom.Organisations.ActIn(r.Context(), slug, home)
	if slug == "" || (err == nil && in.OrgID == p.HomeOrgID) {
		http.SetCookie(w, &http.Cookie{Name: actingCookie, Path: "/console/", MaxAge: -1})
		redirect(w, r, "/console/", flashActingHome)
		return nil
	}
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: actingCookie, Value: slug, Path: "/console/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secureCookies(r)})
	p.target = slug
	redirect(w, r, "/console/", flashActingIn)
	return nil
}
