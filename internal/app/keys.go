package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// KeyConfig is what the offline key commands (activator keys) are told:
// the part of Config that finds the database and the secret key.
type KeyConfig struct {
	DataDir, Database, SecretKeyFile string
}

func (c KeyConfig) keyFile() string {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile
	}
	return filepath.Join(c.dataDir(), "secret.key")
}

func (c KeyConfig) dataDir() string {
	if c.DataDir == "" {
		return "data"
	}
	return c.DataDir
}

// open opens the database and the secret key an existing activator uses;
// it creates neither.
func (c KeyConfig) open(ctx context.Context) (*store.Store, *secret.Box, error) {
	key, err := secret.LoadKey(c.keyFile())
	if err != nil {
		return nil, nil, err
	}
	box, err := secret.NewBox(key)
	if err != nil {
		return nil, nil, err
	}
	dsn := c.Database
	if dsn == "" {
		dsn = filepath.Join(c.dataDir(), "activator.db")
		if _, err := os.Stat(dsn); err != nil {
			return nil, nil, fmt.Errorf("no database at %s: %w", dsn, err)
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	return st, box, nil
}

// SecretKeyRotation says what RotateSecretKey did.
type SecretKeyRotation struct {
	KeyFile  string `json:"key_file"` // now holding the new key
	Backup   string `json:"backup"`   // the old key, kept
	Resealed int    `json:"resealed"` // sealed values now under the new key
	Resumed  bool   `json:"resumed"`  // an interrupted rotation had committed; only the key file was left to replace
}

// RotateSecretKey makes a new secret key and reseals every sealed value in
// the database with it in one transaction; then the new key file replaces
// the old, which is kept beside it. The new key is written (KeyFile.new)
// before the transaction commits, so a crash at any point leaves a key that
// opens the database: a second run finds KeyFile.new and finishes, or
// discards it when the transaction never committed. Every instance must be
// stopped (docs/security.md, "Keys").
func RotateSecretKey(ctx context.Context, c KeyConfig, progress store.ResealProgress, log *slog.Logger) (*SecretKeyRotation, error) {
	st, oldBox, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	path := c.keyFile()
	pending := secret.PendingKeyFile(path)
	res := &SecretKeyRotation{KeyFile: path}
	if key, err := secret.LoadKey(pending); err == nil {
		box, err := secret.NewBox(key)
		if err != nil {
			return nil, err
		}
		switch {
		case activation.SecretKeyOpens(ctx, st, box):
			log.Info("an earlier rotation committed but did not replace the key file; finishing it", "pending", pending)
			if res.Backup, err = secret.InstallPendingKey(path, time.Now()); err != nil {
				return nil, err
			}
			res.Resumed = true
			return res, nil
		case activation.SecretKeyOpens(ctx, st, oldBox):
			log.Info("discarding the new key of an earlier rotation that never committed", "pending", pending)
			if err := os.Remove(pending); err != nil {
				return nil, fmt.Errorf("removing %s: %w", pending, err)
			}
		default:
			return nil, fmt.Errorf("neither %s nor %s opens the database's signing key: this is not the key of this database", path, pending)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if !activation.SecretKeyOpens(ctx, st, oldBox) {
		return nil, fmt.Errorf("the key in %s does not open the database's signing key: this is not the key of this database", path)
	}
	key, err := secret.CreateKey(pending)
	if err != nil {
		return nil, err
	}
	newBox, err := secret.NewBox(key)
	if err != nil {
		return nil, err
	}
	if res.Resealed, err = activation.RotateSecretKey(ctx, st, oldBox, newBox, progress); err != nil {
		if rmErr := os.Remove(pending); rmErr != nil {
			log.Warn("could not remove the unused new key", "path", pending, "err", rmErr)
		}
		return nil, fmt.Errorf("rotating the secret key (the database is unchanged and %s still holds its key): %w", path, err)
	}
	if res.Backup, err = secret.InstallPendingKey(path, time.Now()); err != nil {
		return nil, fmt.Errorf("the database is sealed with the new key in %s, but: %w; run the rotation again to finish", pending, err)
	}
	return res, nil
}

// RotateSigningKey replaces the activation signing key with one the old key
// endorses (activation.RotateSigningKey). Every instance must be stopped,
// or all restarted at once afterwards: a running instance signs with the
// key it read at start.
func RotateSigningKey(ctx context.Context, c KeyConfig) (*activation.SigningRotation, error) {
	st, box, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return activation.RotateSigningKey(ctx, st, box)
}
