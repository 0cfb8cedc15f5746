package registrar

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// phone is a SIP client written by hand over one UDP socket, so that a test
// can send exactly the headers an attacker would (sipgo's client fills some
// in and checks others).
type phone struct {
	t      *testing.T
	user   string
	conn   *net.UDPConn
	server *net.UDPAddr
	wait   time.Duration // for a response; 2 s unless set
}

// newPhone binds a UDP socket on ip (any port) facing the registrar at
// server. Any 127.0.0.0/8 address is local on Linux.
func newPhone(t *testing.T, user, ip, server string) *phone {
	t.Helper()
	srv, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Skipf("binding %s: %v", ip, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &phone{t: t, user: user, conn: conn, server: srv, wait: 2 * time.Second}
}

func (p *phone) addr() string { return p.conn.LocalAddr().String() }

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// via is a fresh top Via of this phone.
func (p *phone) via() string {
	return "Via: SIP/2.0/UDP " + p.addr() + ";branch=z9hG4bK" + randHex(8) + ";rport"
}

// send writes one message to the registrar: the start line, the headers,
// Content-Length and the body.
func (p *phone) send(start string, headers []string, body string) {
	p.sendTo(p.server, start, headers, body)
}

func (p *phone) sendTo(to *net.UDPAddr, start string, headers []string, body string) {
	p.t.Helper()
	var b strings.Builder
	b.WriteString(start + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := p.conn.WriteToUDP([]byte(b.String()), to); err != nil {
		p.t.Fatal(err)
	}
}

// recv reads the next message within d; nil when none came.
func (p *phone) recv(d time.Duration) (sip.Message, *net.UDPAddr) {
	p.t.Helper()
	buf := make([]byte, 65535)
	p.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, nil
		}
		p.t.Fatal(err)
	}
	m, err := sip.ParseMessage(buf[:n])
	if err != nil {
		p.t.Fatalf("%s got a message sipgo cannot parse: %v\n%s", p.user, err, buf[:n])
	}
	return m, from
}

// response waits for the final response to a request with CSeq method
// (provisional ones skipped); nil when none came within p.wait.
func (p *phone) response(method string) *sip.Response {
	p.t.Helper()
	deadline := time.Now().Add(p.wait)
	for time.Now().Before(deadline) {
		m, _ := p.recv(time.Until(deadline))
		res, ok := m.(*sip.Response)
		if !ok || res.IsProvisional() || res.CSeq() == nil || string(res.CSeq().MethodName) != method {
			continue
		}
		return res
	}
	return nil
}

// request waits for the next request; nil when none came within d.
func (p *phone) request(d time.Duration) (*sip.Request, *net.UDPAddr) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m, from := p.recv(time.Until(deadline))
		if req, ok := m.(*sip.Request); ok {
			return req, from
		}
	}
	return nil, nil
}

// nothing fails the test when a request reaches this phone within d.
func (p *phone) nothing(what string, d time.Duration) {
	p.t.Helper()
	if req, _ := p.request(d); req != nil {
		p.t.Errorf("%s: %s's phone got it:\n%s", what, p.user, req.String())
	}
}

// credentials answers the digest challenge of res for method and uri.
func credentials(t *testing.T, res *sip.Response, method, uri, user, password string) string {
	t.Helper()
	name, answer := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, answer = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(name)
	if h == nil {
		t.Fatalf("a %d without %s", res.StatusCode, name)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: user, Password: password, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	return answer + ": " + cred.String()
}

// register sends a REGISTER of p.user, answers its challenge with password
// and returns the status of the answer: 0 when the registrar said nothing
// (to the first REGISTER or to the answer).
func (p *phone) register(password string) int {
	p.t.Helper()
	callID, ftag := randHex(8), randHex(4)
	hdrs := func(cseq int, extra ...string) []string {
		return append([]string{p.via(), "Max-Forwards: 70",
			"From: <sip:" + p.user + "@example.com>;tag=" + ftag, "To: <sip:" + p.user + "@example.com>",
			"Call-ID: " + callID, fmt.Sprintf("CSeq: %d REGISTER", cseq),
			"Contact: <sip:" + p.user + "@" + p.addr() + ">", "Expires: 600"}, extra...)
	}
	p.send("REGISTER sip:example.com SIP/2.0", hdrs(1), "")
	res := p.response("REGISTER")
	if res == nil {
		return 0
	}
	if res.StatusCode != 401 {
		return res.StatusCode
	}
	p.send("REGISTER sip:example.com SIP/2.0", hdrs(2, credentials(p.t, res, "REGISTER", "sip:example.com", p.user, password)), "")
	if res = p.response("REGISTER"); res == nil {
		return 0
	}
	return res.StatusCode
}

// outgoing is a request of p.user to ruri.
type outgoing struct {
	method, ruri string
	from         string   // From header value; default <sip:USER@example.com>;tag=...
	extra        []string // more headers (Route, identity headers...)
	body         string
	callID       string // default: a fresh one
}

// sendAuthed sends o, and answers the proxy's 407 with p.user's password
// (USERpw): it returns nil once the answered request is sent (its final
// response is the test's to read, with final), or the final response the
// first request got when that was no 407 (nil too when none came).
func (p *phone) sendAuthed(o outgoing) (refused *sip.Response) {
	p.t.Helper()
	if o.from == "" {
		o.from = "<sip:" + p.user + "@example.com>;tag=" + randHex(4)
	}
	if o.callID == "" {
		o.callID = randHex(8)
	}
	hdrs := func(via string, cseq int, extra ...string) []string {
		h := []string{via, "Max-Forwards: 70", "From: " + o.from, "To: <" + o.ruri + ">", "Call-ID: " + o.callID,
			fmt.Sprintf("CSeq: %d %s", cseq, o.method), "Contact: <sip:" + p.user + "@" + p.addr() + ">"}
		h = append(h, o.extra...)
		return append(h, extra...)
	}
	via := p.via()
	p.send(o.method+" "+o.ruri+" SIP/2.0", hdrs(via, 1), o.body)
	res := p.response(o.method)
	if res == nil {
		p.t.Errorf("%s %s from %s: no answer", o.method, o.ruri, p.user)
		return nil
	}
	if o.method == "INVITE" {
		p.ack(res, via)
	}
	if res.StatusCode != 407 {
		return res
	}
	p.send(o.method+" "+o.ruri+" SIP/2.0", hdrs(p.via(), 2, credentials(p.t, res, o.method, o.ruri, p.user, p.user+"pw")), o.body)
	return nil
}

// final reads the final response to the request with CSeq method, and
// acknowledges it when it refuses an INVITE; nil when none came.
func (p *phone) final(method string) *sip.Response {
	p.t.Helper()
	res := p.response(method)
	if res != nil && res.StatusCode >= 300 && method == "INVITE" {
		p.ack(res, res.Via().Value())
	}
	return res
}

// ack acknowledges a non-2xx final response to an INVITE (hop by hop, same
// branch as the INVITE).
func (p *phone) ack(res *sip.Response, via string) {
	p.t.Helper()
	if !strings.HasPrefix(via, "Via:") {
		via = "Via: " + via
	}
	p.send("ACK "+res.To().Address.String()+" SIP/2.0", []string{via, "Max-Forwards: 70",
		"From: " + res.From().Value(), "To: " + res.To().Value(), "Call-ID: " + res.CallID().Value(),
		fmt.Sprintf("CSeq: %d ACK", res.CSeq().SeqNo)}, "")
}

// answer sends the response code to req (received from the proxy at from),
// with a To-tag and, for a dialog, the Record-Route and a Contact, and the
// extra headers.
func (p *phone) answer(req *sip.Request, from *net.UDPAddr, code int, reason, toTag string, extra ...string) {
	p.t.Helper()
	var hdrs []string
	for _, v := range req.GetHeaders("Via") {
		hdrs = append(hdrs, "Via: "+v.Value())
	}
	to := req.To().Value()
	if toTag != "" && tag(req.To().Params) == "" {
		to += ";tag=" + toTag
	}
	hdrs = append(hdrs, "From: "+req.From().Value(), "To: "+to, "Call-ID: "+req.CallID().Value(), "CSeq: "+req.CSeq().Value())
	if req.IsInvite() && code < 300 {
		for _, rr := range req.GetHeaders("Record-Route") {
			hdrs = append(hdrs, "Record-Route: "+rr.Value())
		}
		hdrs = append(hdrs, "Contact: <sip:"+p.user+"@"+p.addr()+">")
	}
	hdrs = append(hdrs, extra...)
	p.sendTo(from, fmt.Sprintf("SIP/2.0 %d %s", code, reason), hdrs, "")
}

// inDialogRequest sends a request within a dialog: to target along routes
// (the route set, in order), with the dialog's From, To and Call-ID.
func (p *phone) inDialogRequest(method, target string, routes []string, from, to, callID string, cseq int) {
	p.t.Helper()
	hdrs := []string{p.via(), "Max-Forwards: 70"}
	for _, r := range routes {
		hdrs = append(hdrs, "Route: "+r)
	}
	hdrs = append(hdrs, "From: "+from, "To: "+to, "Call-ID: "+callID, fmt.Sprintf("CSeq: %d %s", cseq, method))
	p.send(method+" "+target+" SIP/2.0", hdrs, "")
}
