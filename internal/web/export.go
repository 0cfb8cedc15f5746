package web

import (
	"fmt"
	"io"
	"net/http"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
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

func (s *Server) startExport(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.ExportJobInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	j, err := s.dom.Exports.Start(r.Context(), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, j)
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, err := s.dom.Exports.Get(r.Context(), id, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, j)
}

// exportFile sends a done job's file as it sends a streamed export: the
// write deadline moved for each part, the row count as the trailer.
func (s *Server) exportFile(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f, j, err := s.dom.Exports.Open(r.Context(), id, actor(c))
	if err != nil {
		return err
	}
	defer f.Close()
	stream.CSV(w, r, s.log, fmt.Sprintf("activator-%s-%d.csv", j.Kind, j.ID), func(w io.Writer, progress func(int) error) (int, error) {
		buf := make([]byte, 256<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return 0, werr
				}
				if perr := progress(0); perr != nil {
					return 0, perr
				}
			}
			if err == io.EOF {
				return int(j.Rows), nil
			}
			if err != nil {
				return 0, err
			}
		}
	})
	return nil
}
