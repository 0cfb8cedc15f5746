package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/activator-voip/activator/internal/activation"
)

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, &badRequest{"invalid_field", "id", "id must be a whole number"}
	}
	return id, nil
}

// previewWait is how long an upload waits for its check: a small file's
// preview comes in the answer (201); a large one's answer (202) names the
// import in state checking, whose progress GET /imports/{id} shows.
const previewWait = 10 * time.Second

// confirmWait is how long a confirmation waits for its import: a small
// file's is done in the answer (200); a large one's answer (202) names the
// import in state importing, which goes on as a job on the server and
// whose progress (done of total) GET /imports/{id} shows.
const confirmWait = 10 * time.Second

func (s *Server) previewImport(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	if err := requireMediaType(r, csvMediaTypes...); err != nil {
		return err
	}
	q := r.URL.Query()
	// The body is kept as it arrives, a piece at a time, never whole in memory.
	st, err := s.dom.Imports.Upload(r.Context(), q.Get("file_name"), http.MaxBytesReader(w, r.Body, activation.MaxImportBytes),
		activation.ImportOptions{Group: q.Get("group"), Profile: q.Get("profile"), Send: q.Get("send")}, actor(c))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return bodyTooLarge(mbe.Limit)
	}
	if err != nil {
		return err
	}
	p, done, err := s.dom.Imports.AwaitPreview(r.Context(), st.ID, previewWait, actor(c))
	if err != nil {
		return err
	}
	if !done {
		return writeJSON(w, http.StatusAccepted, p)
	}
	return writeJSON(w, 201, p)
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	p, err := s.dom.Imports.Page(r.Context(), limit, r.URL.Query().Get("cursor"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, importList{p.Imports, p.Cursors})
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
	wait := s.ops.ConfirmWait
	if wait == 0 {
		wait = confirmWait
	}
	st, done, err := s.dom.Imports.ConfirmJob(r.Context(), id, wait, actor(c))
	if err != nil {
		return err
	}
	if !done {
		return writeJSON(w, http.StatusAccepted, st)
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
	if _, err := queryInt(r, "limit"); err != nil { // kept for older clients: the server sends by itself
		return err
	}
	st, err := s.dom.Imports.Resume(r.Context(), id, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, st)
}
