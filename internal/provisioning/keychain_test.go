package provisioning

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"testing"
)

// A server that rotated its key twice signs with the third key and carries
// both endorsements; a client that pinned either earlier key, or the
// current one, finds it endorsed; a stranger's key is not.
func TestKeyChainCarriedAndFollowed(t *testing.T) {
	k1, k2, k3 := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	chain := []KeyEndorsement{Endorse(k1, k2.Public().(ed25519.PublicKey)), Endorse(k2, k3.Public().(ed25519.PublicKey))}
	file, err := SignActivationChain(testPayload(), k3, chain)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseActivation(file)
	if err != nil {
		t.Fatalf("ParseActivation: %v", err)
	}
	if len(f.Chain) != 2 {
		t.Fatalf("parsed chain has %d links, want 2", len(f.Chain))
	}
	for i, k := range []ed25519.PrivateKey{k1, k2, k3} {
		if !f.EndorsedBy(k.Public().(ed25519.PublicKey)) {
			t.Errorf("key %d does not lead to the file's key", i+1)
		}
	}
	if f.EndorsedBy(testKey(t, 9).Public().(ed25519.PublicKey)) {
		t.Error("a key outside the chain is taken as endorsing the file")
	}
	// A file without rotation has no chain and only its own key endorses it.
	plain, err := ParseActivation(mustSign(t, testPayload(), k1))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Chain != nil || plain.EndorsedBy(k2.Public().(ed25519.PublicKey)) {
		t.Error("a file without key_chain is endorsed by another key")
	}
}

// Forged chains are refused: a link signed by a key other than the one it
// names, a link the old key never signed (an attacker's own key made to
// look endorsed), a gap, and a chain that does not end at the file's key.
func TestKeyChainForgeriesRefused(t *testing.T) {
	k1, k2, k3 := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	evil := testKey(t, 66)
	pub := func(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }
	forged := Endorse(evil, pub(evil))
	forged.SignedBy = pub(k1) // claims k1 vouched for the attacker's key
	cases := map[string]struct {
		signer ed25519.PrivateKey
		chain  []KeyEndorsement
		field  string
	}{
		"signed by another key": {evil, []KeyEndorsement{forged}, "key_chain[0].signature"},
		"gap":                   {k3, []KeyEndorsement{Endorse(k1, pub(k2)), Endorse(evil, pub(k3))}, "key_chain[1].signed_by"},
		"ends elsewhere":        {k3, []KeyEndorsement{Endorse(k1, pub(k2))}, "key_chain"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := SignActivationChain(testPayload(), c.signer, c.chain); err == nil {
				t.Error("SignActivationChain signed with a broken chain")
			}
			// Build the file by hand, as an attacker would.
			file := mustSign(t, testPayload(), c.signer)
			m := envelope(t, file)
			m["key_chain"] = toWire(c.chain)
			_, err := ParseActivation(encode(t, m))
			var ae *ActivationError
			if !errors.As(err, &ae) || ae.Field != c.field {
				t.Fatalf("ParseActivation = %v, want an error on %s", err, c.field)
			}
		})
	}
	// A valid link with its signature bytes changed.
	file := mustSign(t, testPayload(), k2)
	m := envelope(t, file)
	w := toWire([]KeyEndorsement{Endorse(k1, pub(k2))})
	sig, _ := base64.RawURLEncoding.DecodeString(w[0].Signature)
	sig[0] ^= 1
	w[0].Signature = base64.RawURLEncoding.EncodeToString(sig)
	m["key_chain"] = w
	if _, err := ParseActivation(encode(t, m)); !errors.Is(err, ErrActivationSignature) {
		t.Fatalf("a tampered endorsement: %v, want ErrActivationSignature", err)
	}
	m["key_chain"] = "not a list"
	if _, err := ParseActivation(encode(t, m)); !errors.Is(err, ErrActivationInvalid) {
		t.Fatalf("key_chain not a list: %v, want ErrActivationInvalid", err)
	}
}

func TestKeyChainStoredForm(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	chain := []KeyEndorsement{Endorse(k1, k2.Public().(ed25519.PublicKey))}
	b, err := MarshalKeyChain(chain)
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalKeyChain(b)
	if err != nil || len(back) != 1 || !back[0].PublicKey.Equal(chain[0].PublicKey) {
		t.Fatalf("UnmarshalKeyChain = %v, %v", back, err)
	}
	b[len(b)-5] ^= 1 // inside the last signature's base64
	if _, err := UnmarshalKeyChain(b); err == nil {
		t.Error("a damaged stored chain was accepted")
	}
}
