package activation

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
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

// dummyHash is checked against when the operator is unknown, so a wrong
// name takes as long as a wrong password.
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
