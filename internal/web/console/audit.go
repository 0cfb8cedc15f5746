package console

import (
	"io"
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/stream"
)

func (c *Console) auditLog(w http.ResponseWriter, r *http.Request, p *Page) error {
	q := r.URL.Query()
	f := activation.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil {
		f.BeforeID = b
	}
	if q.Get("format") == "csv" {
		stream.CSV(w, r, c.log, "activator-audit.csv", func(w io.Writer, progress func(int) error) (int, error) {
			return c.dom.Audit.ExportRows(r.Context(), w, f, *p.Caller, progress)
		})
		return nil
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
