package web

import (
	"net/http"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

func (s *Server) listOperators(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	os, err := s.dom.Operators.List(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, operatorList{os})
}

func (s *Server) createOperator(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.OperatorInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	o, err := s.dom.Operators.Create(r.Context(), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 201, o)
}

func (s *Server) getOperator(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	o, err := s.dom.Operators.Get(r.Context(), r.PathValue("name"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, o)
}

func (s *Server) updateOperator(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.OperatorInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	o, err := s.dom.Operators.Update(r.Context(), r.PathValue("name"), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, o)
}

func (s *Server) disableOperator(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	o, err := s.dom.Operators.SetDisabled(r.Context(), r.PathValue("name"), true, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, o)
}

func (s *Server) enableOperator(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	o, err := s.dom.Operators.SetDisabled(r.Context(), r.PathValue("name"), false, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, o)
}

func (s *Server) resetOperatorPassword(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	o, err := s.dom.Operators.ResetPassword(r.Context(), r.PathValue("name"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, o)
}
