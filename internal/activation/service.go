// Package activation is activator's domain: groups, profiles, accounts and
// their secure links, from the CSR's entry to a device holding its
// configuration. It validates every input, decides every state change, and
// leaves SQL to the store and wire formats to the web layer.
package activation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Config wires a Service.
type Config struct {
	Store      *store.Store
	Box        *secret.Box        // seals SIP passwords
	SigningKey ed25519.PrivateKey // signs activation files
	Templates  *messaging.Templates
	// GatewayKinds are the kinds of gateway administrators can configure
	// (internal/app lists them); the domain knows no provider by name.
	GatewayKinds messaging.Kinds
	// ListenURL builds links until the public_base_url setting is set.
	ListenURL string
	// TLSPin is the server certificate's pin, put in activation files when TLS is on.
	TLSPin string
	// MaxAttempts is how many times a message is tried before it fails.
	MaxAttempts int
	// OnEnqueue is called after a message is committed to the queue, to wake the worker.
	OnEnqueue func()
	Logger    *slog.Logger
}

// Service carries out every activation use case.
type Service struct {
	store       *store.Store
	box         *secret.Box
	signingKey  ed25519.PrivateKey
	templates   *messaging.Templates
	kinds       messaging.Kinds
	listenURL   string
	tlsPin      string
	maxAttempts int
	onEnqueue   func()
	log         *slog.Logger
	org         int64
	cache       configCache
	now         func() time.Time
	sip         sipState // account backend (sip.go)
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{
		store: c.Store, box: c.Box, signingKey: c.SigningKey, templates: c.Templates, kinds: c.GatewayKinds,
		listenURL: c.ListenURL, tlsPin: c.TLSPin, maxAttempts: c.MaxAttempts, onEnqueue: c.OnEnqueue,
		log: c.Logger, org: model.DefaultOrgID, now: time.Now,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = 8
	}
	if s.onEnqueue == nil {
		s.onEnqueue = func() {}
	}
	return s
}

// PublicKey is the key that signs activation files.
func (s *Service) PublicKey() ed25519.PublicKey { return s.signingKey.Public().(ed25519.PublicKey) }

const signingKeyName = "activation_signing_key"

// BootstrapResult says what a first start created.
type BootstrapResult struct {
	SigningKey     ed25519.PrivateKey
	AdminTokenPath string // set when a new admin token was written
}

// Bootstrap makes what a first start needs and is a no-op afterwards: the
// default organisation and profile, the Ed25519 signing key (sealed in the
// database so every instance signs with the same key), and an admin API
// token written to dataDir/admin.token (mode 0600) of which only the hash is kept.
func Bootstrap(ctx context.Context, st *store.Store, box *secret.Box, dataDir string, log *slog.Logger) (*BootstrapResult, error) {
	res := &BootstrapResult{}
	var adminToken string
	err := st.Tx(ctx, func(tx *store.Tx) error {
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
			token, hash := secret.NewToken(secret.PrefixAdminToken)
			if _, err := tx.CreateAPIToken(ctx, model.DefaultOrgID, "admin (first start)", "admin", secret.Display(token), hash); err != nil {
				return fmt.Errorf("storing the admin token: %w", err)
			}
			adminToken = token
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sealed, err := st.ServerSecret(ctx, signingKeyName)
	if err != nil {
		return nil, fmt.Errorf("reading the signing key: %w", err)
	}
	seed, err := box.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("opening the signing key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("the stored signing key is damaged")
	}
	res.SigningKey = ed25519.NewKeyFromSeed(seed)
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

// Caller is who acts, for the timeline and authorisation.
type Caller struct {
	Name string
	Role string
	// OperatorID is the operator acting (console session or their API
	// token); 0 for the first-start token.
	OperatorID int64
}

// Authenticate finds the API token's caller.
func (s *Service) Authenticate(ctx context.Context, token string) (*Caller, error) {
	if !secret.WellFormed(token, secret.PrefixAdminToken) {
		return nil, &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: "a valid API token is required (Authorization: Bearer ava_...)"}
	}
	t, err := s.store.APITokenOwner(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: "the API token is unknown or revoked"}
	}
	if err != nil {
		return nil, fmt.Errorf("checking API token: %w", err)
	}
	if t.OperatorID != 0 { // an operator's token acts as the operator, with their current role
		if t.OperatorDisabled {
			return nil, &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: "the API token's operator is disabled"}
		}
		return &Caller{Name: t.OperatorName, Role: t.OperatorRole, OperatorID: t.OperatorID}, nil
	}
	return &Caller{Name: t.Name, Role: t.Role}, nil
}

// Permissions, and the roles that hold them.
const (
	PermRead     = "read"     // see everything
	PermAccounts = "accounts" // create, change and delete accounts; send and revoke their links
	PermConfig   = "config"   // change configuration: groups, profiles, downloads, settings, gateways, operators
	PermAudit    = "audit"    // read the audit log
)

// Roles lists every role.
var Roles = []string{"admin", "csr", "auditor"}

var rolePerms = map[string][]string{
	"admin":   {PermRead, PermAccounts, PermConfig, PermAudit},
	"csr":     {PermRead, PermAccounts},
	"auditor": {PermRead, PermAudit},
}

// RoleAllows reports whether role holds perm.
func RoleAllows(role, perm string) bool {
	for _, p := range rolePerms[role] {
		if p == perm {
			return true
		}
	}
	return false
}
