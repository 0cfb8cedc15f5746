package registrar

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

// flow is how to reach a client: the connection its requests came over.
type flow struct {
	transport, source string
}

// A flow token is the user part of one of the proxy's Record-Route entries:
//
//	f-<base64url(transport|source|expiry)>.<base64url(mac)>
//
// expiry is in Unix seconds, and mac is the first 16 bytes of an HMAC-SHA256,
// under a key made at start, over the transport, the source, the expiry and
// the dialog the entry was recorded for (its Call-ID and the caller's
// From-tag). A token therefore only routes requests of its own call, and
// only until the call's lifetime ends: copied into a request of another
// call, or kept after that, it names nothing.
const (
	flowPrefix = "f-"
	flowMACLen = 16
)

// flowEncoding is base64url without padding, strict about the unused bits of
// the last character, so that a token has exactly one spelling.
var flowEncoding = base64.RawURLEncoding.Strict()

// flowToken is a parsed, not yet verified, flow token.
type flowToken struct {
	flow
	expires int64 // Unix seconds
	mac     []byte
}

func (s *Server) flowMAC(f flow, expires int64, d dialogKey) []byte {
	m := hmac.New(sha256.New, s.flowKey)
	var n [binary.MaxVarintLen64]byte
	for _, v := range []string{f.transport, f.source, strconv.FormatInt(expires, 10), d.callID, d.tag} {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))]) // length-prefixed: no two field lists hash alike
		m.Write([]byte(v))
	}
	return m.Sum(nil)[:flowMACLen]
}

// newFlowToken is the token of flow f in dialog d, honoured until expires.
func (s *Server) newFlowToken(f flow, expires time.Time, d dialogKey) string {
	exp := expires.Unix()
	raw := f.transport + "|" + f.source + "|" + strconv.FormatInt(exp, 10)
	return flowPrefix + flowEncoding.EncodeToString([]byte(raw)) + "." + flowEncoding.EncodeToString(s.flowMAC(f, exp, d))
}

// parseFlowToken reads a Route user part written by newFlowToken. It checks
// the form only; verify says whether the token is genuine and live.
func parseFlowToken(user string) (flowToken, bool) {
	rest, ok := strings.CutPrefix(user, flowPrefix)
	if !ok {
		return flowToken{}, false
	}
	enc, sum, ok := strings.Cut(rest, ".")
	if !ok {
		return flowToken{}, false
	}
	// Decoding skips line breaks: only the bytes' own spelling will do.
	raw, err := flowEncoding.DecodeString(enc)
	if err != nil || flowEncoding.EncodeToString(raw) != enc {
		return flowToken{}, false
	}
	mac, err := flowEncoding.DecodeString(sum)
	if err != nil || len(mac) != flowMACLen || flowEncoding.EncodeToString(mac) != sum {
		return flowToken{}, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[1] == "" {
		return flowToken{}, false
	}
	switch parts[0] {
	case "udp", "tcp", "tls":
	default:
		return flowToken{}, false
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != parts[2] {
		return flowToken{}, false
	}
	return flowToken{flow: flow{transport: parts[0], source: parts[1]}, expires: exp, mac: mac}, true
}

// verify reports whether tok was made by this process for dialog d and is
// still live at now.
func (s *Server) verify(tok flowToken, d dialogKey, now time.Time) bool {
	return now.Unix() < tok.expires && hmac.Equal(tok.mac, s.flowMAC(tok.flow, tok.expires, d))
}
