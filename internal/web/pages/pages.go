// Package pages renders the public HTML pages an end user sees: the landing
// page behind a secure link and the page that explains why a link cannot be
// used. The pages work with no JavaScript (one small inline script only
// rewrites the expiry of the landing and Linphone pages into the
// browser's own time zone), carry their CSS inline, load nothing from elsewhere but the
// organisation's logo when it gives one by https URL, and read well on a
// phone.
//
// Templates are embedded and parsed once per language by New; a request only
// executes one of them.
package pages

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/model"
)

//go:embed templates/*.html templates/style.css templates/expiry.js
var files embed.FS

// Brand is who the pages speak for: the name and logo the user should
// recognise, the trust signal at the top of every page, and the colour of
// its main button and accents. The web layer fills it from the link's
// organisation's settings, which the domain has validated; the pages check
// the logo and colour again before they write them, and let the
// Content-Security-Policy of each page (ContentSecurityPolicy) allow them
// and nothing else.
type Brand struct {
	Name    string
	LogoURL string // an https URL, a data:image/png or svg+xml base64 URI, or a path on the pages' origin; "" shows the name alone
	Colour  string // #rrggbb; "" keeps the default look
	Contact string // the organisation's IT contact (e-mail address or https URL); "" leaves the group's IT e-mail
}

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// logo returns the logo's URL as the pages may write it, with the source
// the Content-Security-Policy must allow for it: the URL's origin, or
// data: for a data URI; a path on the pages' own origin needs none. An
// unusable logo is left out.
func (b Brand) logo() (template.URL, string) {
	if strings.HasPrefix(b.LogoURL, "data:image/png;base64,") || strings.HasPrefix(b.LogoURL, "data:image/svg+xml;base64,") {
		if strings.ContainsAny(b.LogoURL, "\"'<> ") {
			return "", ""
		}
		return template.URL(b.LogoURL), "data:"
	}
	if strings.HasPrefix(b.LogoURL, "/") && !strings.HasPrefix(b.LogoURL, "//") && !strings.Contains(b.LogoURL, "\\") {
		return template.URL(b.LogoURL), "" // the pages' own origin: 'self'
	}
	u, err := url.Parse(b.LogoURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.ContainsAny(u.Host, ";, '\"") {
		return "", ""
	}
	return template.URL(b.LogoURL), "https://" + strings.ToLower(u.Host)
}

// style is the page's second style sheet, which sets the brand colour
// and the text colour on it as custom properties that the fixed style
// sheet reads; "" when there is no colour.
func (b Brand) style() string {
	if !colourRE.MatchString(b.Colour) {
		return ""
	}
	c := strings.ToLower(b.Colour)
	return ":root{--brand:" + c + ";--on-brand:" + model.BrandTextColour(c) + "}"
}

// brandView is Brand as the templates write it.
type brandView struct {
	Name  string
	Logo  template.URL
	Style template.CSS
}

func (b Brand) view() brandView {
	logo, _ := b.logo()
	return brandView{Name: b.Name, Logo: logo, Style: template.CSS(b.style())}
}

// LandingView is what the landing page of a secure link shows.
type LandingView struct {
	Lang          string // language code; empty or unsupported means English
	Brand         Brand
	DisplayName   string
	Kind          model.LinkKind
	SecurityModel model.SecurityModel
	Platform      string         // detected platform, "" when unknown
	InstallTapped bool           // the installation link was followed already: step 1 says it is done
	Platforms     []PlatformLink // every platform with a configured URL, detected one first
	ActivationURL string         // BASE/a/{token}/activation; required for model.LinkActivation
	QRURL         string         // BASE/a/{token}/qr.svg; "" hides the QR code
	PageURL       string         // BASE/a/{token}, shown under the QR code
	ExpiresAt     time.Time      // zero hides the expiry line
	Now           time.Time      // what the expiry is counted from; zero is the current time
	ITEmail       string
	LinphoneURL   string // BASE/a/{token}/linphone: the "Open in Linphone" form's action; "" hides it
}

// PlatformLink is the installation link for one platform.
type PlatformLink struct {
	Platform string // one of model.Platforms
	URL      string // BASE/a/{token}/install?platform=P
}

// ErrorView is what the error page of an unusable link shows.
type ErrorView struct {
	Lang    string
	Brand   Brand
	ITEmail string // the IT e-mail of the link's group, used when Brand.Contact is ""; "" when there is none or the link is unknown
	Reason  string // "unknown", "expired", "revoked", "used" or "not_found"
}

// Renderer renders the public pages. It is safe for concurrent use.
type Renderer struct {
	cat  *i18n.Catalogue
	tmpl map[string]*template.Template // by language
	css  string                        // the fixed style sheet's CSP source: 'sha256-…'
	js   string                        // the expiry script's CSP source: 'sha256-…'
	bufs sync.Pool
}

// New parses the page templates once for every language of cat. The fixed
// texts of each language and the style sheet are written into that
// language's template before parsing, so executing a page only inserts the
// per-request values.
func New(cat *i18n.Catalogue) (*Renderer, error) {
	if cat == nil {
		return nil, fmt.Errorf("pages: no catalogue")
	}
	css, err := files.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("pages: reading style: %w", err)
	}
	if bytes.Contains(css, []byte("{{")) || bytes.Contains(css, []byte("</")) {
		return nil, fmt.Errorf("pages: style sheet contains template or tag delimiters")
	}
	js, err := files.ReadFile("templates/expiry.js")
	if err != nil {
		return nil, fmt.Errorf("pages: reading script: %w", err)
	}
	// html/template drops a script's comments, which would change the
	// script's hash: the file has none.
	if bytes.Contains(js, []byte("{{")) || bytes.Contains(js, []byte("</")) || bytes.Contains(js, []byte("//")) || bytes.Contains(js, []byte("/*")) {
		return nil, fmt.Errorf("pages: script contains template or tag delimiters, or comments")
	}
	var src []byte
	for _, name := range []string{"layout.html", "landing.html", "error.html"} {
		b, err := files.ReadFile("templates/" + name)
		if err != nil {
			return nil, fmt.Errorf("pages: reading template %s: %w", name, err)
		}
		src = append(src, b...)
	}
	src = bytes.ReplaceAll(src, []byte("{{css}}"), css)
	src = bytes.ReplaceAll(src, []byte("{{js}}"), js)

	r := &Renderer{
		cat:  cat,
		tmpl: make(map[string]*template.Template),
		css:  hashSource(css),
		js:   hashSource(js),
		bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
	// The fixed texts of the templates are written {{t "catalogue.key"}}.
	textRE := regexp.MustCompile(`\{\{t "([a-z0-9._-]+)"\}\}`)
	for _, lang := range cat.Languages() {
		var missing error
		translated := textRE.ReplaceAllFunc(src, func(m []byte) []byte {
			key := string(textRE.FindSubmatch(m)[1])
			text := cat.T(lang, key)
			if text == key || strings.Contains(text, "{{") {
				missing = fmt.Errorf("pages: text %q of language %s is missing or has placeholders", key, lang)
			}
			return []byte(template.HTMLEscapeString(text))
		})
		if missing != nil {
			return nil, missing
		}
		t, err := template.New(lang).Parse(string(translated))
		if err != nil {
			return nil, fmt.Errorf("pages: parsing templates for %s: %w", lang, err)
		}
		r.tmpl[lang] = t
	}
	return r, nil
}

// ContentSecurityPolicy is the Content-Security-Policy header value a page
// of b works under: nothing but the inline style sheets (by their hash),
// the one inline script that writes the expiry in the browser's own time
// zone (by its hash), and images of the same origin
// (the QR code) and of b's logo: its https origin, or data: for a logo
// given as a data URI. The web layer sends it with every page.
func (r *Renderer) ContentSecurityPolicy(b Brand) string {
	style := r.css
	if bs := b.style(); bs != "" {
		style += " " + hashSource([]byte(bs))
	}
	img := "'self'"
	if _, src := b.logo(); src != "" {
		img += " " + src
	}
	return "default-src 'none'; script-src " + r.js + "; style-src " + style + "; img-src " + img +
		"; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// hashSource is the CSP source allowing the inline style sheet or script b.
func hashSource(b []byte) string {
	sum := sha256.Sum256(b)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// vars are the placeholders of the catalogue texts the pages use.
type vars struct {
	Name, Company, Platform, Date string
	N                             int
}

// linkItem is one link button.
type linkItem struct {
	URL, Label string
}

// landingData is the landing template's input, every text already chosen.
type landingData struct {
	Lang, Title, Greeting, Intro  string
	Brand                         brandView
	Activation, InstallTapped     bool
	SecurityLabel, SecurityHelp   string
	Primary                       *linkItem
	Others                        []linkItem
	ActivationURL, QRURL, PageURL string
	Expires, ExpiresAt            string // ExpiresAt: the expiry as RFC 3339, for <time datetime>
	ExpiresUntil                  string // the expiry line with {date} where the script writes the local date and time
	Contact, ContactURL           string // the user's IT contact as shown and as a link: the group's IT e-mail, else the organisation's
	LinphoneURL                   string
}

// errorData is the error template's input.
type errorData struct {
	Lang, Title, Reason string
	Contact, ContactURL string // the IT contact as shown and as a link (mailto: or https); "" when none
	Brand               brandView
	Provider            string // the neutral page's line naming the provider; "" when it has no name
}

// language returns the supported language for lang and its templates.
func (r *Renderer) language(lang string) (string, *template.Template) {
	if t, ok := r.tmpl[lang]; ok {
		return lang, t
	}
	lang = i18n.Normalize(lang)
	return lang, r.tmpl[lang]
}

// Landing writes the landing page of v. Nothing is written when it fails.
func (r *Renderer) Landing(w io.Writer, v LandingView) error {
	lang, t := r.language(v.Lang)
	d := landingData{
		Lang:          lang,
		Title:         r.cat.T(lang, "landing.title"),
		Brand:         v.Brand.view(),
		ActivationURL: v.ActivationURL,
		QRURL:         v.QRURL,
		PageURL:       v.PageURL,
		LinphoneURL:   v.LinphoneURL,
		InstallTapped: v.InstallTapped,
	}
	// The group's IT department first: it is the user's own.
	d.Contact, d.ContactURL = contact(v.ITEmail, v.Brand.Contact)
	switch v.Kind {
	case model.LinkActivation:
		if v.ActivationURL == "" {
			return fmt.Errorf("pages: rendering landing page: activation link has no activation URL")
		}
		d.Activation = true
	case model.LinkInstallation:
	default:
		return fmt.Errorf("pages: rendering landing page: unknown link kind %q", v.Kind)
	}
	p := vars{Name: v.DisplayName, Company: v.Brand.Name}
	if p.Company == "" {
		p.Company = r.cat.T(lang, "company.fallback")
	}
	var err error
	if v.DisplayName == "" {
		d.Greeting = r.cat.T(lang, "landing.greeting.anonymous")
	} else if d.Greeting, err = r.cat.Format(lang, "landing.greeting", p); err != nil {
		return fmt.Errorf("pages: rendering landing page: %w", err)
	}
	intro := "landing.intro"
	if !d.Activation {
		intro = "landing.intro.installation"
	}
	if d.Intro, err = r.cat.Format(lang, intro, p); err != nil {
		return fmt.Errorf("pages: rendering landing page: %w", err)
	}
	if v.SecurityModel.Valid() {
		d.SecurityLabel = r.cat.T(lang, "security."+string(v.SecurityModel))
		d.SecurityHelp = r.cat.T(lang, "security."+string(v.SecurityModel)+".help")
	}
	d.Others = make([]linkItem, 0, len(v.Platforms))
	for _, pl := range v.Platforms {
		label := r.cat.T(lang, "platform."+pl.Platform)
		if d.Primary == nil && v.Platform != "" && pl.Platform == v.Platform {
			p.Platform = label
			if label, err = r.cat.Format(lang, "landing.install", p); err != nil {
				return fmt.Errorf("pages: rendering landing page: %w", err)
			}
			d.Primary = &linkItem{URL: pl.URL, Label: label}
			continue
		}
		d.Others = append(d.Others, linkItem{URL: pl.URL, Label: label})
	}
	if !v.ExpiresAt.IsZero() {
		now := v.Now
		if now.IsZero() {
			now = time.Now()
		}
		if d.Expires, err = r.expiresIn(lang, v.ExpiresAt.Sub(now)); err != nil {
			return fmt.Errorf("pages: rendering landing page: %w", err)
		}
		d.ExpiresAt = v.ExpiresAt.UTC().Format(time.RFC3339)
		// The script of the page (templates/expiry.js) writes the date
		// and time in the browser's own zone and way of writing them, in
		// place of {date}; without scripts the words stay.
		if d.ExpiresUntil, err = r.cat.Format(lang, "landing.expires.until", vars{Date: "{date}"}); err != nil {
			return fmt.Errorf("pages: rendering landing page: %w", err)
		}
	}
	return r.execute(w, t, "landing", d)
}

// expiresIn says in words how long a link stays valid: "for 6 more days",
// what the page shows when its script does not run. Words read the same in
// every time zone, where a date and a time would be the server's; they
// count down, never up, so a link is never promised longer than it has.
func (r *Renderer) expiresIn(lang string, left time.Duration) (string, error) {
	key, n := "landing.expires.soon", 0
	switch {
	case left >= 48*time.Hour:
		key, n = "landing.expires.days", int(left/(24*time.Hour))
	case left >= 2*time.Hour:
		key, n = "landing.expires.hours", int(left/time.Hour)
	case left >= 2*time.Minute:
		key, n = "landing.expires.minutes", int(left/time.Minute)
	}
	return r.cat.Format(lang, key, vars{N: n})
}

// LinkError writes the page that tells the user a link cannot be used and to
// contact their IT department. An unknown reason reads as "unknown".
func (r *Renderer) LinkError(w io.Writer, v ErrorView) error {
	lang, t := r.language(v.Lang)
	reason := "error.unknown"
	switch v.Reason {
	case "expired", "revoked", "used", "not_found":
		reason = "error." + v.Reason
	}
	d := errorData{
		Lang:   lang,
		Title:  r.cat.T(lang, "error.title"),
		Brand:  v.Brand.view(),
		Reason: r.cat.T(lang, reason),
	}
	// The organisation's own contact first: it is who hands out new links.
	d.Contact, d.ContactURL = contact(v.Brand.Contact, v.ITEmail)
	return r.execute(w, t, "error", d)
}

// contact is the first of the contacts given (an e-mail address or an
// https URL) as shown and as a link (mailto: or the URL); "" for none.
func contact(contacts ...string) (shown, href string) {
	for _, c := range contacts {
		switch {
		case strings.HasPrefix(c, "https://"):
			return c, c
		case strings.Contains(c, "@"):
			return c, "mailto:" + c
		}
	}
	return "", ""
}

// Unavailable writes the page a person gets while activator cannot answer
// for a moment (its database is away): try again in a few minutes. lang
// is a language tag or an Accept-Language value; nothing of the link is
// known then, its language included.
func (r *Renderer) Unavailable(w io.Writer, lang string) error {
	lang, t := r.language(i18n.Normalize(lang))
	d := errorData{Lang: lang, Title: r.cat.T(lang, "unavailable.title"), Reason: r.cat.T(lang, "unavailable.text")}
	return r.execute(w, t, "notice", d)
}

// UnknownHost writes the neutral page of a host that is no one's
// (activation.HostRoute.Unknown): nothing of any organisation, its name,
// logo or colour, and the provider's name only when provider is not "".
// lang is a language tag or an Accept-Language value.
func (r *Renderer) UnknownHost(w io.Writer, lang, provider string) error {
	lang, t := r.language(i18n.Normalize(lang))
	d := errorData{Lang: lang, Title: r.cat.T(lang, "unknownhost.title"), Reason: r.cat.T(lang, "unknownhost.text")}
	if provider != "" {
		s, err := r.cat.Format(lang, "unknownhost.provider", map[string]string{"Company": provider})
		if err != nil {
			return err
		}
		d.Provider = s
	}
	return r.execute(w, t, "notice", d)
}

// execute renders into a pooled buffer first, so that a failed page writes
// nothing and the caller can still answer with an error.
func (r *Renderer) execute(w io.Writer, t *template.Template, name string, data any) error {
	buf := r.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer r.bufs.Put(buf)
	if err := t.ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("pages: rendering %s page: %w", name, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("pages: writing %s page: %w", name, err)
	}
	return nil
}
