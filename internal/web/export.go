package web

import (
	"net/http"

	"github.com/activator-voip/activator/internal/activation"
)

func (s *Server) exportAccounts(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	q := r.URL.Query()
	// Validate before the first byte goes out, so a bad filter is still a JSON 400.
	if _, err := s.dom.Accounts.List(r.Context(), q.Get("group"), q.Get("status"), q.Get("q"), 1, 0, actor(c)); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="activator-accounts.csv"`)
	return s.dom.Accounts.Export(r.Context(), w, q.Get("group"), q.Get("status"), q.Get("q"), actor(c))
}
