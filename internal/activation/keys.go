package activation

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Key rotations run with every instance stopped (docs/security.md, "Keys"):
// a running instance keeps the keys it read at start, so it would go on
// sealing with the old secret key, or signing with the old signing key,
// after the database moved on.

// RotateSecretKey opens every value sealed with old and seals it again with
// next, in one transaction: either every sealed value is under next, or,
// on any error, none is. Before committing it checks that the signing key
// opens with next. It returns how many values it resealed.
func RotateSecretKey(ctx context.Context, st *store.Store, old, next *secret.Box, progress store.ResealProgress) (int, error) {
	var n int
	err := st.Tx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.Reseal(ctx, func(sealed []byte) ([]byte, error) {
			plain, err := old.Open(sealed)
			if err != nil {
				return nil, err
			}
			return next.Seal(plain), nil
		}, progress)
		if err != nil {
			return fmt.Errorf("resealing: %w", err)
		}
		if _, _, err := signingKey(ctx, &tx.Reader, next); err != nil {
			return fmt.Errorf("checking the resealed database: %w", err)
		}
		return nil
	})
	return n, err
}

// SecretKeyOpens reports whether box opens the database's signing key:
// whether the database is sealed with box's key.
func SecretKeyOpens(ctx context.Context, st *store.Store, box *secret.Box) bool {
	_, _, err := signingKey(ctx, &st.Reader, box)
	return err == nil
}

// SigningRotation says what RotateSigningKey did.
type SigningRotation struct {
	OldKeyID    string `json:"old_key_id"`
	NewKeyID    string `json:"new_key_id"`
	ChainLength int    `json:"chain_length"` // endorsements activation files now carry
}

// RotateSigningKey replaces the activation signing key with a new one that
// the old key endorses, and appends the endorsement to the key chain, in
// one transaction. Devices that pinned any earlier key follow the chain
// (docs/protocol.md, section 4.5).
func RotateSigningKey(ctx context.Context, st *store.Store, box *secret.Box) (*SigningRotation, error) {
	var rot *SigningRotation
	err := st.Tx(ctx, func(tx *store.Tx) error {
		old, chain, err := signingKey(ctx, &tx.Reader, box)
		if err != nil {
			return err
		}
		pub, next, err := ed25519.GenerateKey(nil)
		if err != nil {
			return fmt.Errorf("making the signing key: %w", err)
		}
		chain = append(chain, provisioning.Endorse(old, pub))
		enc, err := provisioning.MarshalKeyChain(chain)
		if err != nil {
			return fmt.Errorf("encoding the key chain: %w", err)
		}
		if err := tx.PutServerSecret(ctx, keyChainName, box.Seal(enc)); err != nil {
			return fmt.Errorf("storing the key chain: %w", err)
		}
		if err := tx.PutServerSecret(ctx, signingKeyName, box.Seal(next.Seed())); err != nil {
			return fmt.Errorf("storing the signing key: %w", err)
		}
		rot = &SigningRotation{OldKeyID: provisioning.KeyID(old.Public().(ed25519.PublicKey)), NewKeyID: provisioning.KeyID(pub), ChainLength: len(chain)}
		return nil
	})
	return rot, err
}
