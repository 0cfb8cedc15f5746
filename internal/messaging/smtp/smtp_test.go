package smtp_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/messagingtest"
	"github.com/activator-voip/activator/internal/messaging/smtp"
	"github.com/activator-voip/activator/internal/messaging/smtp/smtptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/testnet"
)

// lastCertPEM is the certificate testTLS made last, in PEM.
var lastCertPEM []byte

// testTLS makes a CA-less self-signed certificate for 127.0.0.1 and
// localhost, and a client config that trusts only it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	lastCertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

// received is one message the loopback server accepted.
type received struct {
	from, to, user string
	tls            bool
	data           []byte
}

// mailServer is a real SMTP server (emersion/go-smtp) on loopback.
type mailServer struct {
	mu         sync.Mutex
	got        []received
	transcript bytes.Buffer
	mechs      []string // AUTH mechanisms offered
	users      map[string]string
	tokens     map[string]string // XOAUTH2: user -> valid access token
	port       int
}

func (s *mailServer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transcript.Write(p)
}

func (s *mailServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

func (s *mailServer) commands() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transcript.String()
}

type session struct {
	srv  *mailServer
	conn *gosmtp.Conn
	cur  received
}

func (s *session) AuthMechanisms() []string { return s.srv.mechs }

var badCreds = &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "Username and Password not accepted"}

func (s *session) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error {
			if p, ok := s.srv.users[user]; !ok || p != pass {
				return badCreds
			}
			s.cur.user = user
			return nil
		}), nil
	case "LOGIN":
		return &loginServer{check: func(user, pass string) error {
			if p, ok := s.srv.users[user]; !ok || p != pass {
				return badCreds
			}
			s.cur.user = user
			return nil
		}}, nil
	case "XOAUTH2":
		return &xoauth2Server{s: s}, nil
	}
	return nil, errors.New("unsupported mechanism")
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.cur.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error { s.cur.to = to; return nil }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, s.cur)
	s.srv.mu.Unlock()
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// loginServer is AUTH LOGIN as servers speak it: "Username:", "Password:".
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if resp != nil {
			l.user, l.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(resp))
}

// xoauth2Server checks "user=U\x01auth=Bearer T\x01\x01" and, on a bad
// token, answers GMail's way: a 334 with a base64 JSON error, then 535.
type xoauth2Server struct {
	s      *session
	failed bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, badCreds
	}
	parts := strings.Split(string(resp), "\x01")
	if len(parts) != 4 || !strings.HasPrefix(parts[0], "user=") || !strings.HasPrefix(parts[1], "auth=Bearer ") || parts[2] != "" || parts[3] != "" {
		return nil, true, &gosmtp.SMTPError{Code: 501, Message: "malformed XOAUTH2 response"}
	}
	user, token := strings.TrimPrefix(parts[0], "user="), strings.TrimPrefix(parts[1], "auth=Bearer ")
	if want, ok := x.s.srv.tokens[user]; !ok || want != token {
		x.failed = true
		j, _ := json.Marshal(map[string]string{"status": "401", "schemes": "bearer mac", "scope": "https://mail.google.com/"})
		return j, false, nil
	}
	x.s.cur.user = user
	return nil, true, nil
}

type mode int

const (
	plainNoTLS    mode = iota // no TLS offered
	offerStartTLS             // STARTTLS offered
	implicitTLS               // TLS from the first byte
)

func startServer(t *testing.T, m mode, mechs ...string) (*mailServer, *tls.Config) {
	t.Helper()
	srvTLS, cliTLS := testTLS(t)
	ms := &mailServer{mechs: mechs, users: map[string]string{"ada@example.com": "s3cret-pass"}, tokens: map[string]string{"ada@example.com": "ya29.good-token"}}
	be := gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) { return &session{srv: ms, conn: c}, nil })
	srv := gosmtp.NewServer(be)
	srv.Domain = "localhost"
	srv.Debug = ms
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	switch m {
	case plainNoTLS:
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	case offerStartTLS:
		srv.TLSConfig = srvTLS
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	case implicitTLS:
		srv.TLSConfig = srvTLS
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srvTLS)
	}
	if err != nil {
		t.Fatal(err)
	}
	ms.port = ln.Addr().(*net.TCPAddr).Port
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ms, cliTLS
}

func gateway(t *testing.T, kind string, settings map[string]string, cli *tls.Config, o messaging.Options) messaging.Gateway {
	t.Helper()
	spec, ok := messaging.Kinds{smtp.Kind, smtp.GMailKind}.Find(kind)
	if !ok {
		t.Fatalf("no kind %s", kind)
	}
	o.TLSConfig = cli
	return messagingtest.Build(t, spec, settings, o)
}

const link = "http://127.0.0.1:8080/a/avl_abcdefghijklmnopqrstuvwxyz234567"

func message() *model.Message {
	return &model.Message{ID: 42, Channel: model.ChannelEmail, Recipient: "Bob Example <bob@example.org>", Subject: "Attivazione – ACME",
		Body: "Hello Bob,\n\nOpen " + link + "\n.\nA line with a dot above.\n",
		HTML: `<p>Hello Bob</p><p><a href="` + link + `">open</a></p><p data-activator-qr style="margin:0 0 24px;text-align:center"></p>`}
}

func send(t *testing.T, g messaging.Gateway) (string, error) {
	return messagingtest.Send(t, g, message())
}

func port(ms *mailServer) string { return strconv.Itoa(ms.port) }

func TestPlainServerWithoutTLSOrAuth(t *testing.T) {
	ms, cli := startServer(t, plainNoTLS)
	g := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port(ms), "tls": "none", "from": "ACME IT <it@example.com>"}, cli, messaging.Options{})
	id, err := send(t, g)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	got := ms.messages()
	if len(got) != 1 || got[0].from != "it@example.com" || got[0].to != "bob@example.org" || got[0].tls || got[0].user != "" {
		t.Fatalf("received: %+v", got)
	}
	if msg, err := mail.ReadMessage(bytes.NewReader(got[0].data)); err != nil || !strings.HasPrefix(id, "<activator.42.") || msg.Header.Get("Message-ID") != id {
		t.Fatalf("provider id %q is not the Message-ID of what arrived", id)
	}
	checkMIME(t, got[0].data, "it@example.com")
}

func TestTLSNoneNeverTriesStartTLSEvenWhenOffered(t *testing.T) {
	ms, cli := startServer(t, offerStartTLS)
	g := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port(ms), "tls": "none", "auth": "none", "from": "it@example.com"}, cli, messaging.Options{})
	if _, err := send(t, g); err != nil {
		t.Fatalf("send: %v", err)
	}
	tr := ms.commands()
	if !strings.Contains(tr, "STARTTLS") {
		t.Fatalf("the server did not offer STARTTLS; the test proves nothing:\n%s", tr)
	}
	for _, line := range strings.Split(tr, "\n") {
		u := strings.ToUpper(strings.TrimSpace(line))
		if u == "STARTTLS" || strings.HasPrefix(u, "AUTH ") {
			t.Fatalf("client sent %q with tls=none auth=none", line)
		}
	}
	if got := ms.messages(); len(got) != 1 || got[0].tls {
		t.Fatalf("received: %+v", got)
	}
}

func TestStartTLSWithAuthPlainAndLogin(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			ms, cli := startServer(t, offerStartTLS, mech)
			g := gateway(t, "smtp", map[string]string{"host": "localhost", "port": port(ms), "tls": "starttls", "auth": strings.ToLower(mech),
				"username": "ada@example.com", "password": "s3cret-pass", "from": "ada@example.com"}, cli, messaging.Options{})
			if _, err := send(t, g); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := ms.messages()
			if len(got) != 1 || !got[0].tls || got[0].user != "ada@example.com" {
				t.Fatalf("want one message over TLS from an authenticated ada: %+v", got)
			}
			checkMIME(t, got[0].data, "ada@example.com")
		})
	}
}

func TestImplicitTLS(t *testing.T) {
	ms, cli := startServer(t, implicitTLS, "PLAIN")
	g := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port(ms), "tls": "implicit", "auth": "plain",
		"username": "ada@example.com", "password": "s3cret-pass", "from": "ada@example.com"}, cli, messaging.Options{})
	if _, err := send(t, g); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := ms.messages(); len(got) != 1 || !got[0].tls || got[0].user != "ada@example.com" {
		t.Fatalf("received: %+v", got)
	}
}

func TestXOAUTH2(t *testing.T) {
	ms, cli := startServer(t, offerStartTLS, "XOAUTH2", "PLAIN")
	g := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port(ms), "auth": "xoauth2",
		"username": "ada@example.com", "oauth_token": "ya29.good-token", "from": "ada@example.com"}, cli, messaging.Options{})
	if _, err := send(t, g); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := ms.messages(); len(got) != 1 || got[0].user != "ada@example.com" || !got[0].tls {
		t.Fatalf("received: %+v", got)
	}
	if !strings.Contains(ms.commands(), "AUTH XOAUTH2") {
		t.Fatalf("XOAUTH2 was not used:\n%s", ms.commands())
	}

	// A refused token: GMail's 334 JSON challenge, an empty answer, then 535.
	bad := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port(ms), "auth": "xoauth2",
		"username": "ada@example.com", "oauth_token": "ya29.expired", "from": "ada@example.com"}, cli, messaging.Options{})
	_, err := send(t, bad)
	var p *messaging.PermanentError
	if !errors.As(err, &p) || !strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "ya29") {
		t.Fatalf("refused token: want a permanent 535 error without the token, got %v", err)
	}
}

func TestGmailWithRefreshedOAuthToken(t *testing.T) {
	ms, cli := startServer(t, offerStartTLS, "XOAUTH2")
	var tokens messagingtest.StandIn[any] // keeps nothing: the test counts its requests
	tokenURL := tokens.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != "1//refresh" ||
			r.FormValue("client_id") != "cid" || r.FormValue("client_secret") != "csecret" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		io.WriteString(w, `{"access_token":"ya29.good-token","expires_in":3599,"token_type":"Bearer"}`)
	}))
	g := gateway(t, "gmail", map[string]string{"username": "ada@example.com", "host": "127.0.0.1", "port": port(ms),
		"oauth_client_id": "cid", "oauth_client_secret": "csecret", "oauth_refresh_token": "1//refresh", "oauth_token_url": tokenURL}, cli, messaging.Options{})
	for range 2 {
		if _, err := send(t, g); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if got := ms.messages(); len(got) != 2 || got[0].user != "ada@example.com" || !got[0].tls || got[0].from != "ada@example.com" {
		t.Fatalf("received: %+v", got)
	}
	if calls := tokens.Requests(); calls != 1 {
		t.Fatalf("token endpoint called %d times for two sends; the token must be cached", calls)
	}
}

func TestGmailAppPasswordOverStartTLS(t *testing.T) {
	ms, cli := startServer(t, offerStartTLS, "LOGIN", "PLAIN")
	g := gateway(t, "gmail", map[string]string{"username": "ada@example.com", "app_password": "s3cret-pass", "host": "localhost", "port": port(ms)}, cli, messaging.Options{})
	if _, err := send(t, g); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := ms.messages(); len(got) != 1 || got[0].user != "ada@example.com" || !got[0].tls {
		t.Fatalf("received: %+v", got)
	}
}

func TestBadCredentialsArePermanentAndClear(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			ms, cli := startServer(t, offerStartTLS, mech)
			g := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port(ms), "auth": strings.ToLower(mech),
				"username": "ada@example.com", "password": "wrong-pass", "from": "ada@example.com"}, cli, messaging.Options{})
			_, err := send(t, g)
			var p *messaging.PermanentError
			if !errors.As(err, &p) {
				t.Fatalf("bad credentials: want a permanent error, got %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "535") || !strings.Contains(msg, "bad credentials") || strings.Contains(msg, "wrong-pass") {
				t.Fatalf("error should say 535 and bad credentials, never the password: %q", msg)
			}
			if len(ms.messages()) != 0 {
				t.Fatal("a message went through with bad credentials")
			}
		})
	}
}

func TestStartTLSRequiredButNotOffered(t *testing.T) {
	ms, cli := startServer(t, plainNoTLS)
	g := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port(ms), "tls": "starttls", "from": "it@example.com"}, cli, messaging.Options{})
	_, err := send(t, g)
	var p *messaging.PermanentError
	if !errors.As(err, &p) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("want a permanent error naming STARTTLS, got %v", err)
	}
}

func TestUntrustedCertificateIsPermanent(t *testing.T) {
	ms, _ := startServer(t, implicitTLS)
	_, otherCA := testTLS(t)
	g := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port(ms), "tls": "implicit", "from": "it@example.com"}, otherCA, messaging.Options{})
	_, err := send(t, g)
	var p *messaging.PermanentError
	if !errors.As(err, &p) {
		t.Fatalf("untrusted certificate: want a permanent error, got %v", err)
	}
}

func TestServerDownIsTemporary(t *testing.T) {
	_, port, _ := net.SplitHostPort(testnet.RefusingAddr(t))
	g := gateway(t, "smtp", map[string]string{"host": "127.0.0.1", "port": port, "tls": "none", "from": "it@example.com"}, nil, messaging.Options{})
	_, err := send(t, g)
	var tmp *messaging.TemporaryError
	if !errors.As(err, &tmp) {
		t.Fatalf("connection refused: want a temporary error, got %v", err)
	}
}

func TestSettingsValidation(t *testing.T) {
	spec := smtp.Kind
	for _, tc := range []struct {
		s   map[string]string
		key string
	}{
		{map[string]string{"from": "a@b.c"}, "host"},
		{map[string]string{"host": "h", "from": "a@b.c", "tls": "ssl"}, "tls"},
		{map[string]string{"host": "h", "from": "a@b.c", "tls": "none", "auth": "plain", "username": "u", "password": "p"}, "auth"},
		{map[string]string{"host": "h", "from": "a@b.c", "auth": "login", "username": "u"}, "password"},
		{map[string]string{"host": "h", "from": "a@b.c", "port": "99999"}, "port"},
		{map[string]string{"host": "h", "from": "a@b.c", "colour": "red"}, "colour"},
		{map[string]string{"host": "h", "from": "IT department"}, "from"},
	} {
		err := spec.Validate(tc.s)
		var se *messaging.SettingError
		if !errors.As(err, &se) || se.Key != tc.key {
			t.Errorf("%v: want an error naming %s, got %v", tc.s, tc.key, err)
		}
	}
}

// checkMIME parses what arrived: text and HTML alternatives, the HTML
// related to an inline PNG whose Content-ID the HTML names, each multipart
// closed; then has smtptest's strict parsers read it.
func checkMIME(t *testing.T, data []byte, from string) {
	t.Helper()
	m := message()
	smtptest.Check(t, data, smtptest.Expect{From: from, To: "bob@example.org", Subject: m.Subject, Text: m.Body, HTML: []string{link}, QR: true})
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v", err)
	}
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || subj != "Attivazione – ACME" {
		t.Fatalf("subject %q (%v)", subj, err)
	}
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mt != "multipart/alternative" {
		t.Fatalf("content type %q", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	text, err := mr.NextPart()
	if err != nil || !strings.HasPrefix(text.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("first part: %v %v", text.Header, err)
	}
	tb, _ := io.ReadAll(text) // multipart decodes quoted-printable
	if !strings.Contains(string(tb), link) || !strings.Contains(string(tb), "\r\n.\r\nA line with a dot above.") {
		t.Fatalf("text part lost the link or the lone dot line: %q", tb)
	}
	rel, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	rt, rp, _ := mime.ParseMediaType(rel.Header.Get("Content-Type"))
	if rt != "multipart/related" {
		t.Fatalf("second part %q, want multipart/related", rt)
	}
	rr := multipart.NewReader(rel, rp["boundary"])
	html, err := rr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(html)
	if !strings.Contains(string(hb), `src="cid:qr@activator"`) || !strings.Contains(string(hb), link) {
		t.Fatalf("html part: %q", hb)
	}
	img, err := rr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if img.Header.Get("Content-ID") != "<qr@activator>" || !strings.HasPrefix(img.Header.Get("Content-Type"), "image/png") {
		t.Fatalf("image part headers: %v", img.Header)
	}
	ib64, _ := io.ReadAll(img)
	ib, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(ib64)))
	if err != nil {
		t.Fatalf("image part is not base64: %v", err)
	}
	if !bytes.HasPrefix(ib, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("image part is not a PNG: % x", ib[:min(8, len(ib))])
	}
	if _, err := rr.NextPart(); err != io.EOF {
		t.Fatalf("multipart/related: want its close delimiter after the image, got %v", err)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("multipart/alternative: want its close delimiter after the related part, got %v", err)
	}
}

// The e-mail the templates render gets the QR code of its own link.
func TestRealTemplateGetsTheQRCode(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := messaging.NewTemplates(cat)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tm.Render("it", model.ChannelEmail, model.LinkActivation, messaging.MessageVars{Name: "Ada", Link: link, Company: "ACME", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.HTML, smtp.QRSlot) {
		t.Fatalf("the template has no QR slot:\n%s", r.HTML)
	}
	m := &model.Message{ID: 1, Recipient: "bob@example.org", Subject: r.Subject, Body: r.Text, HTML: r.HTML}
	data, err := smtp.Compose(&mail.Address{Address: "it@example.com"}, &mail.Address{Address: "bob@example.org"}, m, "<x@y>", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	smtptest.Check(t, data, smtptest.Expect{From: "it@example.com", To: "bob@example.org", Subject: r.Subject, Text: r.Text, HTML: []string{link}, QR: true})
}

// A server whose certificate a private CA signed, trusted through tls_ca_file.
func TestPrivateCAFile(t *testing.T) {
	ms, _ := startServer(t, implicitTLS, "PLAIN")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, lastCertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{"host": "localhost", "port": port(ms), "tls": "implicit", "auth": "plain",
		"username": "ada@example.com", "password": "s3cret-pass", "from": "ada@example.com", "tls_ca_file": ca}
	g := gateway(t, "smtp", settings, nil, messaging.Options{})
	if _, err := send(t, g); err != nil {
		t.Fatalf("send with the CA file: %v", err)
	}
	delete(settings, "tls_ca_file")
	g = gateway(t, "smtp", settings, nil, messaging.Options{})
	if _, err := send(t, g); err == nil {
		t.Fatal("without the CA file the private certificate must be refused")
	}
	settings["tls_ca_file"] = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := smtp.New("mail", "smtp", smtp.Kind.WithDefaults(settings), messaging.Options{}); err == nil || !strings.Contains(err.Error(), "tls_ca_file") {
		t.Fatalf("a missing CA file: want an error naming tls_ca_file, got %v", err)
	}
}
