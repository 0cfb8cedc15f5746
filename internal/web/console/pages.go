package console

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, &activation.Error{Kind: activation.KindNotFound, Code: "not_found", Message: "no such page"}
	}
	return id, nil
}

// --- import

type importFormData struct {
	Groups   []model.Group
	Profiles []model.Profile
	Imports  []model.ImportStatus
}

func (c *Console) importFormData(r *http.Request, p *Page) (importFormData, error) {
	var d importFormData
	var err error
	if d.Groups, err = c.dom.Groups.List(r.Context(), *p.Caller); err != nil {
		return d, err
	}
	if d.Profiles, err = c.dom.Profiles.List(r.Context(), *p.Caller); err != nil {
		return d, err
	}
	d.Imports, err = c.dom.Imports.List(r.Context(), *p.Caller)
	return d, err
}

func (c *Console) importForm(w http.ResponseWriter, r *http.Request, p *Page) error {
	d, err := c.importFormData(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data, p.Flash = "Import accounts", "import", d, r.URL.Query().Get("flash")
	c.render(w, http.StatusOK, "import", p)
	return nil
}

func (c *Console) importUpload(w http.ResponseWriter, r *http.Request, p *Page) error {
	p.Title, p.Menu, p.Form = "Import accounts", "import", r.PostForm
	f, hdr, err := r.FormFile("file")
	var content []byte
	name := ""
	if err == nil {
		defer f.Close()
		content, err = io.ReadAll(io.LimitReader(f, activation.MaxImportBytes+1))
		name = hdr.Filename
	}
	if err != nil || len(content) == 0 {
		p.Fields["file"] = "choose a CSV file"
	} else {
		prev, perr := c.dom.Imports.Preview(r.Context(), name, content, activation.ImportOptions{
			Group: r.PostFormValue("group"), Profile: r.PostFormValue("profile"), Send: r.PostFormValue("send")}, *p.Caller)
		if perr == nil {
			p.target = strconv.FormatInt(prev.ID, 10)
			redirect(w, r, fmt.Sprintf("/console/imports/%d", prev.ID), "")
			return nil
		}
		if err := fieldError(p, perr); err != nil {
			return err
		}
	}
	d, err := c.importFormData(r, p)
	if err != nil {
		return err
	}
	p.Data = d
	c.render(w, http.StatusBadRequest, "import", p)
	return nil
}

type importData struct {
	Preview *model.ImportPreview
	Status  *model.ImportStatus
}

func (c *Console) importPage(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := c.dom.Imports.Status(r.Context(), id, *p.Caller)
	if err != nil {
		return err
	}
	d := importData{Status: st}
	if st.State == model.ImportPreviewed {
		if d.Preview, err = c.dom.Imports.PreviewOf(r.Context(), id, *p.Caller); err != nil {
			return err
		}
	}
	p.Title, p.Menu, p.Data, p.Flash = fmt.Sprintf("Import %d", id), "import", d, r.URL.Query().Get("flash")
	c.render(w, http.StatusOK, "import_status", p)
	return nil
}

func (c *Console) importConfirm(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := c.dom.Imports.Confirm(r.Context(), id, *p.Caller, nil)
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/console/imports/%d", id), fmt.Sprintf("Imported: %d new account(s).", st.Created))
	return nil
}

func (c *Console) importCancel(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := c.dom.Imports.Cancel(r.Context(), id, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/import", "The import was cancelled: nothing was imported.")
	return nil
}

// importSend sends the next batch of an import's activations. The import
// page's script calls it again and again while the state is "sending",
// which moves the progress bar; without script, the button does the same.
func (c *Console) importSend(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := c.dom.Imports.SendBatch(r.Context(), id, 25, *p.Caller)
	if err != nil {
		return err
	}
	if r.Header.Get("X-Live") != "" {
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(st)
	}
	redirect(w, r, fmt.Sprintf("/console/imports/%d", id), "")
	return nil
}

// --- messages

func (c *Console) outbox(w http.ResponseWriter, r *http.Request, p *Page) error {
	items, err := c.dom.Messages.Outbox(r.Context(), 200, *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "Outbox", "outbox", items
	c.render(w, http.StatusOK, "outbox", p)
	return nil
}

func (c *Console) outboxItem(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	it, err := c.dom.Messages.OutboxItem(r.Context(), id, *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = fmt.Sprintf("Outbox message %d", id), "outbox", it
	c.render(w, http.StatusOK, "outbox_item", p)
	return nil
}

func (c *Console) messages(w http.ResponseWriter, r *http.Request, p *Page) error {
	ms, err := c.dom.Messages.List(r.Context(), r.URL.Query().Get("state"), "", 200, *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "Messages", "messages", ms
	c.render(w, http.StatusOK, "messages", p)
	return nil
}

// --- configuration

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
		p.Flash = r.URL.Query().Get("flash")
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
	redirect(w, r, "/console/groups", "Group "+g.Name+" created.")
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
	redirect(w, r, "/console/groups", "Group "+r.PathValue("name")+" saved.")
	return nil
}

func (c *Console) groupDelete(w http.ResponseWriter, r *http.Request, p *Page) error {
	if err := c.dom.Groups.Delete(r.Context(), r.PathValue("name"), *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/groups", "Group deleted.")
	return nil
}

func (c *Console) profiles(w http.ResponseWriter, r *http.Request, p *Page) error {
	ps, err := c.dom.Profiles.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data, p.Flash = "Provisioning profiles", "profiles", ps, r.URL.Query().Get("flash")
	c.render(w, http.StatusOK, "profiles", p)
	return nil
}

// profileField is one profile setting with its value and a line of help.
type profileField struct {
	Key, Value, Help string
}

// profileHelp explains each profile setting, in the words of docs/configuration.md.
var profileHelp = map[string]string{
	"customer_service_email":             "Required. Receives client logs and complaints.",
	"customer_service_phone":             "Shown in the client.",
	"logging":                            "Client logging: off, errors or debug.",
	"read_only_settings":                 "The user cannot change provisioned settings (true/false).",
	"secure_messaging":                   "Secure messaging on (true/false).",
	"privacy.user_may_edit_history_size": "The user may change how much history is kept.",
	"privacy.history_size":               "History entries kept (0 to 100000).",
	"pin.forced":                         "The client must be locked with a PIN.",
	"pin.ask_after_idle_minutes":         "Ask for the PIN after this many idle minutes.",
	"pin.attempts":                       "Wrong PINs allowed before the lockout (1 to 100).",
	"pin.lockout_minutes":                "Lockout length in minutes.",
	"oem_licence_code":                   "OEM licence code handed to the client.",
	"keep_alive_seconds":                 "SIP keep-alive interval (0 to 3600).",
	"rtp_obfuscation":                    "RTP obfuscation: off or on.",
	"codecs":                             "Audio codecs in order of preference (a JSON list).",
	"transport":                          "SIP transport: tls, tcp or udp.",
	"media_encryption":                   "zrtp, srtp or none.",
	"media_encryption_mandatory":         "Refuse calls without media encryption.",
	"srtp_suites":                        "SRTP crypto suites (a JSON list).",
	"zrtp_sas_types":                     "ZRTP short authentication string types (a JSON list).",
	"verify_server_certificate":          "Check the SIP server's TLS certificate strictly.",
	"platform_options":                   "Free per-platform options (a JSON object).",
}

func helpFor(key string) string {
	if h, ok := profileHelp[key]; ok {
		return h
	}
	if i := strings.LastIndex(key, "."); i >= 0 {
		return profileHelp[key[i+1:]]
	}
	return ""
}

type profileData struct {
	Profile *model.Profile
	Fields  []profileField
}

func (c *Console) profilePage(w http.ResponseWriter, r *http.Request, p *Page, name string, status int) error {
	pr, err := c.dom.Profiles.Get(r.Context(), name, *p.Caller)
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(pr.Settings)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	var lines []profileLine
	flatten("", m, &lines, "")
	fields := make([]profileField, len(lines))
	for i, l := range lines {
		fields[i] = profileField{Key: l.Key, Value: l.Value, Help: helpFor(l.Key)}
	}
	p.Title, p.Menu, p.Data = "Profile "+pr.Name, "profiles", profileData{pr, fields}
	if p.Flash == "" {
		p.Flash = r.URL.Query().Get("flash")
	}
	c.render(w, status, "profile", p)
	return nil
}

func (c *Console) profile(w http.ResponseWriter, r *http.Request, p *Page) error {
	return c.profilePage(w, r, p, r.PathValue("name"), http.StatusOK)
}

// settingsPatch builds a profile patch from the form's dotted keys; each
// value is read as JSON when it is JSON (numbers, booleans, lists), else as text.
func settingsPatch(form map[string][]string) json.RawMessage {
	root := map[string]any{}
	for k, vs := range form {
		key, ok := strings.CutPrefix(k, "s.")
		if !ok || len(vs) == 0 {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(vs[0]), &v); err != nil {
			v = vs[0]
		}
		parts := strings.Split(key, ".")
		m := root
		for _, part := range parts[:len(parts)-1] {
			next, ok := m[part].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[part] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
	b, _ := json.Marshal(root)
	return b
}

func (c *Console) profileUpdate(w http.ResponseWriter, r *http.Request, p *Page) error {
	name := r.PathValue("name")
	if _, err := c.dom.Profiles.Update(r.Context(), name, nil, settingsPatch(r.PostForm), *p.Caller); err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		return c.profilePage(w, r, p, name, http.StatusBadRequest)
	}
	redirect(w, r, "/console/profiles/"+name, "Saved.")
	return nil
}

func (c *Console) profileCreate(w http.ResponseWriter, r *http.Request, p *Page) error {
	pr, err := c.dom.Profiles.Create(r.Context(), r.PostFormValue("name"), json.RawMessage(`{"customer_service_email":`+strconv.Quote(r.PostFormValue("customer_service_email"))+`}`), *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		redirect(w, r, "/console/profiles", p.Error)
		return nil
	}
	p.target = pr.Name
	redirect(w, r, "/console/profiles/"+pr.Name, "Profile created.")
	return nil
}

type downloadsData struct {
	URLs map[string]string // platform + "/" + model
}

func (c *Console) downloads(w http.ResponseWriter, r *http.Request, p *Page) error {
	as, err := c.dom.Downloads.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	d := downloadsData{URLs: map[string]string{}}
	for _, a := range as {
		d.URLs[a.Platform+"/"+string(a.SecurityModel)] = a.URL
	}
	p.Title, p.Menu, p.Data = "Download URLs", "downloads", d
	if p.Flash == "" {
		p.Flash = r.URL.Query().Get("flash")
	}
	c.render(w, http.StatusOK, "downloads", p)
	return nil
}

func (c *Console) downloadsSave(w http.ResponseWriter, r *http.Request, p *Page) error {
	current, err := c.dom.Downloads.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	have := map[string]string{}
	for _, a := range current {
		have[a.Platform+"/"+string(a.SecurityModel)] = a.URL
	}
	// Every cell is checked before any is stored: a bad URL stores nothing.
	for pass := 0; pass < 2; pass++ {
		for _, plat := range model.Platforms {
			for _, m := range []string{"", string(model.EndToEnd), string(model.EndToSite)} {
				k := plat + "/" + m
				v := strings.TrimSpace(r.PostFormValue("u." + k))
				a := model.AppURL{Platform: plat, SecurityModel: model.SecurityModel(m), URL: v}
				switch {
				case v == have[k]:
				case pass == 0:
					if v == "" {
						continue
					}
					if err := c.dom.Downloads.Check(a); err != nil {
						if err := fieldError(p, err); err != nil {
							return err
						}
						p.Fields["u."+k] = p.Error
						p.Error = k + ": " + p.Error
						return c.downloads(w, r, p)
					}
				case v == "":
					if err := c.dom.Downloads.Delete(r.Context(), plat, model.SecurityModel(m), *p.Caller); err != nil {
						return err
					}
				default:
					if _, err := c.dom.Downloads.Set(r.Context(), a, *p.Caller); err != nil {
						return err
					}
				}
			}
		}
	}
	redirect(w, r, "/console/downloads", "Saved.")
	return nil
}

func (c *Console) settings(w http.ResponseWriter, r *http.Request, p *Page) error {
	st, err := c.dom.Settings.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "Settings", "settings", st
	if p.Flash == "" {
		p.Flash = r.URL.Query().Get("flash")
	}
	c.render(w, http.StatusOK, "settings", p)
	return nil
}

func (c *Console) settingsSave(w http.ResponseWriter, r *http.Request, p *Page) error {
	st, err := c.dom.Settings.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	// Every changed value is checked before any is stored: an invalid one
	// stores nothing.
	var changed []model.Setting
	for _, s := range st {
		v, ok := r.PostForm["v."+s.Key]
		if !ok || strings.TrimSpace(v[0]) == s.Value {
			continue
		}
		if err := c.dom.Settings.Check(s.Key, v[0]); err != nil {
			if err := fieldError(p, err); err != nil {
				return err
			}
			p.Fields[s.Key] = p.Error
			p.Error = s.Key + ": " + p.Error
			return c.settings(w, r, p)
		}
		changed = append(changed, model.Setting{Key: s.Key, Value: strings.TrimSpace(v[0])})
	}
	for _, s := range changed {
		if _, err := c.dom.Settings.Set(r.Context(), s.Key, s.Value, *p.Caller); err != nil {
			return err
		}
	}
	redirect(w, r, "/console/settings", "Saved.")
	return nil
}

// --- operators and tokens

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
		p.Flash = r.URL.Query().Get("flash")
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
	redirect(w, r, "/console/operators", "Operator disabled.")
	return nil
}

func (c *Console) operatorEnable(w http.ResponseWriter, r *http.Request, p *Page) error {
	if _, err := c.dom.Operators.SetDisabled(r.Context(), r.PathValue("name"), false, *p.Caller); err != nil {
		return err
	}
	redirect(w, r, "/console/operators", "Operator enabled.")
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
	redirect(w, r, "/console/operators", "Role changed.")
	return nil
}

func (c *Console) operatorReset(w http.ResponseWriter, r *http.Request, p *Page) error {
	created, err := c.dom.Operators.ResetPassword(r.Context(), r.PathValue("name"), *p.Caller)
	if err != nil {
		return err
	}
	return c.operatorsPage(w, r, p, created, http.StatusOK)
}

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
		p.Flash = r.URL.Query().Get("flash")
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
	redirect(w, r, "/console/tokens", "Token revoked.")
	return nil
}

// --- audit

func (c *Console) auditLog(w http.ResponseWriter, r *http.Request, p *Page) error {
	q := r.URL.Query()
	f := activation.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil {
		f.BeforeID = b
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="activator-audit.csv"`)
		return c.dom.Audit.Export(r.Context(), w, f, *p.Caller)
	}
	f.Limit = 100
	es, err := c.dom.Audit.Log(r.Context(), f, *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data, p.Form = "Audit log", "audit", es, q
	c.render(w, http.StatusOK, "audit", p)
	return nil
}
