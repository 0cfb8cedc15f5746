// Package smtptest reads an e-mail as strictly as the pickiest receiver
// would, so that the tests of the smtp gateway and the end-to-end test
// through a real MTA check what activator really sends. Two parsers that
// share no code read each message: one written here on the standard library
// that checks every delimiter line, transfer encoding, line length and
// header field itself, and Python's own e-mail package under its strict
// policy, which must report no defect at all.
package smtptest

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Expect is what one e-mail must carry.
type Expect struct {
	From, To string   // the addr-specs of the From and To fields
	Subject  string   // the Subject, decoded
	Text     string   // the plain text part, decoded, lines ending in "\n"
	HTML     []string // what the HTML part must contain; nil: a plain text message
	QR       bool     // the HTML shows an inline PNG by its Content-ID
	// Mailbox says raw was read from a mailbox file: lines end in "\n"
	// alone and the MTA's trace fields (Received, Return-path...) are on top.
	Mailbox bool
}

// Part is one entity of a message as the Go parser read it.
type Part struct {
	Type   string // the media type, such as "multipart/related"
	Params map[string]string
	Header textproto.MIMEHeader
	Body   []byte  // a leaf's body, transfer encoding decoded
	Parts  []*Part // a multipart's children
}

// Shape is the tree of media types, such as "multipart/alternative(text/plain,text/html)".
func (p *Part) Shape() string {
	if len(p.Parts) == 0 {
		return p.Type
	}
	kids := make([]string, len(p.Parts))
	for i, c := range p.Parts {
		kids[i] = c.Shape()
	}
	return p.Type + "(" + strings.Join(kids, ",") + ")"
}

// find returns the first part of media type mt, depth first.
func (p *Part) find(mt string) *Part {
	if p.Type == mt {
		return p
	}
	for _, c := range p.Parts {
		if f := c.find(mt); f != nil {
			return f
		}
	}
	return nil
}

// Shape of a plain text message, of text and HTML alternatives, and of
// alternatives whose HTML has an inline QR code image.
const (
	ShapeText   = "text/plain"
	ShapeHTML   = "multipart/alternative(text/plain,text/html)"
	ShapeHTMLQR = "multipart/alternative(text/plain,multipart/related(text/html,image/png))"
)

// The header fields every e-mail of activator has exactly once.
var oneEach = []string{"Date", "Message-ID", "From", "To", "Subject", "MIME-Version", "Auto-Submitted"}

// Check reports on t every way in which raw is not a well-formed e-mail
// meeting e, first as the Go parser reads it, then as Python's does.
// It returns the Go parser's tree (nil when raw could not be read at all).
func Check(t testing.TB, raw []byte, e Expect) *Part {
	t.Helper()
	wire := raw
	if e.Mailbox {
		if bytes.Contains(raw, []byte("\r")) {
			t.Errorf("mailbox file: a carriage return in a file of \\n-terminated lines")
		}
		wire = bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
	}
	c := &checker{t: t}
	c.lines(wire)
	root := c.entity("message", wire, true)
	if root != nil {
		c.headers(root, e)
		c.content(root, e)
	}
	checkWithPython(t, raw, e, root)
	return root
}

type checker struct{ t testing.TB }

func (c *checker) errorf(format string, args ...any) {
	c.t.Helper()
	c.t.Errorf(format, args...)
}

// lines checks what RFC 5322 asks of every line: CRLF at its end, no bare
// CR or LF, at most 998 octets; and that the message is 7-bit, since every
// part is quoted-printable or base64.
func (c *checker) lines(wire []byte) {
	c.t.Helper()
	if !bytes.HasSuffix(wire, []byte("\r\n")) {
		c.errorf("the message does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(wire, []byte("\r\n")), []byte("\r\n")) {
		if n := len(line); n > 998 {
			c.errorf("line %d: %d octets, more than RFC 5322's 998", i+1, n)
		}
		if bytes.ContainsAny(line, "\r\n") {
			c.errorf("line %d: a bare CR or LF: %q", i+1, line)
		}
		for _, b := range line {
			if b == 0 || b >= 0x80 {
				c.errorf("line %d: octet %#x in a 7-bit message: %q", i+1, b, line)
				break
			}
		}
	}
}

// entity parses one header and body. top is the message itself, whose
// header fields are checked by headers.
func (c *checker) entity(where string, raw []byte, top bool) *Part {
	c.t.Helper()
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		if !bytes.HasPrefix(raw, []byte("\r\n")) {
			c.errorf("%s: no empty line between the header and the body", where)
			return nil
		}
		head, body = nil, raw[2:]
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(head, "\r\n\r\n"...)))).ReadMIMEHeader()
	if err != nil {
		c.errorf("%s: header: %v", where, err)
		return nil
	}
	for k, vs := range h {
		if len(vs) > 1 && (top || strings.HasPrefix(k, "Content-")) && k != "Received" {
			c.errorf("%s: %d %s fields, want one", where, len(vs), k)
		}
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		c.errorf("%s: no Content-Type", where)
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		c.errorf("%s: Content-Type %q: %v", where, ct, err)
		return nil
	}
	p := &Part{Type: mt, Params: params, Header: h}
	if strings.HasPrefix(mt, "multipart/") {
		if cte := strings.ToLower(h.Get("Content-Transfer-Encoding")); cte != "" && cte != "7bit" {
			c.errorf("%s: a multipart entity with Content-Transfer-Encoding %q (RFC 2045 allows only 7bit, 8bit, binary)", where, cte)
		}
		for i, raw := range c.multipart(where, body, params["boundary"]) {
			if kid := c.entity(fmt.Sprintf("%s part %d", where, i+1), raw, false); kid != nil {
				p.Parts = append(p.Parts, kid)
			}
		}
		return p
	}
	p.Body = c.leaf(where, h, mt, params, body)
	return p
}

var boundaryRe = regexp.MustCompile(`^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$`)

// multipart splits a multipart body at its delimiter lines itself (RFC
// 2046 section 5.1.1), so that a missing close delimiter, a delimiter after
// it or a boundary inside a part is a failure here, and then reads it again
// with mime/multipart, which must find the same parts and a clean end.
func (c *checker) multipart(where string, body []byte, boundary string) [][]byte {
	c.t.Helper()
	if !boundaryRe.MatchString(boundary) {
		c.errorf("%s: boundary %q is not a valid RFC 2046 boundary", where, boundary)
		return nil
	}
	delim, closing := "--"+boundary, "--"+boundary+"--"
	var parts [][]byte
	var cur []string
	state := "preamble" // then "part", then "epilogue"
	for _, line := range strings.Split(string(body), "\r\n") {
		l := strings.TrimRight(line, " \t") // transport padding
		switch {
		case l == delim || l == closing:
			if state == "epilogue" {
				c.errorf("%s: a delimiter line after the close delimiter", where)
				continue
			}
			if state == "part" {
				parts = append(parts, []byte(strings.Join(cur, "\r\n")))
			}
			cur = nil
			state = "part"
			if l == closing {
				state = "epilogue"
			}
		case strings.HasPrefix(line, delim) && state != "epilogue":
			c.errorf("%s: a line inside a part starts with the boundary: %q", where, line)
		case state == "part":
			cur = append(cur, line)
		}
	}
	switch state {
	case "preamble":
		c.errorf("%s: no delimiter line of boundary %q", where, boundary)
		return nil
	case "part":
		c.errorf("%s: no close delimiter %q: the multipart entity never ends", where, closing)
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	n := 0
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.errorf("%s: mime/multipart, after %d parts: %v", where, n, err)
			break
		}
		if _, err := io.Copy(io.Discard, p); err != nil {
			c.errorf("%s: mime/multipart, part %d: %v", where, n+1, err)
			break
		}
		n++
	}
	if n != len(parts) {
		c.errorf("%s: mime/multipart read %d parts, the delimiter lines make %d", where, n, len(parts))
	}
	return parts
}

// leaf checks and decodes a body that is not multipart.
func (c *checker) leaf(where string, h textproto.MIMEHeader, mt string, params map[string]string, body []byte) []byte {
	c.t.Helper()
	lines := strings.Split(string(body), "\r\n")
	var out []byte
	switch cte := strings.ToLower(h.Get("Content-Transfer-Encoding")); cte {
	case "quoted-printable":
		for i, l := range lines {
			if err := qpLine(l); err != nil {
				c.errorf("%s: quoted-printable line %d: %v: %q", where, i+1, err, l)
			}
		}
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			c.errorf("%s: quoted-printable: %v", where, err)
		}
		out = b
	case "base64":
		for i, l := range lines {
			if len(l) > 76 {
				c.errorf("%s: base64 line %d: %d characters, more than RFC 2045's 76", where, i+1, len(l))
			}
		}
		b, err := base64.StdEncoding.Strict().DecodeString(strings.Join(lines, ""))
		if err != nil {
			c.errorf("%s: base64: %v", where, err)
		}
		out = b
	case "", "7bit":
		out = body
	default:
		c.errorf("%s: Content-Transfer-Encoding %q; activator sends quoted-printable or base64 only", where, cte)
		out = body
	}
	if strings.HasPrefix(mt, "text/") {
		if cs := strings.ToLower(params["charset"]); cs != "utf-8" {
			c.errorf("%s: %s with charset %q, want utf-8", where, mt, params["charset"])
		}
		if !utf8.Valid(out) {
			c.errorf("%s: %s is not valid UTF-8 once decoded", where, mt)
		}
	}
	return out
}

// qpLine checks one encoded line of a quoted-printable body (RFC 2045
// section 6.7): at most 76 characters, printable ASCII but "=", "=" only
// before two upper-case hex digits or as the soft line break at the end,
// no space or tab at the end.
func qpLine(l string) error {
	if len(l) > 76 {
		return fmt.Errorf("%d characters, more than 76", len(l))
	}
	if strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\t") {
		return errors.New("white space at the end of the line")
	}
	for i := 0; i < len(l); i++ {
		b := l[i]
		switch {
		case b == '=':
			if i == len(l)-1 {
				continue // soft line break
			}
			if i+2 >= len(l) || !isUpperHex(l[i+1]) || !isUpperHex(l[i+2]) {
				return fmt.Errorf("a bad escape at column %d", i+1)
			}
			i += 2
		case b == ' ' || b == '\t' || b >= 33 && b <= 126:
		default:
			return fmt.Errorf("octet %#x at column %d", b, i+1)
		}
	}
	return nil
}

func isUpperHex(b byte) bool { return b >= '0' && b <= '9' || b >= 'A' && b <= 'F' }

var msgIDRe = regexp.MustCompile("^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+>$")

// headers checks the message's own header fields.
func (c *checker) headers(root *Part, e Expect) {
	c.t.Helper()
	h := root.Header
	for _, k := range oneEach {
		if n := len(h.Values(k)); n != 1 {
			c.errorf("header: %d %s fields, want exactly one", n, k)
		}
	}
	if !e.Mailbox {
		for k := range h {
			if !strings.HasPrefix(k, "Content-") && !contains(oneEach, k) {
				c.errorf("header: an unexpected field %s: %q", k, h.Get(k))
			}
		}
	}
	if d, err := mail.ParseDate(h.Get("Date")); err != nil {
		c.errorf("header: Date %q: %v", h.Get("Date"), err)
	} else if time.Since(d).Abs() > 24*time.Hour {
		c.errorf("header: Date %q is more than a day away from now", h.Get("Date"))
	}
	if id := h.Get("Message-ID"); !msgIDRe.MatchString(id) {
		c.errorf("header: Message-ID %q is not <local@domain>", id)
	}
	for _, f := range []struct{ key, want string }{{"From", e.From}, {"To", e.To}} {
		a, err := mail.ParseAddress(h.Get(f.key))
		if err != nil {
			c.errorf("header: %s %q: %v", f.key, h.Get(f.key), err)
		} else if a.Address != f.want {
			c.errorf("header: %s is %s, want %s", f.key, a.Address, f.want)
		}
	}
	raw := h.Get("Subject")
	subj, err := new(mime.WordDecoder).DecodeHeader(raw)
	switch {
	case err != nil:
		c.errorf("header: Subject %q: %v", raw, err)
	case subj != e.Subject:
		c.errorf("header: Subject decodes to %q, want %q (raw %q)", subj, e.Subject, raw)
	case !isASCII(e.Subject) && !strings.Contains(raw, "=?utf-8?"):
		c.errorf("header: Subject %q holds non-ASCII text but no encoded-word", raw)
	}
	if v := h.Get("MIME-Version"); v != "1.0" {
		c.errorf("header: MIME-Version %q, want 1.0", v)
	}
	if v := h.Get("Auto-Submitted"); v != "auto-generated" {
		c.errorf("header: Auto-Submitted %q, want auto-generated (RFC 3834: no auto-replies to it)", v)
	}
}

// content checks the structure and what the parts hold.
func (c *checker) content(root *Part, e Expect) {
	c.t.Helper()
	if got, want := root.Shape(), wantShape(e); got != want {
		c.errorf("structure %s, want %s", got, want)
		return
	}
	if text := root.find("text/plain"); text != nil && lf(string(text.Body)) != lf(e.Text) {
		c.errorf("the text part decodes to\n%q\nwant\n%q", text.Body, e.Text)
	}
	if e.HTML == nil {
		return
	}
	html := string(root.find("text/html").Body)
	for _, s := range e.HTML {
		if !strings.Contains(html, s) {
			c.errorf("the HTML part lacks %q", s)
		}
	}
	if !e.QR {
		if strings.Contains(html, "cid:") {
			c.errorf("the HTML refers to a cid: image the message does not carry")
		}
		return
	}
	if rel := root.find("multipart/related"); rel.Params["type"] != "text/html" {
		c.errorf("multipart/related type=%q, want text/html (RFC 2387)", rel.Params["type"])
	}
	img := root.find("image/png")
	cid := img.Header.Get("Content-ID")
	if !strings.HasPrefix(cid, "<") || !strings.HasSuffix(cid, ">") {
		c.errorf("image Content-ID %q is not <id>", cid)
	}
	if ref := `src="cid:` + strings.Trim(cid, "<>") + `"`; !strings.Contains(html, ref) {
		c.errorf("the HTML does not show the image by its Content-ID %s: no %s", cid, ref)
	}
	if d, _, err := mime.ParseMediaType(img.Header.Get("Content-Disposition")); err != nil || d != "inline" {
		c.errorf("image Content-Disposition %q, want inline", img.Header.Get("Content-Disposition"))
	}
	if im, err := png.Decode(bytes.NewReader(img.Body)); err != nil {
		c.errorf("the image is not a PNG: %v", err)
	} else if b := im.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		c.errorf("the QR code image is only %dx%d", b.Dx(), b.Dy())
	}
}

func wantShape(e Expect) string {
	switch {
	case e.HTML == nil:
		return ShapeText
	case e.QR:
		return ShapeHTMLQR
	}
	return ShapeHTML
}

//go:embed strict.py
var strictPy string

// pyReport is what strict.py prints.
type pyReport struct {
	Defects []string `json:"defects"`
	Parts   []struct {
		Path        string            `json:"path"`
		Type        string            `json:"type"`
		CTE         string            `json:"cte"`
		Charset     string            `json:"charset"`
		ContentID   string            `json:"content_id"`
		Disposition string            `json:"disposition"`
		Params      map[string]string `json:"params"`
		Text        *string           `json:"text"`
		Data        []byte            `json:"data"`
	} `json:"parts"`
	Headers  map[string][]string `json:"headers"`
	From, To []struct{ Name, Addr string }
	Date     string `json:"date"`
}

// shape rebuilds the tree of media types from the parts' paths ("1", "1.1", "1.2.1"...).
func (r *pyReport) shape(path string) string {
	var own string
	var kids []string
	for _, p := range r.Parts {
		if p.Path == path {
			own = p.Type
		}
		if strings.HasPrefix(p.Path, path+".") && !strings.Contains(p.Path[len(path)+1:], ".") {
			kids = append(kids, r.shape(p.Path))
		}
	}
	if len(kids) == 0 {
		return own
	}
	return own + "(" + strings.Join(kids, ",") + ")"
}

// checkWithPython has Python's e-mail package read raw with its strict
// policy and holds what it read to e and to the Go parser's reading.
// Without python3 it fails under CI=true and is left out elsewhere.
func checkWithPython(t testing.TB, raw []byte, e Expect, root *Part) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 is not installed: the strict MIME check needs Python's e-mail package")
		}
		t.Logf("python3 is not installed: only the Go parser checked the message")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-I", "-c", strictPy) // -I: no user site, no PYTHON* variables
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("python3 strict parser: %v\n%s", err, stderr.Bytes())
		return
	}
	var r pyReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Errorf("python3 strict parser: reading its report: %v\n%s", err, out)
		return
	}
	for _, d := range r.Defects {
		t.Errorf("python email (policy.default): %s", d)
	}
	if got, want := r.shape("1"), wantShape(e); got != want {
		t.Errorf("python email: structure %s, want %s", got, want)
		return
	}
	for _, k := range oneEach {
		if n := len(r.Headers[strings.ToLower(k)]); n != 1 {
			t.Errorf("python email: %d %s fields, want exactly one", n, k)
		}
	}
	if len(r.From) != 1 || r.From[0].Addr != e.From || len(r.To) != 1 || r.To[0].Addr != e.To {
		t.Errorf("python email: From %v, To %v; want %s and %s", r.From, r.To, e.From, e.To)
	}
	if s := r.Headers["subject"]; len(s) == 1 && s[0] != e.Subject {
		t.Errorf("python email: Subject %q, want %q", s[0], e.Subject)
	}
	if r.Date == "" {
		t.Errorf("python email: no Date it can read: %q", r.Headers["date"])
	}
	if root != nil {
		if id := r.Headers["message-id"]; len(id) == 1 && id[0] != root.Header.Get("Message-ID") {
			t.Errorf("python email: Message-ID %q, the Go parser read %q", id[0], root.Header.Get("Message-ID"))
		}
	}
	for _, p := range r.Parts {
		switch {
		case p.Type == "text/plain" && (p.Text == nil || lf(*p.Text) != lf(e.Text)):
			t.Errorf("python email: the text part reads %q, want %q", deref(p.Text), e.Text)
		case p.Type == "text/html":
			for _, s := range e.HTML {
				if p.Text == nil || !strings.Contains(*p.Text, s) {
					t.Errorf("python email: the HTML part lacks %q", s)
				}
			}
		case p.Type == "image/png":
			if root != nil {
				if img := root.find("image/png"); img == nil || !bytes.Equal(img.Body, p.Data) {
					t.Errorf("python email: the image differs from what the Go parser decoded")
				}
			}
			if p.ContentID != "<qr@activator>" || p.Disposition != "inline" {
				t.Errorf("python email: image Content-ID %q, disposition %q", p.ContentID, p.Disposition)
			}
		}
	}
}

func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func deref(s *string) string {
	if s == nil {
		return "(none)"
	}
	return *s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if textproto.CanonicalMIMEHeaderKey(x) == s {
			return true
		}
	}
	return false
}
