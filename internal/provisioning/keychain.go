package provisioning

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// A signing key rotation (activator keys rotate-signing) makes a new
// Ed25519 key and has the old key sign it: an endorsement. Activation files
// carry every endorsement since the first key, oldest first, as their
// key_chain member, so a client that pinned any earlier key can follow the
// chain to the key that signed the file (docs/protocol.md, section 4.5).

// endorsementContext starts every signed endorsement, so an endorsement
// signature can never be taken for an activation file's, or the reverse.
const endorsementContext = "activator signing key endorsement v1\x00"

// MaxKeyChain caps the chain a file may carry: one link per rotation.
const MaxKeyChain = 64

// KeyEndorsement is one link of a key chain: SignedBy, the key that was
// replaced, vouches for PublicKey, the key that replaced it.
type KeyEndorsement struct {
	PublicKey ed25519.PublicKey
	SignedBy  ed25519.PublicKey
	Signature []byte // SignedBy's signature over endorsementMessage(SignedBy, PublicKey)
}

func endorsementMessage(old, next ed25519.PublicKey) []byte {
	msg := make([]byte, 0, len(endorsementContext)+2*ed25519.PublicKeySize)
	msg = append(msg, endorsementContext...)
	msg = append(msg, old...)
	return append(msg, next...)
}

// Endorse has old vouch for next.
func Endorse(old ed25519.PrivateKey, next ed25519.PublicKey) KeyEndorsement {
	pub := old.Public().(ed25519.PublicKey)
	return KeyEndorsement{PublicKey: next, SignedBy: pub, Signature: ed25519.Sign(old, endorsementMessage(pub, next))}
}

// Verify reports whether the endorsement's signature holds.
func (e KeyEndorsement) Verify() bool {
	return len(e.PublicKey) == ed25519.PublicKeySize && len(e.SignedBy) == ed25519.PublicKeySize &&
		len(e.Signature) == ed25519.SignatureSize && ed25519.Verify(e.SignedBy, endorsementMessage(e.SignedBy, e.PublicKey), e.Signature)
}

// wireEndorsement is one member of key_chain.
type wireEndorsement struct {
	PublicKey string `json:"public_key"`
	SignedBy  string `json:"signed_by"`
	Signature string `json:"signature"`
}

func toWire(chain []KeyEndorsement) []wireEndorsement {
	out := make([]wireEndorsement, len(chain))
	for i, e := range chain {
		out[i] = wireEndorsement{
			PublicKey: base64.RawURLEncoding.EncodeToString(e.PublicKey),
			SignedBy:  base64.RawURLEncoding.EncodeToString(e.SignedBy),
			Signature: base64.RawURLEncoding.EncodeToString(e.Signature),
		}
	}
	return out
}

// MarshalKeyChain encodes a chain as key_chain holds it, for storing.
func MarshalKeyChain(chain []KeyEndorsement) ([]byte, error) {
	return json.Marshal(toWire(chain))
}

// UnmarshalKeyChain reads what MarshalKeyChain wrote and checks that it is
// a chain: every signature holds and each link starts where the last ended.
func UnmarshalKeyChain(data []byte) ([]KeyEndorsement, error) {
	var w []wireEndorsement
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("key chain: %w", err)
	}
	return chainFromWire(w, nil)
}

// chainFromWire decodes and checks a chain; with end set, its last link
// must endorse end.
func chainFromWire(w []wireEndorsement, end ed25519.PublicKey) ([]KeyEndorsement, error) {
	if len(w) > MaxKeyChain {
		return nil, activationInvalid("key_chain", "holds %d links, limit %d", len(w), MaxKeyChain)
	}
	dec := func(i int, member, s string, size int) ([]byte, error) {
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil || base64.RawURLEncoding.EncodeToString(b) != s || len(b) != size {
			return nil, activationInvalid(fmt.Sprintf("key_chain[%d].%s", i, member), "is not %d bytes of base64url without padding", size)
		}
		return b, nil
	}
	chain := make([]KeyEndorsement, len(w))
	for i, x := range w {
		var err error
		var e KeyEndorsement
		if e.PublicKey, err = dec(i, "public_key", x.PublicKey, ed25519.PublicKeySize); err != nil {
			return nil, err
		}
		if e.SignedBy, err = dec(i, "signed_by", x.SignedBy, ed25519.PublicKeySize); err != nil {
			return nil, err
		}
		if e.Signature, err = dec(i, "signature", x.Signature, ed25519.SignatureSize); err != nil {
			return nil, err
		}
		if !e.Verify() {
			return nil, &ActivationError{Field: fmt.Sprintf("key_chain[%d].signature", i), Reason: "does not verify with signed_by", Err: ErrActivationSignature}
		}
		if i > 0 && !e.SignedBy.Equal(chain[i-1].PublicKey) {
			return nil, activationInvalid(fmt.Sprintf("key_chain[%d].signed_by", i), "is not the key the link before endorsed")
		}
		chain[i] = e
	}
	if end != nil && len(chain) > 0 && !chain[len(chain)-1].PublicKey.Equal(end) {
		return nil, activationInvalid("key_chain", "does not end with public_key, the key that signed the file")
	}
	return chain, nil
}

// EndorsedBy reports whether trusted signed this file or, through the
// file's verified key chain, endorsed the key that did.
func (f *ActivationFile) EndorsedBy(trusted ed25519.PublicKey) bool {
	if f.PublicKey.Equal(trusted) {
		return true
	}
	for _, e := range f.Chain {
		if e.SignedBy.Equal(trusted) {
			return true // the chain is contiguous and ends with f.PublicKey
		}
	}
	return false
}
