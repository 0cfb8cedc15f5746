package console

import (
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/qr"
)

type qrData struct {
	Username string
	Name     string
	URL      string       // the link, shown once
	Image    template.URL // data: URI of the SVG
	Link     *model.Link
}

// accountQR issues a new activation link and shows it once as a QR code,
// for a user who is in front of the CSR (or on a call with a shared screen).
// The page is not cached and the link is not kept anywhere readable.
func (c *Console) accountQR(w http.ResponseWriter, r *http.Request, p *Page) error {
	u := r.PathValue("username")
	url, link, err := c.dom.Links.IssueQR(r.Context(), u, *p.Caller)
	if err != nil {
		return err
	}
	svg, err := qr.SVG(url)
	if err != nil {
		return err
	}
	d, err := c.dom.Accounts.Get(r.Context(), u, *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu = "QR code for "+d.Account.DisplayName, "accounts"
	p.Data = qrData{Username: u, Name: d.Account.DisplayName, URL: url, Link: link,
		Image: template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg))}
	c.render(w, http.StatusOK, "account_qr", p)
	return nil
}
