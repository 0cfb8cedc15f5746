package web

import (
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	ts, err := s.dom.Operators.Tokens(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, tokenList{ts})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.TokenInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.dom.Operators.CreateToken(r.Context(), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 201, t)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &badRequest{"invalid_field", "id", "id must be a whole number"}
	}
	if err := s.dom.Operators.RevokeToken(r.Context(), id, actor(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
