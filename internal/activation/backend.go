package activation

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/activator-voip/activator/internal/store"
)

// AccountBackend is where SIP accounts live: activator's embedded registrar,
// or a Kamailio whose subscriber table activator keeps in step. Accounts is
// made with one and calls it after each commit that changes whether or how
// an account may register.
type AccountBackend interface {
	Name() string
	// Put lets the account register with these digest hashes.
	Put(ctx context.Context, sub SIPSubscriber) error
	// Remove stops the account registering (disabled, deleted, not activated).
	Remove(ctx context.Context, username, domain string) error
}

// SIPSubscriber is an account as a SIP server's credential store holds it:
// HA1 = H(username:realm:password), HA1B = MD5(username@domain:realm:password).
type SIPSubscriber struct {
	Username  string
	Domain    string // also the realm
	HA1       string // MD5
	HA1B      string
	HA1SHA256 string
}

// syncSIP puts an account's current state into the backend, after a commit.
// A failure is logged: the account's state is saved, and the next change or
// start brings the backend back in step.
func (s *Accounts) syncSIP(ctx context.Context, orgID int64, username string) {
	b := s.backend
	if b == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	st, err := s.settings.Current(ctx, orgID)
	if err != nil {
		s.log.ErrorContext(ctx, "sip backend: reading settings", "backend", b.Name(), "err", err)
		return
	}
	a, err := s.store.AccountByUsername(ctx, orgID, username)
	if errors.Is(err, store.ErrNotFound) {
		err = b.Remove(ctx, username, st.SIPDomain)
	} else if err == nil {
		err = s.syncAccount(ctx, b, st, a)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "sip backend: keeping the account in step", "backend", b.Name(), "username", username, "err", err)
	}
}

// putActivated puts an account a redeem has just activated into the
// backend from what the redeem wrote, without reading the account back
// and opening its sealed password: the redeem has them in hand. Like
// syncSIP it runs after the commit, so a change committed since is in
// the backend by the sync of that change.
func (s *Accounts) putActivated(ctx context.Context, st *Resolved, username, password, ha1MD5, ha1SHA256 string) {
	b := s.backend
	if b == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	hb := md5.Sum([]byte(username + "@" + st.SIPDomain + ":" + st.SIPDomain + ":" + password))
	err := b.Put(ctx, SIPSubscriber{Username: username, Domain: st.SIPDomain, HA1: ha1MD5, HA1B: hex.EncodeToString(hb[:]), HA1SHA256: ha1SHA256})
	if err != nil {
		s.log.ErrorContext(ctx, "sip backend: keeping the account in step", "backend", b.Name(), "username", username, "err", err)
	}
}

func (s *Accounts) syncAccount(ctx context.Context, b AccountBackend, st *Resolved, a *store.AccountRow) error {
	if !a.SIPEnabled || len(a.SIPPassword) == 0 {
		return b.Remove(ctx, a.Username, st.SIPDomain)
	}
	pw, err := s.box.Open(a.SIPPassword)
	if err != nil {
		return fmt.Errorf("opening the SIP password: %w", err)
	}
	hb := md5.Sum([]byte(a.Username + "@" + st.SIPDomain + ":" + st.SIPDomain + ":" + string(pw)))
	return b.Put(ctx, SIPSubscriber{Username: a.Username, Domain: st.SIPDomain, HA1: a.HA1MD5, HA1B: hex.EncodeToString(hb[:]), HA1SHA256: a.HA1SHA256})
}

// SyncBackend brings every account of an organisation into the backend:
// activated and enabled ones in, the others out. It runs at start.
func (s *Accounts) SyncBackend(ctx context.Context, orgID int64) (int, error) {
	b := s.backend
	if b == nil {
		return 0, nil
	}
	st, err := s.settings.Current(ctx, orgID)
	if err != nil {
		return 0, err
	}
	n := 0
	// By keyset, not offset: an offset walks every account it skips, so a
	// start with a million accounts read half a billion rows.
	for before := int64(0); ; {
		as, info, err := s.store.AccountsPage(ctx, orgID, store.AccountFilter{Limit: 1000, Before: before})
		if err != nil {
			return n, err
		}
		for _, acc := range as {
			a, err := s.store.AccountByID(ctx, acc.ID)
			if err != nil {
				return n, err
			}
			if err := s.syncAccount(ctx, b, st, a); err != nil {
				return n, fmt.Errorf("account %s: %w", a.Username, err)
			}
			n++
		}
		if info.Next == 0 {
			return n, nil
		}
		before = info.Next
	}
}
