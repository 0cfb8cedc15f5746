package provisioning

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testToken = "avl_abcdefghijklmnopqrstuvwxyz234567"

func testKey(t testing.TB, seed byte) ed25519.PrivateKey {
	t.Helper()
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func testPayload() ActivationPayload {
	issued := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	return ActivationPayload{
		Version:     1,
		Server:      "https://activate.example.com:8443/prov",
		Token:       testToken,
		IssuedAt:    issued,
		ExpiresAt:   issued.Add(7 * 24 * time.Hour),
		TLSPin:      "sha256/" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
		DisplayName: "Maria Rossi",
	}
}

func mustSign(t testing.TB, p ActivationPayload, key ed25519.PrivateKey) []byte {
	t.Helper()
	b, err := SignActivation(p, key)
	if err != nil {
		t.Fatalf("SignActivation: %v", err)
	}
	return b
}

// envelope decodes a file into a generic map so a test can tamper with it.
func envelope(t *testing.T, file []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(file, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t *testing.T, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resign replaces the payload with the given JSON, signed by key.
func resign(t *testing.T, payload string, key ed25519.PrivateKey) []byte {
	t.Helper()
	return encode(t, map[string]any{
		"format":     ActivationFormat,
		"version":    1,
		"payload":    base64.RawURLEncoding.EncodeToString([]byte(payload)),
		"public_key": base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
		"signature":  base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(payload))),
	})
}

func TestActivationRoundTrip(t *testing.T) {
	key := testKey(t, 1)
	p := testPayload()
	file := mustSign(t, p, key)

	f, err := ParseActivation(file)
	if err != nil {
		t.Fatalf("ParseActivation: %v", err)
	}
	if f.Payload.Server != p.Server || f.Payload.Token != p.Token || f.Payload.TLSPin != p.TLSPin ||
		f.Payload.DisplayName != p.DisplayName || f.Payload.Version != 1 ||
		!f.Payload.IssuedAt.Equal(p.IssuedAt) || !f.Payload.ExpiresAt.Equal(p.ExpiresAt) {
		t.Errorf("payload = %+v, want %+v", f.Payload, p)
	}
	if !f.PublicKey.Equal(key.Public()) {
		t.Error("public key differs from the signing key's")
	}
	if !ed25519.Verify(f.PublicKey, f.Raw, f.Signature) {
		t.Error("Raw and Signature do not verify")
	}

	// The file is the documented shape: indented, members in order.
	s := string(file)
	for _, want := range []string{`"format": "activator-activation"`, `"version": 1`, `"payload": "`, `"public_key": "`, `"signature": "`} {
		if !strings.Contains(s, want) {
			t.Errorf("file lacks %s:\n%s", want, s)
		}
	}
	wantPayload := `{"version":1,"server":"https://activate.example.com:8443/prov","token":"` + testToken +
		`","issued_at":"2025-03-14T09:26:53Z","expires_at":"2025-03-21T09:26:53Z","tls_pin":"` + p.TLSPin +
		`","display_name":"Maria Rossi"}`
	if string(f.Raw) != wantPayload {
		t.Errorf("payload bytes\n got %s\nwant %s", f.Raw, wantPayload)
	}
}

func TestActivationOptionalFields(t *testing.T) {
	p := testPayload()
	p.Version = 0 // filled in
	p.Server = "http://localhost:8080"
	p.TLSPin = ""
	p.DisplayName = ""
	p.IssuedAt = p.IssuedAt.In(time.FixedZone("CET", 3600))
	f, err := ParseActivation(mustSign(t, p, testKey(t, 2)))
	if err != nil {
		t.Fatalf("ParseActivation: %v", err)
	}
	if strings.Contains(string(f.Raw), "tls_pin") || strings.Contains(string(f.Raw), "display_name") {
		t.Errorf("empty optional fields were written: %s", f.Raw)
	}
	if !strings.Contains(string(f.Raw), `"issued_at":"2025-03-14T09:26:53Z"`) {
		t.Errorf("time not written in UTC: %s", f.Raw)
	}
	if f.Payload.Version != 1 {
		t.Errorf("version = %d, want 1", f.Payload.Version)
	}
}

func TestActivationTamperedPayload(t *testing.T) {
	key := testKey(t, 1)
	file := mustSign(t, testPayload(), key)
	m := envelope(t, file)
	raw, _ := base64.RawURLEncoding.DecodeString(m["payload"].(string))
	raw = bytes.Replace(raw, []byte("activate.example.com"), []byte("activate.evil.example"), 1)
	m["payload"] = base64.RawURLEncoding.EncodeToString(raw)

	_, err := ParseActivation(encode(t, m))
	if !errors.Is(err, ErrActivationSignature) {
		t.Fatalf("err = %v, want ErrActivationSignature", err)
	}
	var ae *ActivationError
	if !errors.As(err, &ae) || ae.Field != "signature" {
		t.Errorf("err = %#v, want field signature", err)
	}
}

func TestActivationWrongKey(t *testing.T) {
	file := mustSign(t, testPayload(), testKey(t, 1))
	m := envelope(t, file)
	m["public_key"] = base64.RawURLEncoding.EncodeToString(testKey(t, 2).Public().(ed25519.PublicKey))
	if _, err := ParseActivation(encode(t, m)); !errors.Is(err, ErrActivationSignature) {
		t.Fatalf("err = %v, want ErrActivationSignature", err)
	}
}

func TestActivationBroken(t *testing.T) {
	key := testKey(t, 1)
	good := mustSign(t, testPayload(), key)
	goodPayload := func(edit func(map[string]any)) []byte {
		m := map[string]any{}
		p := testPayload()
		b, _ := json.Marshal(activationPayloadWire{
			Version: 1, Server: p.Server, Token: p.Token,
			IssuedAt: p.IssuedAt.Format(time.RFC3339), ExpiresAt: p.ExpiresAt.Format(time.RFC3339),
			TLSPin: p.TLSPin, DisplayName: p.DisplayName,
		})
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		out, _ := json.Marshal(m)
		return resign(t, string(out), key)
	}
	withEnvelope := func(edit func(map[string]any)) []byte {
		m := envelope(t, good)
		edit(m)
		return encode(t, m)
	}

	tests := []struct {
		name  string
		file  []byte
		field string
		want  error
		text  string
	}{
		{"empty", nil, "", ErrActivationInvalid, "empty"},
		{"not json", []byte("hello"), "", ErrActivationInvalid, "JSON"},
		{"array", []byte("[1,2]"), "", ErrActivationInvalid, "JSON object"},
		{"null", []byte("null"), "", ErrActivationInvalid, "JSON object"},
		{"trailing data", append(append([]byte{}, good...), "{}"...), "", ErrActivationInvalid, "JSON"},
		{"not utf-8", []byte("{\"format\":\"\xff\"}"), "", ErrActivationInvalid, "UTF-8"},
		{"oversize", append(bytes.Repeat([]byte(" "), MaxActivationSize), good...), "", ErrActivationInvalid, "limit"},
		{"wrong format", withEnvelope(func(m map[string]any) { m["format"] = "linphone" }), "format", ErrActivationInvalid, "linphone"},
		{"no format", withEnvelope(func(m map[string]any) { delete(m, "format") }), "format", ErrActivationInvalid, "missing"},
		{"unknown version", withEnvelope(func(m map[string]any) { m["version"] = 2 }), "version", ErrActivationVersion, "update the client"},
		{"version zero", withEnvelope(func(m map[string]any) { m["version"] = 0 }), "version", ErrActivationInvalid, "want 1"},
		{"version string", withEnvelope(func(m map[string]any) { m["version"] = "1" }), "version", ErrActivationInvalid, "integer"},
		{"no version", withEnvelope(func(m map[string]any) { delete(m, "version") }), "version", ErrActivationInvalid, "missing"},
		{"bad base64 payload", withEnvelope(func(m map[string]any) { m["payload"] = "!!!not base64!!!" }), "payload", ErrActivationInvalid, "base64url"},
		{"padded base64", withEnvelope(func(m map[string]any) { m["public_key"] = m["public_key"].(string) + "=" }), "public_key", ErrActivationInvalid, "base64url"},
		{"std base64 signature", withEnvelope(func(m map[string]any) {
			sig, _ := base64.RawURLEncoding.DecodeString(m["signature"].(string))
			m["signature"] = base64.StdEncoding.EncodeToString(sig)
		}), "signature", ErrActivationInvalid, "base64url"},
		{"newline in base64", withEnvelope(func(m map[string]any) {
			s := m["payload"].(string)
			m["payload"] = s[:10] + "\n" + s[10:]
		}), "payload", ErrActivationInvalid, "base64url"},
		{"short key", withEnvelope(func(m map[string]any) { m["public_key"] = base64.RawURLEncoding.EncodeToString(make([]byte, 31)) }), "public_key", ErrActivationInvalid, "31 bytes"},
		{"short signature", withEnvelope(func(m map[string]any) { m["signature"] = base64.RawURLEncoding.EncodeToString(make([]byte, 63)) }), "signature", ErrActivationInvalid, "63 bytes"},
		{"key not a string", withEnvelope(func(m map[string]any) { m["public_key"] = 12 }), "public_key", ErrActivationInvalid, "string"},
		{"payload not object", resign(t, `"hello"`, key), "payload", ErrActivationInvalid, "JSON object"},
		{"payload null", resign(t, `null`, key), "payload", ErrActivationInvalid, "JSON object"},
		{"payload unknown version", goodPayload(func(m map[string]any) { m["version"] = 7 }), "payload.version", ErrActivationVersion, "version 7"},
		{"server ftp", goodPayload(func(m map[string]any) { m["server"] = "ftp://example.com" }), "payload.server", ErrActivationInvalid, "https://"},
		{"server relative", goodPayload(func(m map[string]any) { m["server"] = "/prov" }), "payload.server", ErrActivationInvalid, "https://"},
		{"server no host", goodPayload(func(m map[string]any) { m["server"] = "https:///prov" }), "payload.server", ErrActivationInvalid, "no host"},
		{"server userinfo", goodPayload(func(m map[string]any) { m["server"] = "https://admin:pw@example.com" }), "payload.server", ErrActivationInvalid, "user information"},
		{"server query", goodPayload(func(m map[string]any) { m["server"] = "https://example.com/?x=1" }), "payload.server", ErrActivationInvalid, "query"},
		{"server fragment", goodPayload(func(m map[string]any) { m["server"] = "https://example.com#top" }), "payload.server", ErrActivationInvalid, "fragment"},
		{"server trailing slash", goodPayload(func(m map[string]any) { m["server"] = "https://example.com/" }), "payload.server", ErrActivationInvalid, "end with /"},
		{"server bad port", goodPayload(func(m map[string]any) { m["server"] = "https://example.com:99999" }), "payload.server", ErrActivationInvalid, "port"},
		{"server missing", goodPayload(func(m map[string]any) { delete(m, "server") }), "payload.server", ErrActivationInvalid, "missing"},
		{"token shape", goodPayload(func(m map[string]any) { m["token"] = "avl_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" }), "payload.token", ErrActivationInvalid, "link token"},
		{"token device credential", goodPayload(func(m map[string]any) { m["token"] = "avd_abcdefghijklmnopqrstuvwxyz234567" }), "payload.token", ErrActivationInvalid, "link token"},
		{"token short", goodPayload(func(m map[string]any) { m["token"] = "avl_abc" }), "payload.token", ErrActivationInvalid, "link token"},
		{"issued_at bad", goodPayload(func(m map[string]any) { m["issued_at"] = "yesterday" }), "payload.issued_at", ErrActivationInvalid, "RFC 3339"},
		{"expires_at missing", goodPayload(func(m map[string]any) { delete(m, "expires_at") }), "payload.expires_at", ErrActivationInvalid, "missing"},
		{"expires before issued", goodPayload(func(m map[string]any) { m["expires_at"] = "2025-03-01T00:00:00Z" }), "payload.expires_at", ErrActivationInvalid, "not after"},
		{"tls pin shape", goodPayload(func(m map[string]any) { m["tls_pin"] = "sha1/abc" }), "payload.tls_pin", ErrActivationInvalid, "sha256/"},
		{"tls pin short", goodPayload(func(m map[string]any) { m["tls_pin"] = "sha256/" + base64.StdEncoding.EncodeToString(make([]byte, 20)) }), "payload.tls_pin", ErrActivationInvalid, "20 bytes"},
		{"tls pin on http", goodPayload(func(m map[string]any) { m["server"] = "http://example.com" }), "payload.tls_pin", ErrActivationInvalid, "not https"},
		{"display name control", goodPayload(func(m map[string]any) { m["display_name"] = "a\u0007b" }), "payload.display_name", ErrActivationInvalid, "control"},
		{"display name long", goodPayload(func(m map[string]any) { m["display_name"] = strings.Repeat("x", 300) }), "payload.display_name", ErrActivationInvalid, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseActivation(tt.file)
			if err == nil {
				t.Fatalf("accepted: %+v", f.Payload)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			var ae *ActivationError
			if !errors.As(err, &ae) {
				t.Fatalf("err %T is not *ActivationError", err)
			}
			if ae.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", ae.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
		})
	}
}

func TestActivationUnknownMembersIgnored(t *testing.T) {
	key := testKey(t, 1)
	p := testPayload()
	payload := `{"version":1,"server":"` + p.Server + `","token":"` + p.Token +
		`","issued_at":"2025-03-14T09:26:53Z","expires_at":"2025-03-21T09:26:53+01:00","future":{"x":1}}`
	m := envelope(t, resign(t, payload, key))
	m["comment"] = "added by a later minor revision"
	f, err := ParseActivation(encode(t, m))
	if err != nil {
		t.Fatalf("ParseActivation: %v", err)
	}
	if f.Payload.TLSPin != "" || f.Payload.DisplayName != "" {
		t.Errorf("payload = %+v", f.Payload)
	}
}

func TestSignActivationRefusesBadPayload(t *testing.T) {
	key := testKey(t, 1)
	p := testPayload()
	p.Server = "https://example.com/"
	if _, err := SignActivation(p, key); !errors.Is(err, ErrActivationInvalid) {
		t.Errorf("trailing slash: err = %v", err)
	}
	p = testPayload()
	p.Version = 2
	if _, err := SignActivation(p, key); !errors.Is(err, ErrActivationVersion) {
		t.Errorf("version 2: err = %v", err)
	}
	if _, err := SignActivation(testPayload(), key[:10]); err == nil {
		t.Error("short key accepted")
	}
}

func TestTLSPinAndKeyID(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "activate.example.com"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	pin := TLSPin(cert)
	if want := "sha256/" + base64.StdEncoding.EncodeToString(sum[:]); pin != want {
		t.Errorf("TLSPin = %s, want %s", pin, want)
	}
	if err := ValidateTLSPin(pin); err != nil {
		t.Errorf("ValidateTLSPin(%s): %v", pin, err)
	}

	pub := testKey(t, 1).Public().(ed25519.PublicKey)
	id := KeyID(pub)
	full := sha256.Sum256(pub)
	if id != hex.EncodeToString(full[:8]) {
		t.Errorf("KeyID = %q", id)
	}
	if id == KeyID(testKey(t, 2).Public().(ed25519.PublicKey)) {
		t.Error("two keys share a KeyID")
	}
}

// The sample in the device contract must stay a file clients accept.
func TestProtocolDocSample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "protocol.md"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("docs/protocol.md not present")
	}
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- sample-activation-file -->\n```json\n")
	if !ok {
		t.Fatal("docs/protocol.md has no sample activation file")
	}
	sample, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("sample activation file not closed")
	}
	f, err := ParseActivation([]byte(sample))
	if err != nil {
		t.Fatalf("the documented sample is refused: %v", err)
	}
	if !strings.Contains(string(doc), "`"+KeyID(f.PublicKey)+"`") {
		t.Errorf("docs/protocol.md does not give the sample's key ID %s", KeyID(f.PublicKey))
	}
	if !strings.Contains(string(doc), `"token": "`+f.Payload.Token+`"`) {
		t.Error("docs/protocol.md's decoded payload is not the sample's")
	}
}
