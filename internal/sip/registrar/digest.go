package registrar

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
)

// nonces are the server's digest challenges: each expires after ttl and can
// be answered once, so a captured answer cannot be replayed.
type nonces struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	items map[string]time.Time // nonce -> expiry
	now   func() time.Time
}

func newNonces(ttl time.Duration, max int) *nonces {
	return &nonces{ttl: ttl, max: max, items: make(map[string]time.Time), now: time.Now}
}

// issue returns a fresh nonce.
func (n *nonces) issue() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	v := hex.EncodeToString(b[:])
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.items) >= n.max {
		for k, exp := range n.items {
			if !now.Before(exp) {
				delete(n.items, k)
			}
		}
		// Still full: drop arbitrary old challenges rather than grow without bound.
		for k := range n.items {
			if len(n.items) < n.max {
				break
			}
			delete(n.items, k)
		}
	}
	n.items[v] = now.Add(n.ttl)
	return v
}

// take uses a nonce up and reports whether it was live.
func (n *nonces) take(v string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	exp, ok := n.items[v]
	if !ok {
		return false
	}
	delete(n.items, v)
	return n.now().Before(exp)
}

// DefaultAlgorithms are the digest algorithms challenged with when the
// configuration names none. MD5 only: baresip 1.0.0 gives up on a REGISTER
// whose 401 carries any algorithm it does not know (SHA-256 included), and
// sipp answers only the first challenge it reads. Sites whose clients all
// speak SHA-256 list it (RFC 8760: preferred first).
var DefaultAlgorithms = []string{"MD5"}

// ParseAlgorithms reads a comma-separated list of MD5 and SHA-256.
func ParseAlgorithms(v string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(v, ",") {
		a = strings.ToUpper(strings.TrimSpace(a))
		if a != "MD5" && a != "SHA-256" {
			return nil, fmt.Errorf("unknown digest algorithm %q: want MD5 or SHA-256", a)
		}
		out = append(out, a)
	}
	return out, nil
}

// challenges are the WWW-Authenticate (or Proxy-Authenticate) values for one
// fresh nonce, one per algorithm.
func (n *nonces) challenges(realm string, algorithms []string, stale bool) []string {
	nonce := n.issue()
	out := make([]string, 0, len(algorithms))
	for _, alg := range algorithms {
		c := digest.Challenge{Realm: realm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		out = append(out, c.String())
	}
	return out
}

func hasher(alg string) func() hash.Hash {
	switch strings.ToUpper(alg) {
	case "", "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

func hexHash(h func() hash.Hash, s string) string {
	x := h()
	x.Write([]byte(s))
	return hex.EncodeToString(x.Sum(nil))
}

// digestResponse is RFC 7616's response for qop=auth from a stored HA1.
func digestResponse(h func() hash.Hash, ha1, nonce string, nc int, cnonce, method, uri string) string {
	ha2 := hexHash(h, method+":"+uri)
	return hexHash(h, fmt.Sprintf("%s:%s:%08x:%s:auth:%s", ha1, nonce, nc, cnonce, ha2))
}

func equalHex(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(a)), []byte(strings.ToLower(b))) == 1
}
