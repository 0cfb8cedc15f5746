// Package activation is activator's domain: groups, profiles, accounts and
// their secure links, from the CSR's entry to a device holding its
// configuration. It validates every input, decides every state change, and
// leaves SQL to the store and wire formats to the web layer.
//
// The domain is a few parts, one per concern, each made by its own
// constructor from the parts it uses; NewDomain makes them all in order.
package activation

import (
	"log/slog"
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
	Service   *Service // the use cases not yet split out by concern
}

// NewDomain makes every part of the domain, each from the ones it uses.
func NewDomain(c DomainConfig) Domain {
	var d Domain
	d.Settings = NewSettings(c.Store, c.ListenURL)
	d.Downloads = NewDownloads(c.Store, d.Settings)
	d.Groups = NewGroups(c.Store)
	d.Profiles = NewProfiles(c.Store)
	d.Accounts = NewAccounts(AccountsConfig{Store: c.Store, Settings: d.Settings, Box: c.Box, Backend: c.Backend, Logger: c.Logger})
	d.Gateways = NewGateways(GatewaysConfig{Store: c.Store, Settings: d.Settings, Box: c.Box, Kinds: c.GatewayKinds, Logger: c.Logger})
	d.Links = NewLinks(LinksConfig{Store: c.Store, Settings: d.Settings, Gateways: d.Gateways, Templates: c.Templates,
		SigningKey: c.SigningKey, TLSPin: c.TLSPin, MaxAttempts: c.MaxAttempts, OnEnqueue: c.OnEnqueue, Logger: c.Logger})
	d.Devices = NewDevices(DevicesConfig{Store: c.Store, Settings: d.Settings, Accounts: d.Accounts, Box: c.Box, Logger: c.Logger})
	d.Messages = NewMessages(c.Store, d.Settings, c.Templates)
	d.Imports = NewImports(c.Store, d.Settings, d.Links, c.Logger)
	d.Operators = NewOperators(c.Store, d.Settings, c.Logger)
	d.Access = NewAccess(c.Store, c.Logger)
	d.Service = newService(c, d)
	return d
}

// orDiscard is log, or a logger that drops everything when there is none.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
