// Package activation is activator's domain: groups, profiles, accounts and
// their secure links, from the CSR's entry to a device holding its
// configuration. It validates every input, decides every state change, and
// leaves SQL to the store and wire formats to the web layer.
//
// The domain is a few parts, one per concern, each made by its own
// constructor from the parts it uses; NewDomain makes them all in order.
package activation

import (
	"context"
	"crypto/ed25519"
	"log/slog"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Domain groups the parts of the domain for the layers that call them
// (internal/web, its console and audit, internal/app). It has no
// behaviour of its own.
type Domain struct {
	Settings  *Settings
	Downloads *Downloads
	Groups    *Groups
	Profiles  *Profiles
	Accounts  *Accounts
	Gateways  *Gateways
	Links     *Links
	Devices   *Devices
	Messages  *Messages
	Imports   *Imports
	Operators *Operators
	Access    *Access
	Audit     *Audit
	Snapshots *Snapshots
	Dashboard *Dashboard
	Exports   *Exports
	// Organisations is the provider's: every organisation, and acting
	// inside one.
	Organisations *Organisations
}

// DomainConfig is what the domain is built from.
type DomainConfig struct {
	Store      *store.Store
	Box        *secret.Box                   // seals SIP passwords, gateway settings and message texts
	SigningKey ed25519.PrivateKey            // signs activation files
	KeyChain   []provisioning.KeyEndorsement // the signing key's endorsements (BootstrapResult.KeyChain)
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
	// (internal/sip/registrar, internal/sip/kamailio); nil keeps none.
	Backend AccountBackend
	// ExportDir is where exports run as jobs write their files (the data
	// folder's exports); empty: such exports are refused.
	ExportDir string
	Logger    *slog.Logger
}

// NewDomain makes every part of the domain, each from the ones it uses.
func NewDomain(c DomainConfig) Domain {
	var d Domain
	// Settings comes first, and a change of an organisation's SIP domain
	// re-hashes its accounts' digests: it calls Accounts, made below.
	d.Settings = NewSettings(c.Store, c.ListenURL, func(ctx context.Context, orgID int64) { d.Accounts.rehashAfterChange(ctx, orgID) })
	d.Downloads = NewDownloads(c.Store, d.Settings)
	d.Groups = NewGroups(c.Store)
	d.Profiles = NewProfiles(c.Store)
	d.Accounts = NewAccounts(AccountsConfig{Store: c.Store, Settings: d.Settings, Box: c.Box, Backend: c.Backend, Logger: c.Logger})
	d.Gateways = NewGateways(GatewaysConfig{Store: c.Store, Settings: d.Settings, Box: c.Box, Kinds: c.GatewayKinds, Logger: c.Logger})
	d.Links = NewLinks(LinksConfig{Store: c.Store, Settings: d.Settings, Gateways: d.Gateways, Templates: c.Templates, Box: c.Box,
		SigningKey: c.SigningKey, KeyChain: c.KeyChain, TLSPin: c.TLSPin, MaxAttempts: c.MaxAttempts, OnEnqueue: c.OnEnqueue, Logger: c.Logger})
	d.Devices = NewDevices(DevicesConfig{Store: c.Store, Settings: d.Settings, Accounts: d.Accounts, Box: c.Box, Logger: c.Logger})
	d.Messages = NewMessages(c.Store, c.Box, d.Settings, c.Templates)
	d.Imports = NewImports(c.Store, d.Settings, d.Links, c.Logger)
	d.Operators = NewOperators(c.Store, d.Settings, c.Logger)
	d.Access = NewAccess(c.Store, d.Settings, c.Logger)
	d.Audit = NewAudit(c.Store)
	d.Organisations = NewOrganisations(c.Store, d.Settings, c.Logger)
	d.Snapshots = NewSnapshots(SnapshotsConfig{Store: c.Store, Settings: d.Settings, Downloads: d.Downloads, Groups: d.Groups,
		Profiles: d.Profiles, Gateways: d.Gateways, Imports: d.Imports, Operators: d.Operators, Orgs: d.Organisations, Messages: d.Messages})
	d.Dashboard = NewDashboard(c.Store, d.Audit, d.Accounts)
	d.Exports = NewExports(c.Store, d.Accounts, d.Audit, c.ExportDir, c.Logger)
	return d
}

// orDiscard is log, or a logger that drops everything when there is none.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
