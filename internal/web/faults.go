package web

import (
	"net/http"
	"strings"

	"github.com/activator-voip/activator/internal/web/pages"
	"github.com/activator-voip/activator/internal/web/status"
)

// fault answers a database fault (status.Fault) and reports whether err
// was one: 503 or 507 with Retry-After, as an HTML page for a person on a
// link's pages, else as the API's JSON error. The store logs the fault
// once when it starts, so the answer is not logged here.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, err error) bool {
	code, apiCode, msg, ok := status.Fault(err)
	if !ok {
		return false
	}
	w.Header().Set("Retry-After", status.RetryAfter)
	if strings.HasPrefix(r.URL.Path, "/a/") && !wantsJSON(r) {
		s.pageHeaders(w, pages.Brand{})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		if err := s.pages.Unavailable(w, r.Header.Get("Accept-Language")); err != nil {
			s.log.Error("rendering the unavailable page", "err", err)
		}
		return true
	}
	writeJSONError(w, code, apiCode, msg, "")
	return true
}
