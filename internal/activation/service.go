package activation

import (
	"crypto/ed25519"
	"log/slog"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// DomainConfig is what the domain is built from.
type DomainConfig struct {
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
	// Backend is where SIP accounts live, kept in step with every change
	// (internal/sip); nil keeps none.
	Backend AccountBackend
	Logger  *slog.Logger
}

// Service carries out every activation use case.
type Service struct {
	store       *store.Store
	box         *secret.Box
	signingKey  ed25519.PrivateKey
	templates   *messaging.Templates
	listenURL   string
	tlsPin      string
	maxAttempts int
	onEnqueue   func()
	log         *slog.Logger
	org         int64
	settings    *Settings
	downloads   *Downloads
	groups      *Groups
	profiles    *Profiles
	accounts    *Accounts
	gateways    *Gateways
	now         func() time.Time
}

// newService returns the Service.
func newService(c DomainConfig, settings *Settings, downloads *Downloads, groups *Groups, profiles *Profiles, accounts *Accounts, gateways *Gateways) *Service {
	s := &Service{
		settings: settings, downloads: downloads, groups: groups, profiles: profiles, accounts: accounts, gateways: gateways,
		store: c.Store, box: c.Box, signingKey: c.SigningKey, templates: c.Templates,
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
