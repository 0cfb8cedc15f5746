package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// gatewayRoutes are the message gateways' routes: configuration, tests,
// group routing, and the providers' delivery receipt callbacks.
func (s *Server) gatewayRoutes() []route {
	none := http.StatusNoContent
	receipt := "A provider's delivery receipt callback; the key in the path authenticates it (Twilio's X-Twilio-Signature is checked too)"
	bursts := "providers send a bulk send's receipts at once, from few addresses"
	return []route{
		{method: "GET", path: "/api/v1/gateway-kinds", access: token, perm: permRead, tag: "gateways", summary: "List the kinds of gateway with their setting keys", resp: gatewayKindList{}, status: 200, h: s.gatewayKinds},
		{method: "GET", path: "/api/v1/gateways", access: token, perm: permRead, tag: "gateways", summary: "List configured gateways (secrets masked; receipt keys whole for admins only)", resp: gatewayList{}, status: 200, h: s.listGateways},
		{method: "POST", path: "/api/v1/gateways", access: token, perm: permConfig, tag: "gateways", summary: "Configure a gateway", body: model.GatewayInput{}, resp: model.Gateway{}, status: 201, h: s.createGateway},
		{method: "GET", path: "/api/v1/gateways/{name}", access: token, perm: permRead, tag: "gateways", summary: "Show a gateway, secrets masked, with its receipt URL (its key whole for admins only)", resp: model.Gateway{}, status: 200, h: s.getGateway},
		{method: "PATCH", path: "/api/v1/gateways/{name}", access: token, perm: permConfig, tag: "gateways", summary: "Rename a gateway, change its default, merge settings into it", body: model.GatewayInput{}, resp: model.Gateway{}, status: 200, h: s.updateGateway},
		{method: "DELETE", path: "/api/v1/gateways/{name}", access: token, perm: permConfig, tag: "gateways", summary: "Delete a gateway no group uses", status: none, h: s.deleteGateway},
		{method: "POST", path: "/api/v1/gateways/{name}/test", access: token, perm: permConfig, tag: "gateways", summary: "Send a test message now and show what the provider answered", body: model.GatewayTestRequest{}, resp: model.GatewayTestResult{}, status: 200, h: s.testGateway},
		{method: "GET", path: "/api/v1/group-gateways", access: token, perm: permRead, tag: "gateways", summary: "List the groups' own gateways", resp: groupGatewayList{}, status: 200, h: s.listGroupGateways},
		{method: "PUT", path: "/api/v1/groups/{name}/gateways/{channel}", access: token, perm: permConfig, tag: "gateways", summary: "Route a group's messages on a channel (sms, email) through a gateway; an empty gateway removes the override", body: groupGatewayInput{}, status: none, h: s.setGroupGateway},
		{method: "POST", path: "/api/v1/receipts/{gateway}/{key}", access: public, tag: "gateways", summary: receipt, status: none, h: s.receipt, maxBody: receiptBodyMax, unlimited: bursts},
		{method: "GET", path: "/api/v1/receipts/{gateway}/{key}", access: public, tag: "gateways", summary: receipt + " (GET form: Vonage, ASPSMS)", status: none, h: s.receipt, maxBody: receiptBodyMax, unlimited: bursts},
	}
}

type (
	gatewayKindList struct {
		Kinds []model.GatewayKind `json:"kinds"`
	}
	gatewayList struct {
		Gateways []model.Gateway `json:"gateways"`
	}
	groupGatewayList struct {
		GroupGateways []model.GroupGateway `json:"group_gateways"`
	}
	// groupGatewayInput is model.GroupGatewayInput as the API reads it:
	// the gateway must be given, so that {} cannot remove an override.
	groupGatewayInput struct {
		Gateway *string `json:"gateway" required:"true"`
	}
)

func (s *Server) gatewayKinds(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	return writeJSON(w, 200, gatewayKindList{s.dom.Gateways.Kinds()})
}

func (s *Server) listGateways(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	gs, err := s.dom.Gateways.List(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, gatewayList{gs})
}

func (s *Server) createGateway(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.GatewayInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	g, err := s.dom.Gateways.Create(r.Context(), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 201, g)
}

func (s *Server) getGateway(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	g, err := s.dom.Gateways.Get(r.Context(), r.PathValue("name"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, g)
}

func (s *Server) updateGateway(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.GatewayInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	g, err := s.dom.Gateways.Update(r.Context(), r.PathValue("name"), in, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, g)
}

func (s *Server) deleteGateway(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	if err := s.dom.Gateways.Delete(r.Context(), r.PathValue("name"), actor(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) testGateway(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in model.GatewayTestRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.dom.Gateways.Test(r.Context(), r.PathValue("name"), in.To, actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, res)
}

func (s *Server) listGroupGateways(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	gg, err := s.dom.Gateways.GroupGateways(r.Context(), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, groupGatewayList{gg})
}

func (s *Server) setGroupGateway(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	var in groupGatewayInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Gateway == nil {
		return &badRequest{"invalid_field", "gateway", `gateway is required: a gateway's name, or "" to remove the group's override`}
	}
	if err := s.dom.Gateways.SetGroupGateway(r.Context(), r.PathValue("name"), r.PathValue("channel"), *in.Gateway, actor(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// receipt takes a provider's delivery receipt. It answers 204 once the
// callback is authenticated and read, even when it names no known message,
// so providers do not resend it forever.
func (s *Server) receipt(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	body, err := io.ReadAll(r.Body) // bounded before routing (guard.go)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyTooLarge(mbe.Limit)
		}
		return &badRequest{"invalid_body", "", "could not read the body"}
	}
	rr := messaging.ReceiptRequest{Method: r.Method, Query: r.URL.Query(), Body: body, Form: url.Values{}, Header: r.Header}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if rr.Form, err = url.ParseQuery(string(body)); err != nil {
			return &badRequest{"invalid_body", "", "the form body is malformed"}
		}
	}
	if _, err := s.dom.Gateways.ApplyReceipt(r.Context(), r.PathValue("gateway"), r.PathValue("key"), r.URL.RequestURI(), rr); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
