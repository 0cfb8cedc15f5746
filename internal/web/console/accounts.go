package console

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/stream"
)

const pageSize = 50

type dashboardData struct {
	*activation.DashboardView
	Statuses []string
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, p *Page) error {
	audit := p.Can(activation.PermAudit)
	d, err := c.dom.Dashboard.Gather(r.Context(), audit, *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Flash = "Dashboard", "dashboard", flashOf(r)
	p.Data = dashboardData{DashboardView: d, Statuses: []string{model.StatusDisabled, model.StageNew, model.StageInvited, model.StageOpened,
		model.StageInstalled, model.StageActivated, model.MessageFailed}}
	c.render(w, http.StatusOK, "dashboard", p)
	return nil
}

type accountsData struct {
	Accounts   []model.Account
	Groups     []model.Group
	Q          url.Values
	Page       int
	Pages      int // -1: unknown (a group or a search: not counted)
	Total      int
	Prev, Next string
}

// accounts pages by cursor: Next and Prev carry the cursors of the pages
// beside this one (each read from an index where it starts, however deep),
// and page only numbers them for the pager. A page without a cursor is
// read by offset, as links made before cursors were.
func (c *Console) accounts(w http.ResponseWriter, r *http.Request, p *Page) error {
	q := r.URL.Query()
	pg, _ := strconv.Atoi(q.Get("page"))
	if pg < 1 {
		pg = 1
	}
	aq := activation.AccountQuery{Group: q.Get("group"), Status: q.Get("status"), Search: q.Get("q"), SecurityModel: q.Get("security_model"),
		Limit: pageSize, Cursor: q.Get("cursor")}
	if aq.Cursor == "" {
		aq.Offset = (pg - 1) * pageSize
	}
	res, err := c.dom.Accounts.Page(r.Context(), aq, *p.Caller)
	if err != nil {
		return err
	}
	gs, err := c.dom.Groups.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	d := accountsData{Accounts: res.Accounts, Groups: gs, Q: q, Page: pg, Total: res.Total, Pages: -1}
	if res.Total >= 0 {
		d.Pages = max(1, (res.Total+pageSize-1)/pageSize)
	}
	link := func(cursor string, n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("cursor", cursor)
		v.Set("page", strconv.Itoa(n))
		return "/console/accounts?" + v.Encode()
	}
	if res.Next != "" {
		d.Next = link(res.Next, pg+1)
	}
	if res.Prev != "" && pg > 1 {
		d.Prev = link(res.Prev, pg-1)
	}
	p.Title, p.Menu, p.Data = "Accounts", "accounts", d
	if p.Flash == "" {
		p.Flash = flashOf(r)
	}
	c.render(w, http.StatusOK, "accounts", p)
	return nil
}

// bulk applies one action to the selected accounts and reports how many it did.
func (c *Console) bulk(w http.ResponseWriter, r *http.Request, p *Page) error {
	action := r.PostFormValue("action")
	users := r.PostForm["username"]
	if len(users) == 0 {
		redirect(w, r, "/console/accounts", flashSelectAccounts)
		return nil
	}
	ok, failed := 0, []string{}
	for _, u := range users {
		var err error
		switch action {
		case "send-activation-sms", "send-activation-email", "send-installation-sms", "send-installation-email":
			parts := strings.Split(action, "-")
			_, err = c.dom.Links.Send(r.Context(), u, model.SendRequest{Kind: model.LinkKind(parts[1]), Channel: parts[2]}, *p.Caller)
		case "revoke":
			_, err = c.dom.Links.Revoke(r.Context(), u, *p.Caller)
		case "disable":
			_, err = c.dom.Accounts.SetDisabled(r.Context(), u, true, *p.Caller)
		case "enable":
			_, err = c.dom.Accounts.SetDisabled(r.Context(), u, false, *p.Caller)
		default:
			redirect(w, r, "/console/accounts", flashChooseAction)
			return nil
		}
		if err != nil {
			failed = append(failed, u+": "+err.Error())
		} else {
			ok++
		}
	}
	p.target = strings.Join(users, ",")
	if len(failed) == 0 {
		redirect(w, r, "/console/accounts", flashBulkDone)
		return nil
	}
	// The failures name accounts and errors: shown here, never carried in a URL.
	p.Flash = fmt.Sprintf("%s: done for %d account(s). %d failed: %s", action, ok, len(failed), strings.Join(failed, "; "))
	return c.accounts(w, r, p)
}

type accountFormData struct {
	Username string
	Groups   []model.Group
	Profiles []model.Profile
}

func (c *Console) accountForm(r *http.Request, p *Page, username string) error {
	gs, err := c.dom.Groups.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	ps, err := c.dom.Profiles.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	p.Menu, p.Data = "accounts", accountFormData{Username: username, Groups: gs, Profiles: ps}
	return nil
}

func (c *Console) accountNewForm(w http.ResponseWriter, r *http.Request, p *Page) error {
	if err := c.accountForm(r, p, ""); err != nil {
		return err
	}
	p.Title, p.Form = "New account", url.Values{"security_model": {string(model.EndToEnd)}}
	c.render(w, http.StatusOK, "account_form", p)
	return nil
}

func formInput(f url.Values, edit bool) model.AccountInput {
	get := func(k string) *string {
		if _, ok := f[k]; !ok {
			return nil
		}
		v := strings.TrimSpace(f.Get(k))
		return &v
	}
	in := model.AccountInput{Group: get("group"), Name: get("name"), Email: get("email"), Mobile: get("mobile"),
		SecurityModel: get("security_model"), Profile: get("profile"), Language: get("language"), Description: get("description")}
	if _, ok := f["one_device_field"]; ok { // the form has the checkbox, which an unticked box leaves out
		bound := f.Get("one_device") == "on"
		in.OneDevice = &bound
	}
	if v := get("virtual_number"); v != nil && (*v != "" || edit) {
		in.VirtualNumber = v
	}
	return in
}

func (c *Console) accountCreate(w http.ResponseWriter, r *http.Request, p *Page) error {
	a, err := c.dom.Accounts.Create(r.Context(), formInput(r.PostForm, false), *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		if err := c.accountForm(r, p, ""); err != nil {
			return err
		}
		p.Title, p.Form = "New account", r.PostForm
		c.render(w, http.StatusBadRequest, "account_form", p)
		return nil
	}
	p.target = a.Username
	redirect(w, r, "/console/accounts/"+a.Username, flashAccountCreated)
	return nil
}

func (c *Console) accountEditForm(w http.ResponseWriter, r *http.Request, p *Page) error {
	d, err := c.dom.Accounts.Get(r.Context(), r.PathValue("username"), *p.Caller)
	if err != nil {
		return err
	}
	a := d.Account
	if err := c.accountForm(r, p, a.Username); err != nil {
		return err
	}
	p.Title = "Edit " + a.DisplayName
	p.Form = url.Values{"group": {a.Group}, "name": {a.DisplayName}, "email": {a.Email}, "mobile": {a.Mobile},
		"security_model": {string(a.SecurityModel)}, "profile": {a.Profile}, "virtual_number": {a.VirtualNumber},
		"language": {a.Language}, "description": {a.Description}}
	if a.OneDevice {
		p.Form.Set("one_device", "on")
	}
	c.render(w, http.StatusOK, "account_form", p)
	return nil
}

func (c *Console) accountUpdate(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	_, err := c.dom.Accounts.Update(r.Context(), u, formInput(r.PostForm, true), *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		if err := c.accountForm(r, p, u); err != nil {
			return err
		}
		p.Title, p.Form = "Edit account", r.PostForm
		c.render(w, http.StatusBadRequest, "account_form", p)
		return nil
	}
	redirect(w, r, "/console/accounts/"+u, flashSaved)
	return nil
}

// profileLine is one effective profile setting and where it comes from.
type profileLine struct {
	Key, Value, Source string
}

type accountData struct {
	*model.AccountDetail
	Profile       []profileLine
	Registrations []model.Registration
}

// flatten turns profile settings into dotted keys and values.
func flatten(prefix string, v any, out *[]profileLine, source string) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, x[k], out, source)
		}
	default:
		b, _ := json.Marshal(x)
		*out = append(*out, profileLine{Key: prefix, Value: strings.Trim(string(b), `"`), Source: source})
	}
}

func (c *Console) account(w http.ResponseWriter, r *http.Request, p *Page) error {
	d, err := c.dom.Accounts.Get(r.Context(), r.PathValue("username"), *p.Caller)
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(d.EffectiveProfile.Settings)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	src := "profile " + d.EffectiveProfile.Profile + " (" + d.EffectiveProfile.Source + ")"
	switch d.EffectiveProfile.Source {
	case "account":
		src = "profile " + d.EffectiveProfile.Profile + ", set on the account"
	case "group":
		src = "profile " + d.EffectiveProfile.Profile + ", from group " + d.Account.Group
	case "default":
		src = "the default profile " + d.EffectiveProfile.Profile
	}
	var lines []profileLine
	flatten("", m, &lines, src)
	p.Title, p.Menu, p.Flash = d.Account.DisplayName, "accounts", flashOf(r)
	regs, err := c.dom.Accounts.Registrations(r.Context(), d.Account.Username, *p.Caller)
	if err != nil {
		return err
	}
	p.Data = accountData{AccountDetail: d, Profile: lines, Registrations: regs}
	c.render(w, http.StatusOK, "account", p)
	return nil
}

func (c *Console) accountSend(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	_, err := c.dom.Links.Send(r.Context(), u, model.SendRequest{Channel: r.PostFormValue("channel"), Kind: model.LinkKind(r.PostFormValue("kind"))}, *p.Caller)
	if err != nil {
		return err
	}
	redirect(w, r, "/console/accounts/"+u, flashLinkQueued)
	return nil
}

func (c *Console) accountRevoke(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	n, err := c.dom.Links.Revoke(r.Context(), u, *p.Caller)
	if err != nil {
		return err
	}
	redirect(w, r, "/console/accounts/"+u, map[bool]flash{true: flashLinksRevoked, false: flashNoLiveLink}[n > 0])
	return nil
}

func (c *Console) accountRevokeDevices(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	n, err := c.dom.Devices.RevokeAccess(r.Context(), u, *p.Caller)
	if err != nil {
		return err
	}
	redirect(w, r, "/console/accounts/"+u, map[bool]flash{true: flashDevicesRevoked, false: flashNoDevice}[n > 0])
	return nil
}

func (c *Console) accountDeactivateDevice(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return &activation.Error{Kind: activation.KindNotFound, Code: "device_not_found", Message: "no such device"}
	}
	if _, err := c.dom.Devices.Deactivate(r.Context(), u, id, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/accounts/"+u, flashDeactivated)
	return nil
}

func (c *Console) accountRevokeKeys(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	if _, err := c.dom.Devices.RevokeKeys(r.Context(), u, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/accounts/"+u, flashKeysRevoked)
	return nil
}

func (c *Console) accountDisable(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	if _, err := c.dom.Accounts.SetDisabled(r.Context(), u, true, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/accounts/"+u, flashAccountDisabled)
	return nil
}

func (c *Console) accountEnable(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	if _, err := c.dom.Accounts.SetDisabled(r.Context(), u, false, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/accounts/"+u, flashAccountEnabled)
	return nil
}

func (c *Console) accountDelete(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	if err := c.dom.Accounts.Delete(r.Context(), u, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/accounts", flashAccountDeleted)
	return nil
}

func (c *Console) exportAccounts(w http.ResponseWriter, r *http.Request, p *Page) error {
	q := r.URL.Query()
	if _, err := c.dom.Accounts.List(r.Context(), q.Get("group"), q.Get("status"), q.Get("q"), 1, 0, *p.Caller); err != nil {
		return err
	}
	stream.CSV(w, r, c.log, "activator-accounts.csv", func(w io.Writer, progress func(int) error) (int, error) {
		return c.dom.Accounts.ExportRows(r.Context(), w, q.Get("group"), q.Get("status"), q.Get("q"), *p.Caller, progress)
	})
	return nil
}
