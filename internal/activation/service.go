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

// Service carries out the use cases not yet split out by concern.
type Service struct {
	store     *store.Store
	log       *slog.Logger
	org       int64
	settings  *Settings
	downloads *Downloads
	groups    *Groups
	profiles  *Profiles
	accounts  *Accounts
	gateways  *Gateways
	imports   *Imports
	operators *Operators
	now       func() time.Time
}

// newService returns the Service on the parts built before it.
func newService(c DomainConfig, d Domain) *Service {
	return &Service{
		settings: d.Settings, downloads: d.Downloads, groups: d.Groups, profiles: d.Profiles, accounts: d.Accounts, gateways: d.Gateways,
		imports: d.Imports, operators: d.Operators, store: c.Store, log: orDiscard(c.Logger), org: model.DefaultOrgID, now: time.Now,
	}
}
