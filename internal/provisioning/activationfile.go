package provisioning

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/activator-voip/activator/internal/secret"
)

// Activation file constants: the wire format of docs/protocol.md.
const (
	// ActivationFormat is the value of the file's "format" member.
	ActivationFormat = "activator-activation"
	// ActivationVersion is the major version of the file this code reads and writes.
	ActivationVersion = 1
	// MaxActivationSize caps an activation file; larger input is refused unread.
	MaxActivationSize = 64 << 10
	// DefaultActivationMIMEType is the file's MIME type unless the
	// activation_mime_type setting says otherwise.
	DefaultActivationMIMEType = "application/vnd.activator.activation+json"
	// DefaultActivationFileExt is the file name extension (no dot) unless the
	// activation_file_extension setting says otherwise.
	DefaultActivationFileExt = "activation"
	// TLSPinPrefix starts a TLS pin: the SHA-256 of the leaf's SubjectPublicKeyInfo.
	TLSPinPrefix = "sha256/"
	// MaxDisplayNameLen caps the optional display name, in bytes.
	MaxDisplayNameLen = 256
)

// Sentinels every activation file error wraps, for errors.Is.
var (
	// ErrActivationInvalid: the file is malformed or a field is wrong.
	ErrActivationInvalid = errors.New("invalid activation file")
	// ErrActivationVersion: the file is of a major version this code does not know.
	ErrActivationVersion = errors.New("unsupported activation file version")
	// ErrActivationSignature: the signature does not verify with the file's key.
	ErrActivationSignature = errors.New("activation file signature does not verify")
)

// ActivationError says which part of an activation file was wrong and why.
type ActivationError struct {
	Field  string // the member at fault, "payload.token" style; empty for the whole file
	Reason string
	Err    error // one of the sentinels above
}

func (e *ActivationError) Error() string {
	if e.Field == "" {
		return "activation file: " + e.Reason
	}
	return "activation file: " + e.Field + ": " + e.Reason
}

// Unwrap returns the sentinel, so errors.Is(err, ErrActivationInvalid) works.
func (e *ActivationError) Unwrap() error { return e.Err }

func activationInvalid(field, format string, args ...any) error {
	return &ActivationError{Field: field, Reason: fmt.Sprintf(format, args...), Err: ErrActivationInvalid}
}

// ActivationPayload is what the server signs: where to redeem, and with which token.
type ActivationPayload struct {
	// Version is the payload's major version; 0 means ActivationVersion when signing.
	Version int `json:"version"`
	// Server is activator's base URL: https://host[:port][/prefix], no trailing slash.
	Server string `json:"server"`
	// Token is the link token: secret.PrefixLink followed by secret.TokenChars
	// characters of secret.TokenAlphabet.
	Token     string    `json:"token"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// TLSPin is sha256/<base64 of SHA-256 of the leaf SubjectPublicKeyInfo>;
	// empty when the server has no TLS.
	TLSPin string `json:"tls_pin,omitempty"`
	// DisplayName is shown by the client while it activates; optional.
	DisplayName string `json:"display_name,omitempty"`
}

// ActivationFile is a parsed, verified activation file.
type ActivationFile struct {
	Payload   ActivationPayload
	PublicKey ed25519.PublicKey
	// Raw is the exact payload bytes the signature covers.
	Raw []byte
	// Signature is the Ed25519 signature over Raw.
	Signature []byte
	// Chain is the verified key chain, oldest first, that ends with
	// PublicKey: every earlier signing key of the server (keychain.go).
	Chain []KeyEndorsement
}

// activationEnvelope is the outer JSON document, in its member order.
type activationEnvelope struct {
	Format    string `json:"format"`
	Version   int    `json:"version"`
	Payload   string `json:"payload"`
	PublicKey string `json:"public_key"`
	Signature string `json:"signature"`
	// KeyChain is present once the server's signing key was rotated.
	KeyChain []wireEndorsement `json:"key_chain,omitempty"`
}

// activationPayloadWire fixes the payload's member order and time format.
type activationPayloadWire struct {
	Version     int    `json:"version"`
	Server      string `json:"server"`
	Token       string `json:"token"`
	IssuedAt    string `json:"issued_at"`
	ExpiresAt   string `json:"expires_at"`
	TLSPin      string `json:"tls_pin,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
}

// SignActivation signs p with key and returns the activation file's bytes
// (indented JSON ending in a newline). Times are written in UTC. It refuses a
// payload ParseActivation would refuse, so a server never hands out a file
// its own clients reject.
func SignActivation(p ActivationPayload, key ed25519.PrivateKey) ([]byte, error) {
	return SignActivationChain(p, key, nil)
}

// SignActivationChain is SignActivation for a server whose signing key was
// rotated: the file carries chain, the endorsements from the first key to
// key, which must end with key's public key.
func SignActivationChain(p ActivationPayload, key ed25519.PrivateKey, chain []KeyEndorsement) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("signing activation file: private key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	if p.Version == 0 {
		p.Version = ActivationVersion
	}
	p.IssuedAt = p.IssuedAt.UTC()
	p.ExpiresAt = p.ExpiresAt.UTC()
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("signing activation file: %w", err)
	}
	payload, err := json.Marshal(activationPayloadWire{
		Version:     p.Version,
		Server:      p.Server,
		Token:       p.Token,
		IssuedAt:    p.IssuedAt.Format(time.RFC3339Nano),
		ExpiresAt:   p.ExpiresAt.Format(time.RFC3339Nano),
		TLSPin:      p.TLSPin,
		DisplayName: p.DisplayName,
	})
	if err != nil {
		return nil, fmt.Errorf("signing activation file: encoding payload: %w", err)
	}
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("signing activation file: private key has no Ed25519 public key")
	}
	if _, err := chainFromWire(toWire(chain), pub); err != nil {
		return nil, fmt.Errorf("signing activation file: %w", err)
	}
	env := activationEnvelope{
		Format:    ActivationFormat,
		Version:   p.Version,
		Payload:   base64.RawURLEncoding.EncodeToString(payload),
		PublicKey: base64.RawURLEncoding.EncodeToString(pub),
		Signature: base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, payload)),
	}
	if len(chain) > 0 {
		env.KeyChain = toWire(chain)
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("signing activation file: encoding file: %w", err)
	}
	out = append(out, '\n')
	if len(out) > MaxActivationSize {
		return nil, fmt.Errorf("signing activation file: file would be %d bytes, limit %d", len(out), MaxActivationSize)
	}
	return out, nil
}

// ParseActivation checks an activation file and returns its verified content.
// It checks, in order: size, JSON shape, format, major version, the key and
// signature encodings and sizes, the signature over the exact payload bytes,
// then the key chain when there is one (each link verified, the last
// endorsing public_key), then every payload field. Each error is an *ActivationError naming the
// member at fault. Unknown members are ignored, so a later minor revision of
// version 1 may add some; an unknown major version is refused with
// ErrActivationVersion. The expiry is not compared with the local clock: the
// server decides whether a link is still valid.
func ParseActivation(data []byte) (*ActivationFile, error) {
	if len(data) > MaxActivationSize {
		return nil, activationInvalid("", "file is %d bytes, limit %d", len(data), MaxActivationSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, activationInvalid("", "file is empty")
	}
	if !utf8.Valid(data) {
		return nil, activationInvalid("", "file is not valid UTF-8")
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, activationInvalid("", "not a JSON object: %v", err)
	}
	if env == nil {
		return nil, activationInvalid("", "not a JSON object")
	}
	format, err := activationString(env, "format", "format")
	if err != nil {
		return nil, err
	}
	if format != ActivationFormat {
		return nil, activationInvalid("format", "is %q, want %q", format, ActivationFormat)
	}
	version, err := activationInt(env, "version", "version")
	if err != nil {
		return nil, err
	}
	if err := activationCheckVersion("version", version); err != nil {
		return nil, err
	}

	pub, err := activationBase64(env, "public_key", ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	sig, err := activationBase64(env, "signature", ed25519.SignatureSize)
	if err != nil {
		return nil, err
	}
	payload, err := activationBase64(env, "payload", -1)
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(pub, payload, sig) {
		return nil, &ActivationError{Field: "signature", Reason: "does not verify with public_key over the payload", Err: ErrActivationSignature}
	}

	var chain []KeyEndorsement
	if raw, ok := env["key_chain"]; ok && string(raw) != "null" {
		var w []wireEndorsement
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, activationInvalid("key_chain", "must be an array of {public_key, signed_by, signature}")
		}
		if chain, err = chainFromWire(w, pub); err != nil {
			return nil, err
		}
	}

	p, err := activationDecodePayload(payload)
	if err != nil {
		return nil, err
	}
	if p.Version != version {
		return nil, activationInvalid("payload.version", "is %d but the file's version is %d", p.Version, version)
	}
	return &ActivationFile{Payload: *p, PublicKey: ed25519.PublicKey(pub), Raw: payload, Signature: sig, Chain: chain}, nil
}

// activationDecodePayload reads the signed payload bytes and validates them.
func activationDecodePayload(payload []byte) (*ActivationPayload, error) {
	if !utf8.Valid(payload) {
		return nil, activationInvalid("payload", "is not valid UTF-8")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, activationInvalid("payload", "not a JSON object: %v", err)
	}
	if m == nil {
		return nil, activationInvalid("payload", "not a JSON object")
	}
	var p ActivationPayload
	var err error
	if p.Version, err = activationInt(m, "version", "payload.version"); err != nil {
		return nil, err
	}
	if err := activationCheckVersion("payload.version", p.Version); err != nil {
		return nil, err
	}
	if p.Server, err = activationString(m, "server", "payload.server"); err != nil {
		return nil, err
	}
	if p.Token, err = activationString(m, "token", "payload.token"); err != nil {
		return nil, err
	}
	if p.IssuedAt, err = activationTime(m, "issued_at", "payload.issued_at"); err != nil {
		return nil, err
	}
	if p.ExpiresAt, err = activationTime(m, "expires_at", "payload.expires_at"); err != nil {
		return nil, err
	}
	if p.TLSPin, err = activationOptString(m, "tls_pin", "payload.tls_pin"); err != nil {
		return nil, err
	}
	if p.DisplayName, err = activationOptString(m, "display_name", "payload.display_name"); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks every payload field; errors name the field as "payload.<name>".
func (p *ActivationPayload) Validate() error {
	if err := activationCheckVersion("payload.version", p.Version); err != nil {
		return err
	}
	if err := ValidateServerURL(p.Server); err != nil {
		return activationInvalid("payload.server", "%v", err)
	}
	if !secret.WellFormed(p.Token, secret.PrefixLink) {
		return activationInvalid("payload.token", "is not a link token (%s followed by %d lowercase base32 characters)", secret.PrefixLink, secret.TokenChars)
	}
	if p.IssuedAt.IsZero() {
		return activationInvalid("payload.issued_at", "is missing")
	}
	if p.ExpiresAt.IsZero() {
		return activationInvalid("payload.expires_at", "is missing")
	}
	if y := p.IssuedAt.UTC().Year(); y < 2000 || y > 9999 {
		return activationInvalid("payload.issued_at", "year %d is out of range", y)
	}
	if y := p.ExpiresAt.UTC().Year(); y < 2000 || y > 9999 {
		return activationInvalid("payload.expires_at", "year %d is out of range", y)
	}
	if !p.ExpiresAt.After(p.IssuedAt) {
		return activationInvalid("payload.expires_at", "is not after issued_at")
	}
	if p.TLSPin != "" {
		if !strings.HasPrefix(p.Server, "https://") {
			return activationInvalid("payload.tls_pin", "is set but the server is not https")
		}
		if err := ValidateTLSPin(p.TLSPin); err != nil {
			return activationInvalid("payload.tls_pin", "%v", err)
		}
	}
	if len(p.DisplayName) > MaxDisplayNameLen {
		return activationInvalid("payload.display_name", "is %d bytes, limit %d", len(p.DisplayName), MaxDisplayNameLen)
	}
	for _, r := range p.DisplayName {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return activationInvalid("payload.display_name", "holds a control character or invalid UTF-8")
		}
	}
	return nil
}

// ValidateServerURL checks an activator base URL: absolute http or https,
// a host, no user information, no query, no fragment, no trailing slash.
func ValidateServerURL(s string) error {
	if s == "" {
		return errors.New("is missing")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("is not a URL: %w", err)
	}
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		return fmt.Errorf("%q must start with https:// or http://", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		return fmt.Errorf("%q must not hold user information", s)
	}
	if u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "?") {
		return fmt.Errorf("%q must not hold a query", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("%q must not hold a fragment", s)
	}
	if strings.HasSuffix(s, "/") {
		return fmt.Errorf("%q must not end with /", s)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '\\' {
			return fmt.Errorf("%q holds a space, control character or backslash", s)
		}
	}
	if p := u.Port(); p != "" {
		if len(p) > 5 || p == "0" || (len(p) == 5 && p > "65535") || p[0] == '0' {
			return fmt.Errorf("%q has an invalid port", s)
		}
	}
	return nil
}

// ValidateTLSPin checks a pin's shape: TLSPinPrefix and the standard base64 of 32 bytes.
func ValidateTLSPin(pin string) error {
	b64, ok := strings.CutPrefix(pin, TLSPinPrefix)
	if !ok {
		return fmt.Errorf("must start with %q", TLSPinPrefix)
	}
	sum, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || base64.StdEncoding.EncodeToString(sum) != b64 {
		return errors.New("is not standard base64")
	}
	if len(sum) != sha256.Size {
		return fmt.Errorf("holds %d bytes, want %d", len(sum), sha256.Size)
	}
	return nil
}

// TLSPin returns the pin of a certificate: "sha256/" and the standard base64
// of the SHA-256 of its SubjectPublicKeyInfo DER. It survives a renewal that
// keeps the key.
func TLSPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return TLSPinPrefix + base64.StdEncoding.EncodeToString(sum[:])
}

// KeyID is a short, displayable name for a signing key: the hex of the first
// 8 bytes of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

func activationCheckVersion(field string, v int) error {
	switch {
	case v == ActivationVersion:
		return nil
	case v > ActivationVersion:
		return &ActivationError{
			Field:  field,
			Reason: fmt.Sprintf("version %d is not supported (this client understands version %d); update the client", v, ActivationVersion),
			Err:    ErrActivationVersion,
		}
	default:
		return activationInvalid(field, "is %d, want %d", v, ActivationVersion)
	}
}

func activationString(m map[string]json.RawMessage, key, field string) (string, error) {
	s, err := activationOptString(m, key, field)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", activationInvalid(field, "is missing")
	}
	return s, nil
}

func activationOptString(m map[string]json.RawMessage, key, field string) (string, error) {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", activationInvalid(field, "must be a string")
	}
	return s, nil
}

func activationInt(m map[string]json.RawMessage, key, field string) (int, error) {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return 0, activationInvalid(field, "is missing")
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, activationInvalid(field, "must be an integer")
	}
	return n, nil
}

func activationTime(m map[string]json.RawMessage, key, field string) (time.Time, error) {
	s, err := activationString(m, key, field)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, activationInvalid(field, "%q is not an RFC 3339 time", s)
	}
	return t, nil
}

// activationBase64 decodes a base64url (no padding) member; size -1 means any
// non-empty size up to the file limit.
func activationBase64(m map[string]json.RawMessage, key string, size int) ([]byte, error) {
	s, err := activationString(m, key, key)
	if err != nil {
		return nil, err
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || base64.RawURLEncoding.EncodeToString(b) != s {
		return nil, activationInvalid(key, "is not base64url without padding")
	}
	if size >= 0 && len(b) != size {
		return nil, activationInvalid(key, "is %d bytes, want %d", len(b), size)
	}
	if len(b) == 0 {
		return nil, activationInvalid(key, "is empty")
	}
	return b, nil
}
