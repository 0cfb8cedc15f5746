package activation

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// recordingBackend is an account backend that keeps what it is told.
type recordingBackend struct {
	mu   sync.Mutex
	puts []SIPSubscriber
}

func (b *recordingBackend) Name() string { return "recording" }

func (b *recordingBackend) Put(_ context.Context, s SIPSubscriber) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.puts = append(b.puts, s)
	return nil
}

func (b *recordingBackend) Remove(context.Context, string, string) error { return nil }

// A redeem puts the account it activated into the backend with the
// digest hashes of the password it answered, from the redeem's own
// values: they are those a read of the account gives.
func TestRedeemPutsTheActivatedAccountIntoTheBackend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		b := &recordingBackend{}
		dom.Accounts.backend = b
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		resp, err := dom.Devices.Redeem(ctx, redeemReq(sendToken(t, dom, a.Username, model.LinkActivation)))
		if err != nil {
			t.Fatal(err)
		}
		acc := resp.Config.Account
		md5hex := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
		sha := sha256.Sum256([]byte(acc.Username + ":" + acc.SIPDomain + ":" + acc.Password))
		want := SIPSubscriber{Username: a.Username, Domain: acc.SIPDomain,
			HA1:       md5hex(acc.Username + ":" + acc.SIPDomain + ":" + acc.Password),
			HA1B:      md5hex(acc.Username + "@" + acc.SIPDomain + ":" + acc.SIPDomain + ":" + acc.Password),
			HA1SHA256: hex.EncodeToString(sha[:])}
		if len(b.puts) != 1 || b.puts[0] != want {
			t.Fatalf("the backend after a redeem: %+v, want one put of %+v", b.puts, want)
		}
		// What a sync from the stored account puts is the same.
		dom.Accounts.syncSIP(ctx, model.DefaultOrgID, a.Username)
		if len(b.puts) != 2 || b.puts[1] != want {
			t.Fatalf("a sync after the redeem: %+v, want %+v", b.puts[1:], want)
		}
	})
}

// subscriberTable is an account backend keyed as Kamailio's subscriber
// table is, by username and domain.
type subscriberTable struct {
	mu   sync.Mutex
	rows map[[2]string]SIPSubscriber
}

func (b *subscriberTable) Name() string { return "table" }

func (b *subscriberTable) Put(_ context.Context, s SIPSubscriber) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rows[[2]string{s.Username, s.Domain}] = s
	return nil
}

func (b *subscriberTable) Remove(_ context.Context, username, domain string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.rows, [2]string{username, domain})
	return nil
}

// domains lists the domains username has a row under.
func (b *subscriberTable) domains(username string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for k := range b.rows {
		if k[0] == username {
			out = append(out, k[1])
		}
	}
	return out
}

// digestsOf is H(username:realm:password) with MD5 and SHA-256.
func digestsOf(username, realm, password string) (string, string) {
	m := md5.Sum([]byte(username + ":" + realm + ":" + password))
	s := sha256.Sum256([]byte(username + ":" + realm + ":" + password))
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

// An account's digest hashes are H(username:realm:password), the realm
// its organisation's SIP domain. Changing that domain, by its sip_domain
// or by the public_base_url it falls back to, re-hashes the account from
// its sealed password at once, so that its phone's answer to the new
// realm's challenge matches, and moves it in the backend from the old
// domain to the new.
func TestChangingTheSIPDomainRehashesTheDigests(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		b := &subscriberTable{rows: map[[2]string]SIPSubscriber{}}
		dom.Accounts.backend = b
		set := func(key, value string) {
			t.Helper()
			if _, err := dom.Settings.Set(ctx, key, value, admin); err != nil {
				t.Fatalf("setting %s to %q: %v", key, value, err)
			}
		}
		set(model.SettingSIPDomain, "a.example")
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		resp, err := dom.Devices.Redeem(ctx, redeemReq(sendToken(t, dom, a.Username, model.LinkActivation)))
		if err != nil {
			t.Fatal(err)
		}
		password := resp.Config.Account.Password
		check := func(realm string) {
			t.Helper()
			row, err := st.AccountByUsername(ctx, model.DefaultOrgID, a.Username)
			if err != nil {
				t.Fatal(err)
			}
			m, s := digestsOf(a.Username, realm, password)
			if row.HA1MD5 != m || row.HA1SHA256 != s || row.HA1Realm != realm {
				t.Errorf("stored digest: md5 %s, sha-256 %s, realm %q; want those of realm %q (%s, %s)",
					row.HA1MD5, row.HA1SHA256, row.HA1Realm, realm, m, s)
			}
			if got := b.domains(a.Username); len(got) != 1 || got[0] != realm {
				t.Errorf("the backend holds %s under %v, want under %s only", a.Username, got, realm)
			} else if sub := b.rows[[2]string{a.Username, realm}]; sub.HA1 != m || sub.HA1SHA256 != s {
				t.Errorf("the backend's %s@%s: %+v, want the hashes of realm %s", a.Username, realm, sub, realm)
			}
		}
		check("a.example")

		set(model.SettingSIPDomain, "b.example")
		check("b.example")
		// Without a sip_domain the domain is the public base URL's host.
		set(model.SettingPublicBaseURL, "https://c.example")
		check("b.example")
		set(model.SettingSIPDomain, "")
		check("c.example")
		set(model.SettingPublicBaseURL, "https://d.example:8443")
		check("d.example")

		// A new password after the change is hashed with the new realm.
		if _, err := dom.Devices.RevokeKeys(ctx, a.Username, admin); err != nil {
			t.Fatal(err)
		}
		row, err := st.AccountByUsername(ctx, model.DefaultOrgID, a.Username)
		if err != nil {
			t.Fatal(err)
		}
		if row.HA1Realm != "d.example" {
			t.Errorf("realm of the hashes of the password revoke-keys made: %q, want d.example", row.HA1Realm)
		}
	})
}

// At start, Rehash re-hashes the accounts whose hashes are of another
// realm than their organisation's SIP domain (the listen address it fell
// back to changed while the server was stopped) or of an unknown one
// (made before the realm was kept), and records the realm of those whose
// hashes were right, so that the next start skips them.
func TestRehashAtStartFixesStaleAndUnknownRealms(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		b := &subscriberTable{rows: map[[2]string]SIPSubscriber{}}
		dom.Accounts.backend = b
		if _, err := dom.Settings.Set(ctx, model.SettingSIPDomain, "sip.example", admin); err != nil {
			t.Fatal(err)
		}
		mustGroup(t, dom, "sales")
		box := testBox(t)
		// Three activated accounts as an earlier state left them: one of a
		// stale realm, one of no known realm hashed with an old domain, one
		// of no known realm hashed with the current domain.
		cases := []struct{ hashedWith, realm string }{{"old.example", "old.example"}, {"old.example", ""}, {"sip.example", ""}}
		var users []string
		for i, c := range cases {
			a := mustAccount(t, dom)
			users = append(users, a.Username)
			pw := fmt.Sprintf("password-%d", i)
			m, s := digestsOf(a.Username, c.hashedWith, pw)
			if err := st.Tx(ctx, func(tx *store.Tx) error {
				return tx.ActivateAccount(ctx, a.ID, box.Seal([]byte(pw)), m, s, c.realm, time.Now())
			}); err != nil {
				t.Fatal(err)
			}
			if err := b.Put(ctx, subscriber(a.Username, c.hashedWith, pw, m, s)); err != nil {
				t.Fatal(err)
			}
		}
		n, err := dom.Accounts.Rehash(ctx, model.DefaultOrgID)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("Rehash re-hashed %d accounts, want 2 (the third's hashes were right)", n)
		}
		for i, u := range users {
			row, err := st.AccountByUsername(ctx, model.DefaultOrgID, u)
			if err != nil {
				t.Fatal(err)
			}
			m, s := digestsOf(u, "sip.example", fmt.Sprintf("password-%d", i))
			if row.HA1MD5 != m || row.HA1SHA256 != s || row.HA1Realm != "sip.example" {
				t.Errorf("account %d (hashed with %s, realm %q) after Rehash: realm %q, hashes of sip.example %v",
					i, cases[i].hashedWith, cases[i].realm, row.HA1Realm, row.HA1MD5 == m && row.HA1SHA256 == s)
			}
		}
		// The stale realm's row is taken out of the old domain; a row of an
		// unknown realm cannot be, its old domain is not known.
		want := [][]string{{"sip.example"}, {"old.example", "sip.example"}, {"sip.example"}}
		for i, u := range users {
			got := b.domains(u)
			slices.Sort(got)
			if !slices.Equal(got, want[i]) {
				t.Errorf("account %d in the backend under %v, want %v", i, got, want[i])
			}
		}
		if n, err := dom.Accounts.Rehash(ctx, model.DefaultOrgID); err != nil || n != 0 {
			t.Errorf("a second Rehash: %d, %v; want nothing to do", n, err)
		}
	})
}

// An organisation's old SIP domain may be another's by the time its
// accounts are re-hashed (a change whose re-hash did not finish, the
// domain taken since): the backend's row of a username at that domain is
// then the other organisation's account's, and stays, while the account
// that left is put under its organisation's domain.
func TestRehashLeavesTheOldDomainsRowOfItsNewOwner(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		b := &subscriberTable{rows: map[[2]string]SIPSubscriber{}}
		dom.Accounts.backend = b
		provider := Caller{Name: "test", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
		org := func(slug, domain string) int64 {
			t.Helper()
			o, err := dom.Organisations.Create(ctx, model.OrganisationInput{Name: &slug, Slug: &slug, SIPDomain: &domain}, provider)
			if err != nil {
				t.Fatal(err)
			}
			return o.ID
		}
		// X left a.example for x.example; Y has a.example now.
		x, y := org("x", "x.example"), org("y", "a.example")
		box := testBox(t)
		activate := func(orgID int64, password, realm string) {
			t.Helper()
			err := st.Tx(ctx, func(tx *store.Tx) error {
				g := &store.GroupRow{Group: model.Group{Name: "g"}}
				if err := tx.CreateGroup(ctx, orgID, g); err != nil {
					return err
				}
				a := &store.AccountRow{OrgID: orgID, Account: model.Account{GroupID: g.ID, Username: "1001", DisplayName: "1001",
					SecurityModel: model.EndToEnd, VirtualNumber: "100100", Kind: model.AccountWizard, Stage: model.StageNew}}
				if err := tx.CreateAccount(ctx, a); err != nil {
					return err
				}
				m, s := digestsOf("1001", realm, password)
				return tx.ActivateAccount(ctx, a.ID, box.Seal([]byte(password)), m, s, realm, time.Now())
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		activate(x, "x-password", "a.example") // made while a.example was X's
		activate(y, "y-password", "a.example")
		ym, ys := digestsOf("1001", "a.example", "y-password")
		if err := b.Put(ctx, subscriber("1001", "a.example", "y-password", ym, ys)); err != nil {
			t.Fatal(err)
		}
		if n, err := dom.Accounts.Rehash(ctx, x); err != nil || n != 1 {
			t.Fatalf("Rehash of X: %d, %v; want its one account", n, err)
		}
		if got := b.rows[[2]string{"1001", "a.example"}]; got.HA1 != ym {
			t.Errorf("Y's 1001@a.example after X's re-hash: %+v, want Y's hashes kept", got)
		}
		xm, _ := digestsOf("1001", "x.example", "x-password")
		if got := b.rows[[2]string{"1001", "x.example"}]; got.HA1 != xm {
			t.Errorf("X's 1001@x.example after X's re-hash: %+v, want X's new hashes", got)
		}
	})
}
