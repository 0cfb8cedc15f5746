package web

import (
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/activation"
)

// The routes that end an account's devices (activation.Devices.Deactivate,
// RevokeKeys): for a lost or stolen phone.

func (s *Server) deactivateDevice(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return &badRequest{"invalid_field", "id", "id must be a device's id: a whole number, as the account's devices list it"}
	}
	res, err := s.dom.Devices.Deactivate(r.Context(), r.PathValue("username"), id, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}

func (s *Server) revokeKeys(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	res, err := s.dom.Devices.RevokeKeys(r.Context(), r.PathValue("username"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}
