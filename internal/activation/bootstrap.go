package activation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Names of the server secrets (server_secrets), each sealed with the secret key.
const (
	signingKeyName = "activation_signing_key"
	keyChainName   = "activation_key_chain" // public, sealed like every server secret so one rule holds
)

// BootstrapResult says what a first start created.
type BootstrapResult struct {
	SigningKey     ed25519.PrivateKey
	KeyChain       []provisioning.KeyEndorsement // empty until the signing key is first rotated
	AdminTokenPath string                        // set when a new admin token was written
}

// Bootstrap makes what a first start needs and is a no-op afterwards: the
// default organisation and profile, the Ed25519 signing key (sealed in the
// database so every instance signs with the same key), and an admin API
// token written to dataDir/admin.token (mode 0600) of which only the hash is kept.
// That token is the provider admin's: whoever installs activator is its
// provider, and makes the organisations of their customers with it.
func Bootstrap(ctx context.Context, st *store.Store, box *secret.Box, dataDir string, log *slog.Logger) (*BootstrapResult, error) {
	res := &BootstrapResult{}
	var adminToken string
	err := st.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.LockBootstrap(ctx); err != nil {
			return err
		}
		if _, err := tx.EnsureOrganisation(ctx, model.DefaultOrgID, "default"); err != nil {
			return fmt.Errorf("creating the default organisation: %w", err)
		}
		if _, err := tx.DefaultProfile(ctx, model.DefaultOrgID); errors.Is(err, store.ErrNotFound) {
			p := &model.Profile{Name: "default", IsDefault: true, Settings: model.DefaultProfileSettings()}
			if err := tx.CreateProfile(ctx, model.DefaultOrgID, p); err != nil {
				return fmt.Errorf("creating the default profile: %w", err)
			}
			log.Info("created the default provisioning profile")
		} else if err != nil {
			return fmt.Errorf("reading the default profile: %w", err)
		}
		_, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			return fmt.Errorf("making the signing key: %w", err)
		}
		created, err := tx.PutServerSecretIfAbsent(ctx, signingKeyName, box.Seal(priv.Seed()))
		if err != nil {
			return fmt.Errorf("storing the signing key: %w", err)
		}
		if created {
			log.Info("created the activation signing key", "key_id", provisioning.KeyID(priv.Public().(ed25519.PublicKey)))
		}
		n, err := tx.CountAPITokens(ctx, model.DefaultOrgID)
		if err != nil {
			return fmt.Errorf("counting API tokens: %w", err)
		}
		if n == 0 {
			token, hash := secret.NewToken(secret.PrefixAPIToken)
			if _, err := tx.CreateAPIToken(ctx, model.DefaultOrgID, "admin (first start)", model.RoleProvider, secret.Display(token), hash); err != nil {
				return fmt.Errorf("storing the admin token: %w", err)
			}
			adminToken = token
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res.SigningKey, res.KeyChain, err = signingKey(ctx, &st.Reader, box); err != nil {
		return nil, err
	}
	if adminToken != "" {
		path := filepath.Join(dataDir, "admin.token")
		if err := writeSecretFile(path, adminToken+"\n"); err != nil {
			return nil, err
		}
		res.AdminTokenPath = path
	}
	return res, nil
}

func writeSecretFile(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// signingKey opens the activation signing key and its key chain, checking
// that the chain ends with the key.
func signingKey(ctx context.Context, r *store.Reader, box *secret.Box) (ed25519.PrivateKey, []provisioning.KeyEndorsement, error) {
	sealed, err := r.ServerSecret(ctx, signingKeyName)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the signing key: %w", err)
	}
	seed, err := box.Open(sealed)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the signing key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, nil, fmt.Errorf("the stored signing key is damaged")
	}
	key := ed25519.NewKeyFromSeed(seed)
	sealed, err = r.ServerSecret(ctx, keyChainName)
	if errors.Is(err, store.ErrNotFound) {
		return key, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the signing key's chain: %w", err)
	}
	plain, err := box.Open(sealed)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the signing key's chain: %w", err)
	}
	chain, err := provisioning.UnmarshalKeyChain(plain)
	if err != nil {
		return nil, nil, fmt.Errorf("the stored signing key's chain is damaged: %w", err)
	}
	if len(chain) > 0 && !chain[len(chain)-1].PublicKey.Equal(key.Public()) {
		return nil, nil, errors.New("the stored signing key's chain does not end with the signing key")
	}
	return key, chain, nil
}
