package console

import (
	"net/http"
	"strings"

	"github.com/activator-voip/activator/internal/model"
)

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
		p.Flash = flashOf(r)
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
	redirect(w, r, "/console/downloads", flashSaved)
	return nil
}
