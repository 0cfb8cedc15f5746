package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

// routeTable is every API and page route, with who may call it. The
// OpenAPI document is generated from it.
func (s *Server) routeTable() []route {
	none := http.StatusNoContent
	return append([]route{
		{method: "GET", path: "/api/v1/openapi.json", access: public, tag: "meta", summary: "This API's OpenAPI 3 document", status: 200, h: s.openAPI},

		{method: "GET", path: "/api/v1/groups", access: token, perm: permRead, tag: "groups", summary: "List groups", resp: groupList{}, status: 200, h: s.listGroups},
		{method: "POST", path: "/api/v1/groups", access: token, perm: permConfig, tag: "groups", summary: "Create a group", body: model.GroupInput{}, resp: model.Group{}, status: 201, h: s.createGroup},
		{method: "GET", path: "/api/v1/groups/{name}", access: token, perm: permRead, tag: "groups", summary: "Show a group", resp: model.Group{}, status: 200, h: s.getGroup},
		{method: "PATCH", path: "/api/v1/groups/{name}", access: token, perm: permConfig, tag: "groups", summary: "Change a group's given fields", body: model.GroupInput{}, resp: model.Group{}, status: 200, h: s.updateGroup},
		{method: "DELETE", path: "/api/v1/groups/{name}", access: token, perm: permConfig, tag: "groups", summary: "Delete a group without accounts", status: none, h: s.deleteGroup},

		{method: "GET", path: "/api/v1/profiles", access: token, perm: permRead, tag: "profiles", summary: "List provisioning profiles", resp: profileList{}, status: 200, h: s.listProfiles},
		{method: "POST", path: "/api/v1/profiles", access: token, perm: permConfig, tag: "profiles", summary: "Create a profile: settings given are merged over the defaults", body: profileInput{}, resp: model.Profile{}, status: 201, h: s.createProfile},
		{method: "GET", path: "/api/v1/profiles/{name}", access: token, perm: permRead, tag: "profiles", summary: "Show a profile", resp: model.Profile{}, status: 200, h: s.getProfile},
		{method: "PATCH", path: "/api/v1/profiles/{name}", access: token, perm: permConfig, tag: "profiles", summary: "Rename a profile and merge settings into it", body: profileInput{}, resp: model.Profile{}, status: 200, h: s.updateProfile},
		{method: "DELETE", path: "/api/v1/profiles/{name}", access: token, perm: permConfig, tag: "profiles", summary: "Delete a profile no group or account uses", status: none, h: s.deleteProfile},

		{method: "GET", path: "/api/v1/apps", access: token, perm: permRead, tag: "apps", summary: "List application download URLs", resp: appList{}, status: 200, h: s.listApps},
		{method: "PUT", path: "/api/v1/apps", access: token, perm: permConfig, tag: "apps", summary: "Set a download URL for a platform and security model (none: the platform's fallback)", body: model.AppURL{}, resp: model.AppURL{}, status: 200, h: s.setApp},
		{method: "DELETE", path: "/api/v1/apps/{platform}", access: token, perm: permConfig, tag: "apps", summary: "Remove a download URL", query: []param{{"security_model", "end-to-end or end-to-site; none for the platform's fallback"}}, status: none, h: s.deleteApp},

		{method: "GET", path: "/api/v1/settings", access: token, perm: permRead, tag: "settings", summary: "Show every setting with its value, default and help", resp: settingList{}, status: 200, h: s.listSettings},
		{method: "GET", path: "/api/v1/virtual-numbers", access: token, perm: permRead, tag: "settings", summary: "How full the virtual number range is, with a warning from 80% used", resp: model.NumberRangeUse{}, status: 200, h: s.numberRangeUse},
		{method: "PUT", path: "/api/v1/settings/{key}", access: token, perm: permConfig, tag: "settings", summary: "Set a setting (an empty value restores the default)", body: settingInput{}, resp: model.Setting{}, status: 200, h: s.putSetting},

		{method: "GET", path: "/api/v1/templates", access: token, perm: permRead, tag: "templates", summary: "List the message templates, each channel, link kind and language, with the organisation's text or the built-in one, and the placeholders a text may write", resp: templateList{}, status: 200, h: s.listTemplates},
		{method: "GET", path: "/api/v1/templates/{key}", access: token, perm: permRead, tag: "templates", summary: "Show a message template (key CHANNEL.KIND or CHANNEL.KIND.LANGUAGE, like sms.activation or email.installation.de)", resp: model.MessageTemplate{}, status: 200, h: s.getTemplate},
		{method: "PUT", path: "/api/v1/templates/{key}", access: token, perm: permConfig, tag: "templates", summary: "Set a message template's subject (e-mail) and text, checked first; an absent one is kept, an empty one restores the built-in text", body: model.MessageTemplateInput{}, resp: model.MessageTemplate{}, status: 200, h: s.putTemplate},

		{method: "GET", path: "/api/v1/accounts", access: token, perm: permRead, tag: "accounts", summary: "List accounts, newest first",
			query: []param{{"group", "group name"}, {"status", "new, invited, opened, installed, activated or disabled"}, {"q", "words, each the start of a word of the name, username, number or e-mail (ada lov, lovelace@example)"}, {"limit", "at most 1000 (default 100)"}, {"cursor", "next_cursor or prev_cursor of a page: the page after or before it"}, {"offset", "skip this many, at most 10000 (kept for older scripts: prefer cursor)"}},
			resp:  accountList{}, status: 200, h: s.listAccounts},
		{method: "POST", path: "/api/v1/accounts", access: token, perm: permAccounts, tag: "accounts", summary: "Create a wizard account (disabled for SIP until activated)", body: model.AccountInput{}, resp: model.Account{}, status: 201, h: s.createAccount},
		{method: "GET", path: "/api/v1/accounts/{username}", access: token, perm: permRead, tag: "accounts", summary: "Show an account: effective profile, links, devices, messages and timeline", resp: model.AccountDetail{}, status: 200, h: s.getAccount},
		{method: "PATCH", path: "/api/v1/accounts/{username}", access: token, perm: permAccounts, tag: "accounts", summary: "Change an account's given fields", body: model.AccountInput{}, resp: model.Account{}, status: 200, h: s.updateAccount},
		{method: "DELETE", path: "/api/v1/accounts/{username}", access: token, perm: permAccounts, tag: "accounts", summary: "Delete an account with its links, devices and timeline", status: none, h: s.deleteAccount},
		{method: "POST", path: "/api/v1/accounts/{username}/disable", access: token, perm: permAccounts, tag: "accounts", summary: "Disable an account", resp: model.Account{}, status: 200, h: s.disableAccount},
		{method: "POST", path: "/api/v1/accounts/{username}/enable", access: token, perm: permAccounts, tag: "accounts", summary: "Enable an account", resp: model.Account{}, status: 200, h: s.enableAccount},
		{method: "POST", path: "/api/v1/accounts/{username}/send", access: token, perm: permAccounts, tag: "accounts", summary: "Issue a secure link and queue its message", body: model.SendRequest{}, resp: model.SendResult{}, status: 201, h: s.sendLink},
		{method: "POST", path: "/api/v1/accounts/{username}/revoke", access: token, perm: permAccounts, tag: "accounts", summary: "Revoke the account's live links", resp: revokeResult{}, status: 200, h: s.revokeLinks},
		{method: "POST", path: "/api/v1/accounts/{username}/device-access/revoke", access: token, perm: permAccounts, tag: "accounts", summary: "Revoke the credentials of the account's devices", resp: revokeResult{}, status: 200, h: s.revokeDevices},
		{method: "POST", path: "/api/v1/accounts/{username}/devices/{id}/deactivate", access: token, perm: permAccounts, tag: "accounts", summary: "Deactivate one device: its credential dies, the SIP password changes, the registrations drop", resp: model.KeysRevoked{}, status: 200, h: s.deactivateDevice},
		{method: "POST", path: "/api/v1/accounts/{username}/revoke-keys", access: token, perm: permAccounts, tag: "accounts", summary: "Revoke all keys: every device credential dies, the SIP password changes, the registrations drop", resp: model.KeysRevoked{}, status: 200, h: s.revokeKeys},
		{method: "GET", path: "/api/v1/accounts/{username}/profile", access: token, perm: permRead, tag: "accounts", summary: "The account's effective profile and where it comes from", resp: model.EffectiveProfile{}, status: 200, h: s.effectiveProfile},
		{method: "GET", path: "/api/v1/accounts/{username}/events", access: token, perm: permRead, tag: "accounts", summary: "The account's timeline, oldest first", resp: eventList{}, status: 200, h: s.events},

		{method: "GET", path: "/api/v1/messages", access: token, perm: permRead, tag: "messages", summary: "List messages and their delivery state",
			query: []param{{"state", "queued, sending, sent, delivered or failed"}, {"username", "an account's username"}, {"limit", "at most 1000 (default 100)"}, {"cursor", "next_cursor or prev_cursor of a page: the page after or before it"}},
			resp:  messageList{}, status: 200, h: s.listMessages},
		{method: "GET", path: "/api/v1/outbox", access: token, perm: permRead, tag: "messages", summary: "List what the outbox gateway kept (links masked)", query: []param{{"limit", "at most 1000 (default 100)"}, {"cursor", "next_cursor or prev_cursor of a page: the page after or before it"}}, resp: outboxList{}, status: 200, h: s.listOutbox},
		{method: "GET", path: "/api/v1/outbox/{id}", access: token, perm: permRead, tag: "messages", summary: "Show one outbox message as its recipient would read it; its link whole to admins only, while the link can be used", resp: model.OutboxItem{}, status: 200, h: s.getOutbox},

		{method: "POST", path: "/api/v1/device/activate", access: public, tag: "device", summary: "Redeem a link: the device's one-time step", body: model.RedeemRequest{}, resp: model.RedeemResponse{}, status: 200, h: s.redeem},
		{method: "GET", path: "/api/v1/device/config", access: device, tag: "device", summary: "Re-provisioning: the current configuration (Authorization: Bearer <device credential>)", resp: model.DeviceConfig{}, status: 200, h: s.deviceConfig},

		{method: "GET", path: "/a/{token}", access: public, tag: "pages", summary: "Landing page of a secure link (HTML)", status: 200, h: s.landing},
		{method: "GET", path: "/a/{token}/install", access: public, tag: "pages", summary: "Installation link: redirects to the download", query: []param{{"platform", "android, ios, windows, macos or linux; detected from the User-Agent when absent"}}, status: 302, h: s.install},
		{method: "GET", path: "/a/{token}/activation", access: public, tag: "pages", summary: "The signed activation file", status: 200, h: s.activationFile},
		{method: "GET", path: "/a/{token}/qr.svg", access: public, tag: "pages", summary: "QR code of the landing page's URL (SVG)", status: 200, h: s.qrCode},
	}, append(append(append(s.consoleAPIRoutes(), s.sipRoutes()...), s.gatewayRoutes()...), s.orgRoutes()...)...)
}

type (
	groupList struct {
		Groups []model.Group `json:"groups"`
	}
	profileList struct {
		Profiles []model.Profile `json:"profiles"`
	}
	appList struct {
		Apps []model.AppURL `json:"apps"`
	}
	settingList struct {
		Settings []model.Setting `json:"settings"`
	}
	accountList struct {
		Accounts []model.Account `json:"accounts"`
		model.Cursors
		// Total is how many accounts the filter selects, when the server
		// knows it without counting them: without group or q.
		Total *int `json:"total,omitempty"`
	}
	eventList struct {
		Events []model.Event `json:"events"`
	}
	messageList struct {
		Messages []model.Message `json:"messages"`
		model.Cursors
	}
	outboxList struct {
		Outbox []model.OutboxItem `json:"outbox"`
		model.Cursors
	}
	revokeResult struct {
		Revoked int `json:"revoked"`
	}
	templateList struct {
		Templates    []model.MessageTemplate     `json:"templates"`
		Placeholders []model.TemplatePlaceholder `json:"placeholders"`
	}
	settingInput struct {
		Value *string `json:"value"`
	}
	profileInput struct {
		Name     *string         `json:"name,omitempty"`
		Settings json.RawMessage `json:"settings,omitempty"`
	}
)

func actor(c *activation.Caller) activation.Caller {
	if c == nil {
		return activation.Caller{}
	}
	return *c
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	gs, err := s.dom.Groups.List(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, groupList{gs})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.GroupInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	g, err := s.dom.Groups.Create(r.Context(), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 201, g)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	g, err := s.dom.Groups.Get(r.Context(), r.PathValue("name"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, g)
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.GroupInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	g, err := s.dom.Groups.Update(r.Context(), r.PathValue("name"), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, g)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	if err := s.dom.Groups.Delete(r.Context(), r.PathValue("name"), actor(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listProfiles(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	ps, err := s.dom.Profiles.List(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, profileList{ps})
}

func (s *Server) createProfile(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in profileInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return &badRequest{"invalid_field", "name", "name is required"}
	}
	p, err := s.dom.Profiles.Create(r.Context(), *in.Name, in.Settings, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 201, p)
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	p, err := s.dom.Profiles.Get(r.Context(), r.PathValue("name"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, p)
}

func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in profileInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.dom.Profiles.Update(r.Context(), r.PathValue("name"), in.Name, in.Settings, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, p)
}

func (s *Server) deleteProfile(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	if err := s.dom.Profiles.Delete(r.Context(), r.PathValue("name"), actor(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	as, err := s.dom.Downloads.List(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, appList{as})
}

func (s *Server) setApp(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.AppURL
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a, err := s.dom.Downloads.Set(r.Context(), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, a)
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	m := model.SecurityModel(r.URL.Query().Get("security_model"))
	if m != "" && !m.Valid() {
		return &badRequest{"invalid_field", "security_model", "security_model must be end-to-end or end-to-site, or absent for the platform's fallback"}
	}
	if err := s.dom.Downloads.Delete(r.Context(), r.PathValue("platform"), m, actor(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listSettings(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	st, err := s.dom.Settings.List(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, settingList{st})
}

func (s *Server) putSetting(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in settingInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Value == nil {
		return &badRequest{"invalid_field", "value", "value is required (an empty string restores the default)"}
	}
	st, err := s.dom.Settings.Set(r.Context(), r.PathValue("key"), *in.Value, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	ts, err := s.dom.Messages.Templates(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, templateList{ts, model.TemplatePlaceholders})
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	t, err := s.dom.Messages.Template(r.Context(), r.PathValue("key"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, t)
}

func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.MessageTemplateInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.dom.Messages.SetTemplate(r.Context(), r.PathValue("key"), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, t)
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := s.dom.Accounts.Page(r.Context(), activation.AccountQuery{Group: q.Get("group"), Status: q.Get("status"), Search: q.Get("q"),
		Limit: limit, Offset: offset, Cursor: q.Get("cursor")}, actor(c))
	if err != nil {
		return err
	}
	out := accountList{Accounts: p.Accounts, Cursors: p.Cursors}
	if p.Total >= 0 {
		out.Total = &p.Total
	}
	return writeJSON(w, 200, out)
}

func (s *Server) numberRangeUse(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	u, err := s.dom.Accounts.NumberRangeUse(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, u)
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.AccountInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a, err := s.dom.Accounts.Create(r.Context(), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 201, a)
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	d, err := s.dom.Accounts.Get(r.Context(), r.PathValue("username"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, d)
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.AccountInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a, err := s.dom.Accounts.Update(r.Context(), r.PathValue("username"), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, a)
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	if err := s.dom.Accounts.Delete(r.Context(), r.PathValue("username"), actor(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) disableAccount(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	a, err := s.dom.Accounts.SetDisabled(r.Context(), r.PathValue("username"), true, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, a)
}

func (s *Server) enableAccount(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	a, err := s.dom.Accounts.SetDisabled(r.Context(), r.PathValue("username"), false, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, a)
}

func (s *Server) sendLink(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.SendRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.dom.Links.Send(r.Context(), r.PathValue("username"), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 201, res)
}

func (s *Server) revokeLinks(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	n, err := s.dom.Links.Revoke(r.Context(), r.PathValue("username"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, revokeResult{n})
}

func (s *Server) revokeDevices(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	n, err := s.dom.Devices.RevokeAccess(r.Context(), r.PathValue("username"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, revokeResult{n})
}

func (s *Server) effectiveProfile(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	p, err := s.dom.Accounts.EffectiveProfile(r.Context(), r.PathValue("username"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, p)
}

func (s *Server) events(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	es, err := s.dom.Accounts.Events(r.Context(), r.PathValue("username"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, eventList{es})
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := s.dom.Messages.Page(r.Context(), q.Get("state"), q.Get("username"), limit, q.Get("cursor"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, messageList{p.Messages, p.Cursors})
}

func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	p, err := s.dom.Messages.OutboxPage(r.Context(), limit, r.URL.Query().Get("cursor"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, outboxList{p.Items, p.Cursors})
}

func (s *Server) getOutbox(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &badRequest{"invalid_field", "id", "id must be a whole number"}
	}
	it, err := s.dom.Messages.OutboxItem(r.Context(), id, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, it)
}

func (s *Server) redeem(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	var req model.RedeemRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	resp, err := s.dom.Devices.Redeem(r.Context(), req)
	if err != nil {
		return err
	}
	return writeCompactJSON(w, 200, resp)
}

func (s *Server) deviceConfig(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	cfg, err := s.dom.Devices.Config(r.Context(), bearer(r))
	if err != nil {
		return err
	}
	return writeCompactJSON(w, 200, cfg)
}
