// Package smtp is the e-mail gateway: any SMTP server (plain with no TLS
// and no AUTH, STARTTLS, or implicit TLS; AUTH PLAIN, LOGIN or XOAUTH2), and
// GMail, which is the same thing with Google's defaults.
//
// It speaks SMTP with the standard library's net/smtp client, driven step by
// step rather than through SendMail: SendMail upgrades to STARTTLS whenever a
// server offers it, and tls=none must never try. The message itself is
// written by github.com/emersion/go-message.
package smtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message"
	msgmail "github.com/emersion/go-message/mail"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/qr"
	"github.com/activator-voip/activator/internal/secret"
)

// QRContentID is the Content-ID of the QR code image an e-mail's HTML part
// shows as <img src="cid:qr@activator">.
const QRContentID = "qr@activator"

// QRSlot is the empty paragraph of the e-mail template (messaging.Templates)
// that receives the QR code image.
const QRSlot = `<p data-activator-qr style="margin:0 0 24px;text-align:center"></p>`

// QRImage shows the inline QR code.
const QRImage = `<img src="cid:` + QRContentID + `" width="180" height="180" alt="QR" style="display:inline-block;border:0">`

// Gateway sends e-mail through one SMTP server.
type Gateway struct {
	name     string
	host     string
	port     int
	tlsMode  string // none | starttls | implicit
	auth     string // none | plain | login | xoauth2
	username string
	password string
	tokens   *TokenSource
	from     *mail.Address
	helo     string
	tlsConf  *tls.Config
}

// New builds a gateway of kind smtp or gmail from its settings (validated,
// defaults filled in).
func New(name, kind string, s map[string]string, o messaging.Options) (*Gateway, error) {
	g := &Gateway{name: name, host: s["host"], tlsMode: s["tls"], auth: s["auth"], username: s["username"], password: s["password"], helo: s["helo"]}
	fromText := s["from"]
	if kind == "gmail" {
		if fromText == "" {
			fromText = g.username
		}
		g.tlsMode = "starttls"
		if s["port"] == "465" {
			g.tlsMode = "implicit"
		}
		if s["app_password"] != "" {
			g.auth, g.password = "plain", s["app_password"]
		} else {
			g.auth = "xoauth2"
		}
	}
	if g.helo == "" {
		g.helo = "localhost"
	}
	g.port, _ = strconv.Atoi(s["port"])
	if g.port == 0 {
		g.port = map[string]int{"none": 25, "starttls": 587, "implicit": 465}[g.tlsMode]
	}
	from, err := mail.ParseAddress(fromText)
	if err != nil {
		return nil, fmt.Errorf("from: %q is not an e-mail address", fromText)
	}
	g.from = from
	if g.auth == "xoauth2" {
		g.tokens = &TokenSource{Static: s["oauth_token"], ClientID: s["oauth_client_id"], ClientSecret: s["oauth_client_secret"],
			RefreshToken: s["oauth_refresh_token"], TokenURL: s["oauth_token_url"], HTTP: o.Client()}
	}
	g.tlsConf = &tls.Config{ServerName: g.host, MinVersion: tls.VersionTLS12}
	if f := s["tls_ca_file"]; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("tls_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_ca_file: %s holds no PEM certificate", f)
		}
		g.tlsConf.RootCAs = pool
	}
	if o.TLSConfig != nil {
		g.tlsConf = o.TLSConfig.Clone()
		if g.tlsConf.ServerName == "" {
			g.tlsConf.ServerName = g.host
		}
	}
	return g, nil
}

// Name implements messaging.Gateway.
func (g *Gateway) Name() string { return g.name }

// Send implements messaging.Gateway. The provider id is the Message-ID.
func (g *Gateway) Send(ctx context.Context, m *model.Message) (string, error) {
	to, err := mail.ParseAddress(m.Recipient)
	if err != nil {
		return "", messaging.Permanent(fmt.Errorf("recipient %q is not an e-mail address", m.Recipient))
	}
	msgID := messageID(m, g.from.Address)
	body, err := Compose(g.from, to, m, msgID, time.Now())
	if err != nil {
		return "", messaging.Permanent(err)
	}
	if err := g.deliver(ctx, to.Address, body); err != nil {
		return "", err
	}
	return msgID, nil
}

func (g *Gateway) deliver(ctx context.Context, to string, body []byte) error {
	addr := net.JoinHostPort(g.host, strconv.Itoa(g.port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return messaging.Temporary(fmt.Errorf("smtp: connecting to %s: %w", addr, err), 0)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if g.tlsMode == "implicit" {
		tc := tls.Client(conn, g.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return classify("TLS handshake with "+addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, g.host)
	if err != nil {
		return classify("greeting from "+addr, err)
	}
	defer c.Close()
	if err := c.Hello(g.helo); err != nil {
		return classify("EHLO", err)
	}
	if g.tlsMode == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return messaging.Permanent(fmt.Errorf("smtp: %s does not offer STARTTLS; set tls=none only for a server on a trusted network", addr))
		}
		if err := c.StartTLS(g.tlsConf); err != nil {
			return classify("STARTTLS", err)
		}
	}
	if g.auth != "none" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return messaging.Permanent(fmt.Errorf("smtp: %s does not offer AUTH; set auth=none for a server that needs none", addr))
		}
		a, err := g.authenticator(ctx)
		if err != nil {
			return err
		}
		if err := c.Auth(a); err != nil {
			var te *textproto.Error
			if errors.As(err, &te) && te.Code == 535 || errors.As(err, &te) && te.Code >= 500 {
				return messaging.Permanent(fmt.Errorf("smtp: authentication as %s refused (bad credentials?): %d %s", g.username, te.Code, te.Msg))
			}
			return classify("AUTH", err)
		}
	}
	if err := c.Mail(g.from.Address); err != nil {
		return classify("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return classify("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(body); err != nil {
		return classify("sending the message", err)
	}
	if err := w.Close(); err != nil {
		return classify("end of DATA", err)
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

func (g *Gateway) authenticator(ctx context.Context) (smtp.Auth, error) {
	switch g.auth {
	case "plain":
		return smtp.PlainAuth("", g.username, g.password, g.host), nil
	case "login":
		return &loginAuth{user: g.username, pass: g.password}, nil
	case "xoauth2":
		tok, err := g.tokens.Token(ctx)
		if err != nil {
			return nil, err
		}
		return &xoauth2Auth{user: g.username, token: tok}, nil
	}
	return nil, messaging.Permanent(fmt.Errorf("smtp: unknown auth %q", g.auth))
}

// classify turns an SMTP exchange's error into a delivery outcome: a 4xx
// reply is temporary, a 5xx permanent, a network failure temporary, a TLS
// certificate failure permanent (only the configuration can fix it).
func classify(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		e := fmt.Errorf("smtp: %s: %d %s", step, te.Code, te.Msg)
		if te.Code >= 500 {
			return messaging.Permanent(e)
		}
		return messaging.Temporary(e, 0)
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return messaging.Permanent(fmt.Errorf("smtp: %s: %w", step, err))
	}
	return messaging.Temporary(fmt.Errorf("smtp: %s: %w", step, err), 0)
}

// loginAuth is AUTH LOGIN: the server asks "Username:" and "Password:" in base64.
type loginAuth struct{ user, pass string }

func (a *loginAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS {
		return "", nil, errors.New("smtp: refusing AUTH LOGIN without TLS")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:", "user name", "username":
		return []byte(a.user), nil
	case "password:", "password":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("smtp: unexpected AUTH LOGIN challenge %q", fromServer)
}

// xoauth2Auth is Google's XOAUTH2: "user=U\x01auth=Bearer T\x01\x01". On
// failure the server sends a 334 with a JSON error; the client answers
// with an empty line and gets the final 535.
type xoauth2Auth struct{ user, token string }

func (a *xoauth2Auth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS {
		return "", nil, errors.New("smtp: refusing XOAUTH2 without TLS")
	}
	return "XOAUTH2", []byte("user=" + a.user + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

func (a *xoauth2Auth) Next(fromServer []byte, more bool) ([]byte, error) {
	if more {
		return []byte{}, nil
	}
	return nil, nil
}

func messageID(m *model.Message, from string) string {
	domain := "activator.local"
	if i := strings.LastIndex(from, "@"); i >= 0 {
		domain = from[i+1:]
	}
	b := make([]byte, 8)
	rand.Read(b)
	return fmt.Sprintf("<activator.%d.%s@%s>", m.ID, hex.EncodeToString(b), domain)
}

// Compose builds the RFC 5322 message: plain text alone, or plain text and
// HTML as alternatives, the HTML with the QR code of the message's link as an
// inline image when it refers to cid:qr@activator. go-message writes the MIME
// (boundaries, the close delimiters, quoted-printable and base64 with their
// line lengths, encoded words in the header); this function only says which
// parts there are.
func Compose(from, to *mail.Address, m *model.Message, msgID string, now time.Time) ([]byte, error) {
	var h msgmail.Header
	// go-message writes the field set last first: these are set bottom up.
	h.Set("Auto-Submitted", "auto-generated") // RFC 3834: no vacation replies to it
	h.Set("Message-ID", msgID)
	h.SetDate(now)
	h.SetSubject(m.Subject)
	h.SetAddressList("To", []*mail.Address{to})
	h.SetAddressList("From", []*mail.Address{from})
	var buf bytes.Buffer
	if m.HTML == "" {
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		w, err := msgmail.CreateSingleInlineWriter(&buf, h)
		if err != nil {
			return nil, fmt.Errorf("composing the e-mail: %w", err)
		}
		if err := writeAll(w, m.Body); err != nil {
			return nil, fmt.Errorf("composing the e-mail: %w", err)
		}
		return buf.Bytes(), nil
	}
	html, png, err := inlineQR(m)
	if err != nil {
		return nil, err
	}
	h.SetContentType("multipart/alternative", nil)
	alt, err := message.CreateWriter(&buf, h.Header)
	if err != nil {
		return nil, fmt.Errorf("composing the e-mail: %w", err)
	}
	if err := composeAlternatives(alt, m.Body, html, png); err != nil {
		return nil, fmt.Errorf("composing the e-mail: %w", err)
	}
	if err := alt.Close(); err != nil {
		return nil, fmt.Errorf("composing the e-mail: %w", err)
	}
	return buf.Bytes(), nil
}

// inlineQR puts the QR code image into the template's slot and makes the
// PNG of the message's link. Without a secure link in the text there is no
// image, and the HTML refers to none.
func inlineQR(m *model.Message) (html string, png []byte, err error) {
	html = m.HTML
	html = strings.Replace(html, QRSlot, strings.TrimSuffix(QRSlot, "</p>")+QRImage+"</p>", 1)
	if strings.Contains(html, "cid:"+QRContentID) {
		if link := secret.FindLink(m.Body); link != "" {
			png, err = qr.PNG(link, 360)
			if err != nil {
				return "", nil, fmt.Errorf("making the QR code: %w", err)
			}
		}
	}
	if png == nil {
		html = strings.ReplaceAll(html, `src="cid:`+QRContentID+`"`, `src="" hidden`)
	}
	return html, png, nil
}

// composeAlternatives writes the text part, then the HTML part, or, with an
// image, a multipart/related of the HTML and the image it shows by cid.
func composeAlternatives(alt *message.Writer, text, html string, png []byte) error {
	if err := textPart(alt, "text/plain", text); err != nil {
		return err
	}
	if png == nil {
		return textPart(alt, "text/html", html)
	}
	var rh message.Header
	rh.SetContentType("multipart/related", map[string]string{"type": "text/html"})
	rel, err := alt.CreatePart(rh)
	if err != nil {
		return err
	}
	if err := textPart(rel, "text/html", html); err != nil {
		return err
	}
	var ih message.Header
	ih.SetContentType("image/png", map[string]string{"name": "qr.png"})
	ih.SetContentDisposition("inline", map[string]string{"filename": "qr.png"})
	ih.Set("Content-ID", "<"+QRContentID+">")
	ih.Set("Content-Transfer-Encoding", "base64")
	iw, err := rel.CreatePart(ih)
	if err != nil {
		return err
	}
	if _, err := iw.Write(png); err != nil {
		return err
	}
	if err := iw.Close(); err != nil {
		return err
	}
	return rel.Close()
}

// textPart adds a UTF-8 part of media type mt, quoted-printable: every
// line stays under 77 characters whatever the template holds, and the
// trailing space of the "-- " signature line survives.
func textPart(w *message.Writer, mt, s string) error {
	var h message.Header
	h.SetContentType(mt, map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	return writeAll(pw, s)
}

// writeAll writes s to an encoding writer and closes it, which flushes the
// encoder; "\n" line ends become CRLF.
func writeAll(w io.WriteCloser, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return err
	}
	return w.Close()
}
