package web

import (
	"io"
	"net/http"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/web/stream"
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
		stream.CSV(w, r, s.log, "activator-audit.csv", func(w io.Writer, progress func(int) error) (int, error) {
			return s.dom.Audit.ExportRows(r.Context(), w, f, actor(c), progress)
		})
		return nil
	}
	p, err := s.dom.Audit.Page(r.Context(), f, q.Get("cursor"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, auditList{p.Entries, p.Cursors})
}
