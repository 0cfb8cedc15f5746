package registrar

import (
	"context"
	"errors"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/store"
)

// Embedded is the account backend of activator's own registrar. The
// registrar reads the accounts table on every REGISTER, so there is nothing
// to copy; taking an account out drops its live bindings so calls stop
// reaching it at once.
//
// Its bindings are the account's, not its SIP domain's: when an
// organisation's SIP domain changes, the account is taken out of the old
// one and put into the new, and its bindings stay (its phone registers
// under the new realm at its next refresh).
type Embedded struct {
	Store    *store.Store
	Settings *activation.Settings // tells the username scope of a SIP domain
}

// Name implements activation.AccountBackend.
func (e *Embedded) Name() string { return "embedded" }

// Put implements activation.AccountBackend: the registrar reads the hashes itself.
func (e *Embedded) Put(context.Context, activation.SIPSubscriber) error { return nil }

// Remove implements activation.AccountBackend: it drops the bindings of
// the account username names at domain if that account may not register
// (disabled, not activated; a deleted one's went with it). A username and
// a domain name an account only as the SIP domains are now: after a
// domain changed, the old one may be no one's (the default realm is then
// searched) or another organisation's, whose account of that username is
// not the one taken out. Bindings of an account that may register are
// never dropped here, so neither loses its own.
func (e *Embedded) Remove(ctx context.Context, username, domain string) error {
	if e.Settings == nil {
		return errors.New("the embedded account backend has no settings to tell a SIP domain's accounts by")
	}
	names, err := e.Settings.Names(ctx)
	if err != nil {
		return err
	}
	realm, ok := names.Realm(domain)
	if !ok {
		realm = names.Default
	}
	a, err := lookupAccount(ctx, e.Store, realm, username)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted: its bindings went with it
	}
	if err != nil {
		return err
	}
	if a.Enabled {
		return nil
	}
	return e.Store.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.DeleteRegistrations(ctx, a.ID)
		return err
	})
}
