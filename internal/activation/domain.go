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
	Service   *Service // the use cases not yet split out by concern
}

// NewDomain makes every part of the domain, each from the ones it uses.
func NewDomain(c DomainConfig) Domain {
	settings := NewSettings(c.Store, c.ListenURL)
	downloads := NewDownloads(c.Store, settings)
	groups := NewGroups(c.Store)
	profiles := NewProfiles(c.Store)
	accounts := NewAccounts(AccountsConfig{Store: c.Store, Settings: settings, Box: c.Box, Backend: c.Backend, Logger: c.Logger})
	gateways := NewGateways(GatewaysConfig{Store: c.Store, Settings: settings, Box: c.Box, Kinds: c.GatewayKinds, Logger: c.Logger})
	return Domain{
		Settings:  settings,
		Downloads: downloads,
		Groups:    groups,
		Profiles:  profiles,
		Accounts:  accounts,
		Gateways:  gateways,
		Service:   newService(c, settings, downloads, groups, profiles, accounts, gateways),
	}
}

// orDiscard is log, or a logger that drops everything when there is none.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
