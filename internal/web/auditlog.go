package web

import (
	"net/http"

	"github.com/activator-voip/activator/internal/activation"
)

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	q := r.URL.Query()
	f := activation.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	var err error
	if f.Limit, err = queryInt(r, "limit"); err != nil {
		return err
	}
	before, err := queryInt(r, "before")
	if err != nil {
		return err
	}
	f.BeforeID = int64(before)
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="activator-audit.csv"`)
		return s.dom.Audit.Export(r.Context(), w, f, actor(c))
	}
	p, err := s.dom.Audit.Page(r.Context(), f, q.Get("cursor"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, auditList{p.Entries, p.Cursors})
}
