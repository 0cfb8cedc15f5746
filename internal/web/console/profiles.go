package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/model"
)

func (c *Console) profiles(w http.ResponseWriter, r *http.Request, p *Page) error {
	ps, err := c.dom.Profiles.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "Provisioning profiles", "profiles", ps
	if p.Flash == "" {
		p.Flash = flashOf(r)
	}
	status := http.StatusOK
	if p.Error != "" {
		status = http.StatusBadRequest
	}
	c.render(w, status, "profiles", p)
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
		p.Flash = flashOf(r)
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
	redirect(w, r, "/console/profiles/"+name, flashSaved)
	return nil
}

func (c *Console) profileCreate(w http.ResponseWriter, r *http.Request, p *Page) error {
	pr, err := c.dom.Profiles.Create(r.Context(), r.PostFormValue("name"), json.RawMessage(`{"customer_service_email":`+strconv.Quote(r.PostFormValue("customer_service_email"))+`}`), *p.Caller)
	if err != nil {
		if err := fieldError(p, err); err != nil {
			return err
		}
		// The domain's error names what was wrong: shown here, never carried in a URL.
		p.Form = r.PostForm
		return c.profiles(w, r, p)
	}
	p.target = pr.Name
	redirect(w, r, "/console/profiles/"+pr.Name, flashProfileCreated)
	return nil
}
