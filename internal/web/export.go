package web

import (
	"io"
	"net/http"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/web/stream"
)

func (s *Server) exportAccounts(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	q := r.URL.Query()
	// Validate before the first byte goes out, so a bad filter is still a JSON 400.
	if _, err := s.dom.Accounts.List(r.Context(), q.Get("group"), q.Get("status"), q.Get("q"), 1, 0, actor(c)); err != nil {
		return err
	}
	stream.CSV(w, r, s.log, "activator-accounts.csv", func(w io.Writer, progress func(int) error) (int, error) {
		return s.dom.Accounts.ExportRows(r.Context(), w, q.Get("group"), q.Get("status"), q.Get("q"), actor(c), progress)
	})
	return nil
}
