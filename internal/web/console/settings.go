package console

import (
	"net/http"
	"strings"

	"github.com/activator-voip/activator/internal/model"
)

func (c *Console) settings(w http.ResponseWriter, r *http.Request, p *Page) error {
	st, err := c.dom.Settings.List(r.Context(), *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "Settings", "settings", st
	if p.Flash == "" {
		p.Flash = flashOf(r)
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
	redirect(w, r, "/console/settings", flashSaved)
	return nil
}

// --- operators and tokens
