// Package secret makes and checks activator's secrets: prefixed random tokens
// stored only as hashes, and the key that encrypts what must be read back
// (SIP passwords, the signing key).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Token prefixes: every kind of token activator issues, each listed in
// docs/architecture.md. A prefix says what a leaked string is at a glance.
const (
	PrefixLink        = "avl_" // a link's token: in the link a user opens, and what the device redeems
	PrefixDevice      = "avd_" // a device credential
	PrefixAPIToken    = "ava_" // an API token
	PrefixSession     = "avs_" // a console session cookie
	PrefixSetPassword = "avp_" // a one-time set-password link
	PrefixReceiptKey  = "avr_" // a gateway's receipt key, in its delivery receipt callback URL
)

// TokenAlphabet is what follows a token's prefix: lowercase base32, no padding.
const TokenAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// TokenChars is how many characters of TokenAlphabet follow the prefix:
// 160 random bits.
const TokenChars = 32

// TokenLen is the length of every token (every prefix has 4 characters).
const TokenLen = 4 + TokenChars

// tokenBytes is the entropy of every token: 160 bits.
const tokenBytes = TokenChars * 5 / 8

var (
	tokenEncoding = base32.NewEncoding(TokenAlphabet).WithPadding(base32.NoPadding)
	b32           = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// NewToken returns a random token with prefix and its SHA-256 hash.
func NewToken(prefix string) (token string, hash []byte) {
	buf := make([]byte, tokenBytes)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err)) // crypto/rand never fails on supported systems
	}
	token = prefix + tokenEncoding.EncodeToString(buf)
	return token, Hash(token)
}

// WellFormed reports whether token has prefix and the shape NewToken gives.
// It lets a handler refuse garbage without touching the database.
func WellFormed(token, prefix string) bool {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok || len(rest) != TokenChars {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(TokenAlphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}

// LinkTokens matches a link's token wherever it appears in a text.
var LinkTokens = regexp.MustCompile(regexp.QuoteMeta(PrefixLink) + "[" + TokenAlphabet + "]{" + strconv.Itoa(TokenChars) + "}")

// linkURLs matches a link as a message carries it: the https (or, in
// development, http) URL of its landing page, BASE/a/<token>.
var linkURLs = regexp.MustCompile(`https?://[^\s<>"]+/a/` + LinkTokens.String())

// FindLink returns the first link in text, or "" when it holds none.
func FindLink(text string) string { return linkURLs.FindString(text) }

// MaskLinks hides the link tokens in text the way Display shows a token,
// keeping enough to recognise them.
func MaskLinks(text string) string { return LinkTokens.ReplaceAllStringFunc(text, Display) }

// Hash is the stored form of a token.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Display shows a token the only way it is ever shown after issue: its prefix
// and first characters, enough to recognise, never to use.
func Display(token string) string {
	if len(token) < 10 {
		return "***"
	}
	return token[:10] + "…"
}

// RandomDigits returns n random decimal digits, the first not zero.
func RandomDigits(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	out := make([]byte, n)
	for i, b := range buf {
		// 250 is the largest multiple of 10 below 256; rejection keeps digits uniform.
		for b >= 250 {
			var one [1]byte
			_, _ = rand.Read(one[:])
			b = one[0]
		}
		out[i] = '0' + b%10
		if i == 0 && out[i] == '0' {
			out[i] = '1' + b%9
		}
	}
	return string(out)
}

// Password returns a random SIP password: 24 characters of base32 (120 bits).
func Password() string {
	buf := make([]byte, 15)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	return b32.EncodeToString(buf)
}

// Box encrypts small values at rest with AES-256-GCM.
type Box struct{ aead cipher.AEAD }

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key: want 32 bytes, have %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain; the nonce is kept in front of the ciphertext.
func (b *Box) Seal(plain []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	return b.aead.Seal(nonce, nonce, plain, nil)
}

// ErrDecrypt means a sealed value could not be opened: wrong key or damage.
var ErrDecrypt = errors.New("cannot decrypt a stored secret: the secret key differs from the one that sealed it")

// Open decrypts what Seal produced.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrDecrypt
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// LoadOrCreateKey reads the 32-byte hex key in path, creating it (mode 0600)
// when absent. created tells the caller to say so.
func LoadOrCreateKey(path string) (key []byte, created bool, err error) {
	key, err = LoadKey(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	key, err = CreateKey(path)
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// LoadKey reads the 32-byte hex key in path; a missing file is an error
// that wraps os.ErrNotExist.
func LoadKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("secret key file %s: want 64 hex digits", path)
	}
	return key, nil
}

// CreateKey makes a random key and writes it to path, which must not
// exist, mode 0600, synced to disk before it returns.
func CreateKey(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("making secret key: %w", err)
	}
	if err := writeNewFile(path, []byte(hex.EncodeToString(key)+"\n")); err != nil {
		return nil, fmt.Errorf("creating secret key file: %w", err)
	}
	return key, nil
}

// writeNewFile writes data to path, which must not exist, mode 0600, and
// syncs it.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// PendingKeyFile is where a key rotation keeps the new key until the
// database is sealed with it: path.new beside the key file.
func PendingKeyFile(path string) string { return path + ".new" }

// InstallPendingKey makes the pending key (PendingKeyFile) the key in
// path, keeping the key it replaces as a backup beside it,
// path.<UTC time>.old, mode 0600, whose name it returns. The replacement
// is a rename: path holds either the old key or the new one, never part
// of either.
func InstallPendingKey(path string, now time.Time) (backup string, err error) {
	old, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the old secret key: %w", err)
	}
	stamp := path + "." + now.UTC().Format("20060102T150405Z")
	for i := 1; ; i++ {
		backup = stamp + ".old"
		if i > 1 {
			backup = fmt.Sprintf("%s-%d.old", stamp, i) // a second rotation within the second
		}
		err = writeNewFile(backup, old)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i == 100 {
			return "", fmt.Errorf("keeping the old secret key: %w", err)
		}
	}
	if err := os.Rename(PendingKeyFile(path), path); err != nil {
		return "", fmt.Errorf("installing the new secret key: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // the rename reaches the disk; not every system can sync a folder
		d.Close()
	}
	return backup, nil
}
