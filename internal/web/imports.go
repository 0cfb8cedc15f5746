package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/activation"
)

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, &badRequest{"invalid_field", "id", "id must be a whole number"}
	}
	return id, nil
}

func (s *Server) previewImport(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	if err := requireMediaType(r, csvMediaTypes...); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, activation.MaxImportBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyTooLarge(mbe.Limit)
		}
		return &badRequest{"invalid_body", "file", "reading the file: " + err.Error()}
	}
	q := r.URL.Query()
	p, err := s.dom.Imports.Preview(r.Context(), q.Get("file_name"), body,
		activation.ImportOptions{Group: q.Get("group"), Profile: q.Get("profile"), Send: q.Get("send")}, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 201, p)
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	is, err := s.dom.Imports.List(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, importList{is})
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := s.dom.Imports.Status(r.Context(), id, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}

func (s *Server) getImportPreview(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.dom.Imports.PreviewOf(r.Context(), id, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, p)
}

func (s *Server) confirmImport(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := s.dom.Imports.Confirm(r.Context(), id, actor(c), nil)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}

func (s *Server) cancelImport(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := s.dom.Imports.Cancel(r.Context(), id, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}

func (s *Server) sendImport(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	st, err := s.dom.Imports.SendBatch(r.Context(), id, limit, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}
