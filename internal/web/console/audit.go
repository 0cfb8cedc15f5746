package console

import (
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

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
	res, err := c.dom.Audit.Page(r.Context(), f, q.Get("cursor"), *p.Caller)
	if err != nil {
		return err
	}
	d := pagedData[model.AuditEntry]{Items: res.Entries}
	d.Prev, d.Next = pageLinks(r, res.Cursors)
	p.Title, p.Menu, p.Data, p.Form = "Audit log", "audit", d, q
	c.render(w, http.StatusOK, "audit", p)
	return nil
}
