package pages

import (
	"fmt"
	"html/template"
	"io"
	"time"
)

// LinphoneView is the page the "Open in Linphone" button leads to: the
// provisioning URL, as a linphone-config: link, as text and as a QR code.
type LinphoneView struct {
	Lang      string
	Brand     Brand
	URL       string        // the https provisioning URL
	ConfigURI string        // linphone-config:URL
	QRSVG     template.HTML // QR code of URL, inline SVG made by the qr package
	FetchBy   time.Time     // the URL dies unless first fetched before this
}

type linphoneData struct {
	Lang, Title, URL, Expires string
	ExpiresAt, ExpiresUntil   string // as on the landing page: RFC 3339, and the line with {date} for its script
	Brand                     brandView
	ConfigURI                 template.URL
	QR                        template.HTML
}

// Linphone writes the page that hands the provisioning URL to Linphone.
func (r *Renderer) Linphone(w io.Writer, v LinphoneView) error {
	lang, t := r.language(v.Lang)
	d := linphoneData{Lang: lang, Title: r.cat.T(lang, "linphone.title"), Brand: v.Brand.view(), URL: v.URL,
		ConfigURI: template.URL(v.ConfigURI), QR: v.QRSVG}
	var err error
	if d.Expires, err = r.cat.Format(lang, "linphone.expires", vars{Date: r.cat.FormatDate(lang, v.FetchBy.UTC())}); err != nil {
		return fmt.Errorf("pages: rendering linphone page: %w", err)
	}
	// The page's script writes the date in the browser's own time zone,
	// as on the landing page; without it the date stays in UTC, named.
	if d.ExpiresUntil, err = r.cat.Format(lang, "linphone.expires", vars{Date: "{date}"}); err != nil {
		return fmt.Errorf("pages: rendering linphone page: %w", err)
	}
	d.ExpiresAt = v.FetchBy.UTC().Format(time.RFC3339)
	return r.execute(w, t, "linphone", d)
}
