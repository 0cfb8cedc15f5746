package registrar

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Markers in FuzzDigestAuthorization's inputs: the nonce of the challenge
// just received, and the right digest response for the rest of the header
// as it reads (with the password of the account it names), so that
// mutations reach the checks behind the nonce and the password.
const (
	nonceMarker    = "$NONCE$"
	responseMarker = "$RESPONSE$"
)

// FuzzDigestAuthorization answers the registrar's challenge to a REGISTER
// with an arbitrary Authorization header, over UDP to a running registrar.
// Whatever the header, the registrar answers (a request that parses as SIP
// is never met with silence), with 401 or 403 only, never a 5xx; and it
// answers 200 only to a header that names an activated account, the live
// nonce and the right response for that account's password.
//
//	go test -run='^$' -fuzz=FuzzDigestAuthorization -fuzztime=20s ./internal/sip/registrar/
func FuzzDigestAuthorization(f *testing.F) {
	r := startRegistrar(f, func(c *Config) {
		c.Algorithms = []string{"SHA-256", "MD5"}
		c.BanFailures = -1 // a fuzzer's guesses would ban the loopback address
	})
	// The seed corpus is testdata/fuzz/FuzzDigestAuthorization; this one
	// is a right answer.
	f.Add(`Digest username="alice", realm="example.com", nonce="` + nonceMarker + `", uri="sip:example.com", response="` + responseMarker + `", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`)

	f.Fuzz(func(t *testing.T, auth string) {
		auth = strings.NewReplacer("\r", "", "\n", "").Replace(auth) // one header line
		p := newPhone(t, "alice", "127.0.0.1", r.addr)
		p.wait = time.Second
		callID, ftag := randHex(8), randHex(4)
		hdrs := func(cseq int, extra ...string) []string {
			return append([]string{p.via(), "Max-Forwards: 70",
				"From: <sip:alice@example.com>;tag=" + ftag, "To: <sip:alice@example.com>",
				"Call-ID: " + callID, fmt.Sprintf("CSeq: %d REGISTER", cseq),
				"Contact: <sip:alice@" + p.addr() + ">", "Expires: 60"}, extra...)
		}
		p.send("REGISTER sip:example.com SIP/2.0", hdrs(1), "")
		res := p.response("REGISTER")
		if res == nil || res.StatusCode != 401 {
			t.Fatalf("the first REGISTER: %v, want a 401", res)
		}
		chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
		if err != nil {
			t.Fatal(err)
		}
		auth = strings.ReplaceAll(auth, nonceMarker, chal.Nonce)
		want := ""
		if c, err := digest.ParseCredentials(strings.ReplaceAll(auth, responseMarker, "")); err == nil {
			if h := hasher(c.Algorithm); h != nil && (c.Username == "alice" || c.Username == "carol") {
				ha1 := hexHash(h, c.Username+":example.com:"+c.Username+"pw")
				want = digestResponse(h, ha1, c.Nonce, c.Nc, c.Cnonce, "REGISTER", c.URI)
			}
		}
		auth = strings.ReplaceAll(auth, responseMarker, want)

		msg := hdrs(2, "Authorization: "+auth)
		p.send("REGISTER sip:example.com SIP/2.0", msg, "")
		res = p.response("REGISTER")
		if res == nil {
			raw := "REGISTER sip:example.com SIP/2.0\r\n" + strings.Join(msg, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
			if _, err := sip.ParseMessage([]byte(raw)); err == nil {
				t.Fatalf("no answer to a REGISTER that parses, with Authorization: %q", auth)
			}
			return // not SIP: dropped by the parser, as any malformed datagram
		}
		switch res.StatusCode {
		case 401, 403:
		case 200:
			c, err := digest.ParseCredentials(auth)
			if err != nil || want == "" || !strings.EqualFold(c.Response, want) || c.Realm != "example.com" || c.Nonce != chal.Nonce ||
				!strings.EqualFold(c.QOP, "auth") {
				t.Fatalf("200 to Authorization: %q (%+v, %v)", auth, c, err)
			}
		default:
			t.Fatalf("%d %s to Authorization: %q", res.StatusCode, res.Reason, auth)
		}
	})
}
