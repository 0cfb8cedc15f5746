package activation

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

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
	if err := b.Put(ctx, subscriber(username, st.SIPDomain, password, ha1MD5, ha1SHA256)); err != nil {
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
	return b.Put(ctx, subscriber(a.Username, st.SIPDomain, string(pw), a.HA1MD5, a.HA1SHA256))
}

// subscriber is an account as the backend holds it at domain, from its
// password and its digest hashes made with that domain.
func subscriber(username, domain, password, ha1MD5, ha1SHA256 string) SIPSubscriber {
	hb := md5.Sum([]byte(username + "@" + domain + ":" + domain + ":" + password))
	return SIPSubscriber{Username: username, Domain: domain, HA1: ha1MD5, HA1B: hex.EncodeToString(hb[:]), HA1SHA256: ha1SHA256}
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

// rehashBatch is how many accounts one transaction of Rehash re-hashes.
const rehashBatch = 1000

// rehashed is an account Rehash gave new digest hashes, for the backend.
type rehashed struct {
	id                 int64
	username, password string
	ha1MD5, ha1SHA256  string
	oldRealm           string // "": not known
	enabled            bool
}

// Rehash makes the digest hashes of an organisation's accounts agree with
// its SIP domain, the realm a registrar challenges them with. A hash is
// H(username:realm:password), so when the domain changes (its sip_domain,
// or the public_base_url or listen address it falls back to), every
// account's stored hashes stop matching what its phone answers. Rehash
// re-computes them from each account's sealed SIP password, for the
// accounts whose hashes were made with another realm (ha1_realm) or an
// unknown one (made before the realm was kept: compared, and the realm
// recorded either way), 1,000 accounts a transaction, by keyset. Then it
// moves each re-hashed account in the backend: out of its old domain,
// unless that is now another account's (backendOwner), and into the new
// one if it may register. It runs at start and after each change of an
// organisation's SIP domain, and returns how many accounts got new hashes.
//
// An account whose password changes meanwhile keeps the hashes its
// writer stored. One whose password does not open is logged and skipped;
// the next start tries it again.
func (s *Accounts) Rehash(ctx context.Context, orgID int64) (int, error) {
	st, err := s.settings.Current(ctx, orgID)
	if err != nil {
		return 0, err
	}
	realm := st.SIPDomain
	if realm == "" {
		return 0, nil // no domain to hash with: the empty realm is what ha1_realm says is unknown
	}
	n := 0
	for after := int64(0); ; {
		page, err := s.store.StaleDigests(ctx, orgID, realm, after, rehashBatch)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			return n, nil
		}
		after = page[len(page)-1].ID
		var (
			ds    []store.Digest
			moved []rehashed
		)
		for _, a := range page {
			pw, err := s.box.Open(a.SIPPassword)
			if err != nil {
				s.log.ErrorContext(ctx, "re-hashing a SIP digest: opening the SIP password", "organisation", orgID, "username", a.Username, "err", err)
				continue
			}
			md5h, sha := ha1(a.Username, realm, string(pw))
			ds = append(ds, store.Digest{AccountID: a.ID, SealedPassword: a.SIPPassword, HA1MD5: md5h, HA1SHA256: sha})
			if md5h != a.HA1MD5 || sha != a.HA1SHA256 {
				moved = append(moved, rehashed{id: a.ID, username: a.Username, password: string(pw), ha1MD5: md5h, ha1SHA256: sha,
					oldRealm: a.HA1Realm, enabled: a.SIPEnabled})
			}
		}
		var done map[int64]bool
		err = s.store.Tx(ctx, func(tx *store.Tx) error {
			var err error
			done, err = tx.SetDigests(ctx, realm, ds)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("re-hashing SIP digests: %w", err)
		}
		// An account whose password changed since the read keeps the
		// hashes its writer stored.
		moved = slices.DeleteFunc(moved, func(a rehashed) bool { return !done[a.id] })
		n += len(moved)
		if len(moved) > 0 {
			s.log.InfoContext(ctx, "SIP digests re-hashed for the SIP domain", "organisation", orgID, "sip_domain", realm, "accounts", len(moved))
		}
		s.moveInBackend(ctx, realm, moved)
	}
}

// rehashAfterChange is Rehash right after a change of the organisation's
// SIP domain, whose commit it does not undo: a failure is logged, and the
// next start re-hashes what is left.
func (s *Accounts) rehashAfterChange(ctx context.Context, orgID int64) {
	ctx = context.WithoutCancel(ctx)
	if _, err := s.Rehash(ctx, orgID); err != nil {
		s.log.ErrorContext(ctx, "re-hashing SIP digests for the new SIP domain; the next start does it", "organisation", orgID, "err", err)
	}
}

// moveInBackend takes re-hashed accounts out of the backend under their
// old domain and puts them under domain. A failure is logged, as syncSIP's:
// the hashes are stored, and the next start's SyncBackend puts every
// account again.
func (s *Accounts) moveInBackend(ctx context.Context, domain string, moved []rehashed) {
	b := s.backend
	if b == nil || len(moved) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	names, err := s.settings.Names(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "sip backend: reading the SIP domains", "backend", b.Name(), "err", err)
		return
	}
	for _, a := range moved {
		if a.oldRealm != "" && a.oldRealm != domain {
			theirs, err := s.backendOwner(ctx, names, a.oldRealm, a.username, a.id)
			if err == nil && !theirs {
				err = b.Remove(ctx, a.username, a.oldRealm)
			}
			if err != nil {
				s.log.ErrorContext(ctx, "sip backend: taking the account out of its old SIP domain", "backend", b.Name(), "username", a.username,
					"sip_domain", a.oldRealm, "err", err)
			}
		}
		if a.enabled {
			if err := b.Put(ctx, subscriber(a.username, domain, a.password, a.ha1MD5, a.ha1SHA256)); err != nil {
				s.log.ErrorContext(ctx, "sip backend: keeping the account in step", "backend", b.Name(), "username", a.username, "err", err)
			}
		}
	}
}

// backendOwner reports whether username at domain, which the account id
// left, is now another account's: one of the organisations using domain
// has an account of that username. The backend's entry for it is then
// that account's, not to be removed.
func (s *Accounts) backendOwner(ctx context.Context, names *OrgNames, domain, username string, id int64) (bool, error) {
	r, ok := names.Realm(domain)
	if !ok {
		return false, nil
	}
	for _, scope := range r.Scopes {
		a, err := s.store.SIPAccountByUsername(ctx, scope, username)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if a.ID != id && r.Has(a.OrgID) {
			return true, nil
		}
	}
	return false, nil
}
