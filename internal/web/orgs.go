package web

import (
	"net/http"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

// orgHeader names the organisation a provider admin acts inside, on any
// admin API request (the CLI's --org); an organisation's own operators may
// name only theirs.
const orgHeader = "Activator-Org"

// orgRoutes are the provider admin's: the organisations themselves.
// {org} is an organisation's slug or id.
func (s *Server) orgRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/orgs", access: token, perm: permOrgs, tag: "orgs", summary: "List every organisation (provider admins only)", resp: orgList{}, status: 200, h: s.listOrgs},
		{method: "POST", path: "/api/v1/orgs", access: token, perm: permOrgs, tag: "orgs", summary: "Create an organisation with its default profile, and its SIP domain and base URL when given", body: model.OrganisationInput{}, resp: model.Organisation{}, status: 201, h: s.createOrg},
		{method: "GET", path: "/api/v1/orgs/{org}", access: token, perm: permOrgs, tag: "orgs", summary: "Show an organisation (by slug or id)", resp: model.Organisation{}, status: 200, h: s.getOrg},
		{method: "PATCH", path: "/api/v1/orgs/{org}", access: token, perm: permOrgs, tag: "orgs", summary: "Rename an organisation, change its slug or quotas, or set the organisations its accounts may call (allow_calls_to)", body: model.OrganisationInput{}, resp: model.Organisation{}, status: 200, h: s.updateOrg},
		{method: "DELETE", path: "/api/v1/orgs/{org}", access: token, perm: permOrgs, tag: "orgs", summary: "Delete an organisation with nothing left in it", status: http.StatusNoContent, h: s.deleteOrg},
		{method: "POST", path: "/api/v1/orgs/{org}/suspend", access: token, perm: permOrgs, tag: "orgs", summary: "Suspend an organisation: its operators, tokens, links and devices are refused, nothing is deleted", resp: model.Organisation{}, status: 200, h: s.suspendOrg},
		{method: "POST", path: "/api/v1/orgs/{org}/resume", access: token, perm: permOrgs, tag: "orgs", summary: "End an organisation's suspension", resp: model.Organisation{}, status: 200, h: s.resumeOrg},
		{method: "GET", path: "/api/v1/orgs/{org}/stats", access: token, perm: permOrgs, tag: "orgs", summary: "An organisation's accounts by status, messages by state and activations per day", resp: model.OrganisationStats{}, status: 200, h: s.orgStats},
	}
}

type orgList struct {
	Organisations []model.Organisation `json:"organisations"`
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	os, err := s.dom.Organisations.List(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, orgList{os})
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.OrganisationInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	o, err := s.dom.Organisations.Create(r.Context(), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 201, o)
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	o, err := s.dom.Organisations.Get(r.Context(), r.PathValue("org"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, o)
}

func (s *Server) updateOrg(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.OrganisationInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	o, err := s.dom.Organisations.Update(r.Context(), r.PathValue("org"), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, o)
}

func (s *Server) deleteOrg(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	if err := s.dom.Organisations.Delete(r.Context(), r.PathValue("org"), actor(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) suspendOrg(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	return s.setOrgSuspended(w, r, c, true)
}

func (s *Server) resumeOrg(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	return s.setOrgSuspended(w, r, c, false)
}

func (s *Server) setOrgSuspended(w http.ResponseWriter, r *http.Request, c *activation.Caller, suspended bool) error {
	o, err := s.dom.Organisations.SetSuspended(r.Context(), r.PathValue("org"), suspended, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, o)
}

func (s *Server) orgStats(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	st, err := s.dom.Organisations.Stats(r.Context(), r.PathValue("org"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}
