package web

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/qr"
	"github.com/activator-voip/activator/internal/web/pages"
)

// sipRoutes are the SIP side's routes: registrations in the admin API, the
// "Open in Linphone" redeem and Linphone's provisioning URL.
func (s *Server) sipRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/accounts/{username}/registrations", access: token, perm: permRead, tag: "accounts", summary: "The account's live SIP registrations", resp: registrationList{}, status: 200, h: s.registrations},
		{method: "POST", path: "/a/{token}/linphone", access: public, tag: "pages", summary: "Open in Linphone: redeems the link (a person's POST from the landing page) and answers a page with the Linphone provisioning URL (HTML)", status: 200, h: s.linphoneRedeem},
		{method: "GET", path: "/p/linphone/{credential}", access: public, tag: "device", summary: "Linphone remote provisioning (lpconfig XML); the URL is the device credential", status: 200, h: s.linphoneConfig},
	}
}

type registrationList struct {
	Registrations []model.Registration `json:"registrations"`
}

func (s *Server) registrations(w http.ResponseWriter, r *http.Request, c *activation.Caller) error {
	regs, err := s.dom.Accounts.Registrations(r.Context(), r.PathValue("username"), actor(c))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, registrationList{regs})
}

func (s *Server) linphoneRedeem(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	token := r.PathValue("token")
	page, err := s.dom.Links.Info(r.Context(), token)
	if err != nil {
		return s.linkError(w, r, page, err)
	}
	p, err := s.dom.Devices.RedeemLinphone(r.Context(), token, pages.DetectPlatform(r.UserAgent()))
	if err != nil {
		return s.linkError(w, r, page, err)
	}
	svg, err := qr.SVG(p.URL)
	if err != nil {
		return err
	}
	b := brand(page.Settings)
	s.pageHeaders(w, b)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return s.pages.Linphone(w, pages.LinphoneView{Lang: page.Link.Language, Brand: b, URL: p.URL,
		ConfigURI: p.ConfigURI, QRSVG: template.HTML(svg), FetchBy: p.FetchBy})
}

func (s *Server) linphoneConfig(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	b, err := s.dom.Devices.LinphoneConfig(r.Context(), r.PathValue("credential"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", provisioning.LinphoneContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}
