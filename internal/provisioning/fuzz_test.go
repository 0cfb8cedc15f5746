package provisioning

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"testing"
)

func FuzzParseActivation(f *testing.F) {
	key := testKey(f, 3)
	good := mustSign(f, testPayload(), key)
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte("{}"))
	f.Add([]byte("null"))
	f.Add(good[:len(good)/2])
	f.Add(bytes.Replace(good, []byte(`"version": 1`), []byte(`"version": 2`), 1))
	f.Add(bytes.Replace(good, []byte(`"format": "activator-activation"`), []byte(`"format": 1`), 1))
	f.Add(bytes.Replace(good, []byte(`"signature": "`), []byte(`"signature": "AA`), 1))
	pay := func(s string) []byte {
		return []byte(`{"format":"activator-activation","version":1,"payload":"` +
			base64.RawURLEncoding.EncodeToString([]byte(s)) + `","public_key":"` +
			base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey)) + `","signature":"` +
			base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(s))) + `"}`)
	}
	f.Add(pay(`{"version":1,"server":"https://a.example","token":"avl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","issued_at":"2025-01-01T00:00:00Z","expires_at":"2025-01-08T00:00:00Z"}`))
	f.Add(pay(`{"version":1,"server":"https://u@a.example?q#f","token":"avl_x","issued_at":"x","expires_at":"9999-12-31T23:59:59-01:00"}`))
	f.Add(pay(`[]`))

	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseActivation(data)
		if err != nil {
			if a != nil {
				t.Fatal("non-nil file with an error")
			}
			return
		}
		if len(a.PublicKey) != ed25519.PublicKeySize || !ed25519.Verify(a.PublicKey, a.Raw, a.Signature) {
			t.Fatal("accepted a file whose signature does not verify")
		}
		if err := a.Payload.Validate(); err != nil {
			t.Fatalf("accepted a payload that does not validate: %v", err)
		}
		p, err := activationDecodePayload(a.Raw)
		if err != nil {
			t.Fatalf("accepted payload does not decode again: %v", err)
		}
		if p.Token != a.Payload.Token || p.Server != a.Payload.Server || !p.ExpiresAt.Equal(a.Payload.ExpiresAt) {
			t.Fatal("payload decodes differently the second time")
		}
		// A server re-signing what it accepted must produce a file that parses the same.
		b, err := ParseActivation(mustSign(t, a.Payload, key))
		if err != nil {
			t.Fatalf("re-signed file refused: %v", err)
		}
		if b.Payload.Token != a.Payload.Token || b.Payload.Server != a.Payload.Server ||
			!b.Payload.IssuedAt.Equal(a.Payload.IssuedAt) || !b.Payload.ExpiresAt.Equal(a.Payload.ExpiresAt) ||
			b.Payload.TLSPin != a.Payload.TLSPin || b.Payload.DisplayName != a.Payload.DisplayName {
			t.Fatalf("re-signed payload differs: %+v vs %+v", b.Payload, a.Payload)
		}
	})
}
