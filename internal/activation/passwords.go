package activation

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// CheckPassword reports whether password matches an argon2id PHC hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var (
		v       int
		m, t    uint32
		p       uint8
		enc     = base64.RawStdEncoding
		salt, k []byte
		err     error
	)
	if _, err = fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<21 || t > 20 || p == 0 {
		return false
	}
	if salt, err = enc.DecodeString(parts[4]); err != nil {
		return false
	}
	if k, err = enc.DecodeString(parts[5]); err != nil || len(k) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(k)))
	return subtle.ConstantTimeCompare(got, k) == 1
}

// dummyHash is checked against when the operator is unknown or has no
// password yet, so a wrong name takes as long as a wrong password.
// It is made on first use: every command-line run loads this package.
var dummyHash = sync.OnceValue(func() string { return HashPassword("not a password anyone has") })

// ValidatePassword checks a new password against the policy.
func ValidatePassword(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return invalid("password", "a password has at least %d characters", MinPasswordLength)
	}
	if len(password) > 1024 {
		return invalid("password", "a password has at most 1024 bytes")
	}
	return nil
}

// Password guessing. A console login is throttled by the address it comes
// from and by the name it tries, never by locking the operator: a guesser
// elsewhere cannot keep the real operator out. docs/security.md says what a
// guesser meets.
const (
	// SourceFreeFailures is how many failed logins an address makes before
	// it waits; an office behind one NAT address shares them.
	SourceFreeFailures = 10
	// NameFreeFailures is how many failed logins a name takes, from
	// anywhere, before every further failure for it makes its address wait.
	NameFreeFailures = 5
	// ThrottleFirstWait is the first wait; each further failure doubles it.
	ThrottleFirstWait = time.Second
	// ThrottleMaxWait is the longest wait.
	ThrottleMaxWait = 15 * time.Minute
	// ThrottleForget is how long a name or address goes without a failure
	// before its count starts afresh. A login does not clear it: an operator
	// with a password of their own could otherwise clear their address
	// between guesses at someone else's.
	ThrottleForget = time.Hour
	// throttleMaxKeys bounds each of the throttle's tables (addresses,
	// names, address and name pairs). A full table tracks no new key until
	// its stale ones go: it forgets guessers rather than refuse operators.
	throttleMaxKeys = 100_000
)

// loginThrottle says which login attempts may succeed. An address that
// failed more than SourceFreeFailures times waits (nothing from it logs in,
// whatever the password); a name that failed more than NameFreeFailures
// times waits too, and each failure for it while it waits makes the address
// it came from wait for that name until the name's wait ends. A right
// password for a waiting name still logs in from an address that is not
// waiting. The counts live in the process, like the SIP registrar's bans.
type loginThrottle struct {
	mu      sync.Mutex
	sources strikes // by address (IPv6 by its /64)
	names   strikes // by organisation and name, hashed
	pairs   strikes // by address and name: only holds, no count
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{
		sources: strikes{free: SourceFreeFailures, keys: map[string]*strike{}},
		names:   strikes{free: NameFreeFailures, keys: map[string]*strike{}},
		pairs:   strikes{keys: map[string]*strike{}},
	}
}

// allowed reports whether a right password for name from source logs in now.
func (l *loginThrottle) allowed(source, name string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.sources.waiting(source, now) && !l.pairs.waiting(source+" "+name, now)
}

// failed counts a failed login of name from source, and reports whether
// the source was already waiting (its failures are then not worth a log line).
func (l *loginThrottle) failed(source, name string, now time.Time) (wasWaiting bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	wasWaiting = l.sources.waiting(source, now)
	l.sources.fail(source, now)
	if until := l.names.fail(name, now); now.Before(until) {
		l.pairs.hold(source+" "+name, until, now)
	}
	return wasWaiting
}

// strikes counts failures per key.
type strikes struct {
	free   int // failures before a key waits
	keys   map[string]*strike
	pruned time.Time
}

type strike struct {
	n     int       // failures since the key started afresh
	last  time.Time // the latest failure (or hold)
	until time.Time // the key waits until then
}

func (t *strikes) waiting(key string, now time.Time) bool {
	s := t.keys[key]
	return s != nil && now.Before(s.until)
}

// entry finds key, starting it afresh when it went ThrottleForget without a
// failure; nil when it is new and the table is full.
func (t *strikes) entry(key string, now time.Time) *strike {
	s := t.keys[key]
	if s != nil && now.Sub(s.last) <= ThrottleForget {
		return s
	}
	if s == nil && !t.room(now) {
		return nil
	}
	s = &strike{}
	t.keys[key] = s
	return s
}

// fail counts a failure of key and returns until when it waits.
func (t *strikes) fail(key string, now time.Time) time.Time {
	s := t.entry(key, now)
	if s == nil {
		return time.Time{}
	}
	s.n++
	s.last = now
	if s.n > t.free {
		s.until = later(s.until, now.Add(backoff(s.n-t.free)))
	}
	return s.until
}

// hold makes key wait until at least until.
func (t *strikes) hold(key string, until, now time.Time) {
	if s := t.entry(key, now); s != nil {
		s.last, s.until = now, later(s.until, until)
	}
}

// room makes room for a new key if the table is full, dropping keys that
// are neither waiting nor remembered; it looks at most once a second.
func (t *strikes) room(now time.Time) bool {
	if len(t.keys) < throttleMaxKeys {
		return true
	}
	if now.Sub(t.pruned) < time.Second {
		return false
	}
	t.pruned = now
	for k, s := range t.keys {
		if now.Sub(s.last) > ThrottleForget && !now.Before(s.until) {
			delete(t.keys, k)
		}
	}
	return len(t.keys) < throttleMaxKeys
}

// backoff is the wait after the k-th failure past the free ones.
func backoff(k int) time.Duration {
	if k > 20 {
		return ThrottleMaxWait
	}
	return min(ThrottleFirstWait<<(k-1), ThrottleMaxWait)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// throttleName is the throttle's key of a name tried in an organisation:
// a hash, so that whatever was typed costs the table 32 bytes.
func throttleName(orgID int64, name string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(orgID, 10) + "\x00" + name))
	return string(sum[:])
}

// throttleSource is the throttle's key of the address a login came from
// ("host:port" or a bare address): an IPv6 address counts by its /64,
// which one customer usually holds whole. Anything else counts as one
// unknown address.
func throttleSource(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "unknown"
	}
	a = a.WithZone("").Unmap()
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

// maxBoundedName is how many bytes of a typed name BoundedName keeps.
const maxBoundedName = 64

// BoundedName is what logs and the audit log keep of a name someone typed
// at the login form: at most 64 bytes, with control and other unprintable
// characters, invalid UTF-8 and backslashes escaped Go-style (\x1b,
// \u202e, \\), cut on a character and marked with "..." when longer. A
// valid operator name of up to 64 bytes comes back as it is.
func BoundedName(s string) string {
	var b strings.Builder
	fits := 0 // b's length when it last left room for "..."
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		piece := s[i : i+size]
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\\':
			piece = `\\`
		case !strconv.IsPrint(r):
			piece = strings.Trim(strconv.QuoteRuneToASCII(r), "'")
		}
		if b.Len()+len(piece) > maxBoundedName {
			return b.String()[:fits] + "..."
		}
		b.WriteString(piece)
		if b.Len() <= maxBoundedName-len("...") {
			fits = b.Len()
		}
		i += size
	}
	return b.String()
}
