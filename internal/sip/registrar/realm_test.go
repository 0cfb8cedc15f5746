package registrar

import (
	"context"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// A phone answers the registrar's challenge with H(username:realm:password)
// for the realm it is challenged with, the organisation's SIP domain.
// After that domain changes, the registrar challenges with the new one,
// and the account's stored hashes, re-hashed by the change, match: the
// REGISTER succeeds (with the old realm's hashes it got 403). The
// account's binding made under the old domain is kept: taking the account
// out of the old domain drops no binding of an account that may register.
func TestRegisterSucceedsAfterTheSIPDomainChanges(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			var dom activation.Domain
			r := startRegistrarOn(t, b.DSN(t), func(c *Config) {
				box, err := secret.NewBox(make([]byte, 32)) // startRegistrarOn's key, which sealed the passwords
				if err != nil {
					t.Fatal(err)
				}
				e := &Embedded{Store: c.Store}
				dom = activation.NewDomain(activation.DomainConfig{Store: c.Store, Box: box, ListenURL: "http://127.0.0.1:1", Backend: e})
				e.Settings = dom.Settings
				c.Settings = dom.Settings // the registrar sees the change at once, as in one server
			})
			alice := newPhone(t, "alice", "127.0.0.1", r.addr)
			if got := alice.register("alicepw"); got != 200 {
				t.Fatalf("alice's REGISTER under example.com: %d, want 200", got)
			}
			by := activation.Caller{Name: "test", Role: model.RoleAdmin, OrgID: model.DefaultOrgID}
			if _, err := dom.Settings.Set(ctx, model.SettingSIPDomain, "b.example", by); err != nil {
				t.Fatal(err)
			}
			a, err := r.st.AccountByUsername(ctx, model.DefaultOrgID, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if a.HA1Realm != "b.example" {
				t.Errorf("alice's hashes after the change are of realm %q, want b.example", a.HA1Realm)
			}
			regs, err := r.st.Registrations(ctx, a.ID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(regs) != 1 {
				t.Errorf("alice's bindings after the change: %d, want her one binding kept", len(regs))
			}
			// The phone names example.com, now no organisation's domain: the
			// default organisation's realm, b.example, challenges it.
			if got := newPhone(t, "alice", "127.0.0.1", r.addr).register("alicepw"); got != 200 {
				t.Errorf("alice's REGISTER after the SIP domain became b.example: %d, want 200", got)
			}
			if got := newPhone(t, "carol", "127.0.0.1", r.addr).register("carolpw"); got != 200 {
				t.Errorf("carol's REGISTER after the SIP domain became b.example: %d, want 200", got)
			}
			if got := newPhone(t, "carol", "127.0.0.1", r.addr).register("wrong"); got != 403 {
				t.Errorf("carol's REGISTER with a wrong password: %d, want 403", got)
			}
			// bob, never activated, has no hashes to re-hash.
			bob, err := r.st.AccountByUsername(ctx, model.DefaultOrgID, "bob")
			if err != nil {
				t.Fatal(err)
			}
			if bob.HA1MD5 != "" || bob.HA1Realm != "" {
				t.Errorf("bob, never activated, after the change: hashes %q, realm %q; want none", bob.HA1MD5, bob.HA1Realm)
			}
		})
	}
}
