package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/qr"
	"github.com/activator-voip/activator/internal/web/pages"
	"github.com/activator-voip/activator/internal/web/status"
)

// The public pages a secure link opens. None of them uses the link up; only
// the device's redeem does.

func (s *Server) landing(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	platform := pages.DetectPlatform(r.UserAgent())
	page, err := s.dom.Links.Open(r.Context(), r.PathValue("token"), platform)
	if err != nil {
		return s.linkError(w, r, page, err)
	}
	l, st := page.Link, page.Settings
	v := pages.LandingView{
		Lang: l.Language, Brand: brand(st), DisplayName: l.DisplayName, Kind: l.Kind, SecurityModel: l.SecurityModel,
		Platform: platform, PageURL: page.PageURL, QRURL: page.QRURL, ExpiresAt: l.ExpiresAt, ITEmail: l.ITEmail,
		// Stage "installed": an installation link was followed and nothing activated since.
		InstallTapped: l.Stage == model.StageInstalled,
	}
	if l.Kind == model.LinkActivation {
		v.ActivationURL = page.ActivationURL
		v.LinphoneURL = page.PageURL + "/linphone" // sip.go: "Open in Linphone"
	}
	// Every platform with a download, the detected one first.
	add := func(p string) {
		for _, a := range page.Apps {
			if a.Platform == p && (a.SecurityModel == "" || a.SecurityModel == l.SecurityModel) {
				v.Platforms = append(v.Platforms, pages.PlatformLink{Platform: p, URL: page.PageURL + "/install?platform=" + p})
				return
			}
		}
	}
	if platform != "" {
		add(platform)
	}
	for _, p := range model.Platforms {
		if p != platform {
			add(p)
		}
	}
	s.pageHeaders(w, v.Brand)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return s.pages.Landing(w, v)
}

// brand is who the link pages speak for: the link's organisation's
// display name, logo, colour and IT contact.
func brand(st *activation.Resolved) pages.Brand {
	return pages.Brand{Name: st.Company, LogoURL: st.BrandLogoURL, Colour: st.BrandColour, Contact: st.ITContact}
}

// pageHeaders sets the headers of a page of b: its Content-Security-Policy
// allows b's logo and colour.
func (s *Server) pageHeaders(w http.ResponseWriter, b pages.Brand) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", s.pages.ContentSecurityPolicy(b))
	h.Set("X-Robots-Tag", "noindex, nofollow")
}

// linkError answers a page request for a link that cannot be used with a
// page in the account's language that sends the user to their IT department.
func (s *Server) linkError(w http.ResponseWriter, r *http.Request, page *activation.LinkPage, err error) error {
	var de *activation.Error
	if !errors.As(err, &de) || page == nil {
		return err
	}
	v := pages.ErrorView{Reason: "not_found"}
	switch de {
	case activation.ErrLinkUnknown:
		v.Reason = "unknown"
	case activation.ErrLinkExpired:
		v.Reason = "expired"
	case activation.ErrLinkRevoked:
		v.Reason = "revoked"
	case activation.ErrLinkUsed:
		v.Reason = "used"
	}
	if page.Settings != nil {
		v.Brand = brand(page.Settings)
	}
	if page.Link != nil {
		v.Lang, v.ITEmail = page.Link.Language, page.Link.ITEmail
	}
	s.pageHeaders(w, v.Brand)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status.Of(de.Kind))
	return s.pages.LinkError(w, v)
}

func (s *Server) install(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	platform := r.URL.Query().Get("platform")
	if platform == "" {
		platform = pages.DetectPlatform(r.UserAgent())
	}
	u, page, err := s.dom.Links.InstallURL(r.Context(), r.PathValue("token"), platform)
	if err != nil {
		return s.linkError(w, r, page, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

func (s *Server) activationFile(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	f, page, err := s.dom.Links.ActivationFile(r.Context(), r.PathValue("token"))
	if err != nil {
		if page != nil && wantsJSON(r) {
			return err // a client asking for JSON gets the error body of the device contract
		}
		return s.linkError(w, r, page, err)
	}
	h := w.Header()
	h.Set("Content-Type", f.MIMEType)
	h.Set("Content-Disposition", `attachment; filename="`+f.FileName+`"`)
	h.Set("Content-Length", strconv.Itoa(len(f.Data)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(f.Data)
	return err
}

// wantsJSON tells a programmatic client from a browser.
func wantsJSON(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, item := range strings.Split(v, ",") {
			mt, params, _ := strings.Cut(item, ";")
			if strings.TrimSpace(mt) == "application/json" && strings.ReplaceAll(params, " ", "") != "q=0" {
				return true
			}
		}
	}
	return false
}

func (s *Server) qrCode(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	page, err := s.dom.Links.Info(r.Context(), r.PathValue("token"))
	if err != nil {
		return s.linkError(w, r, page, err)
	}
	svg, err := qr.SVG(page.PageURL)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "private, max-age=300")
	_, err = w.Write(svg)
	return err
}
