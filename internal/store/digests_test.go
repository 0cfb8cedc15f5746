package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// StaleDigests lists the accounts holding a SIP password whose hashes are
// not of the realm, unknown ones included; SetDigests stores new hashes
// only while the password they were made from is the account's.
func TestStaleDigestsAndSetDigests(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		stale := func(realm string) []store.StaleDigest {
			t.Helper()
			ds, err := s.StaleDigests(ctx, acc.OrgID, realm, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
		if ds := stale("b.example"); len(ds) != 0 {
			t.Fatalf("an account without a SIP password listed: %+v", ds)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.ActivateAccount(ctx, acc.ID, []byte("sealed-1"), "md5-a", "sha-a", "a.example", time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		if ds := stale("a.example"); len(ds) != 0 {
			t.Fatalf("an account of the realm listed: %+v", ds)
		}
		ds := stale("b.example")
		if len(ds) != 1 || ds[0].ID != acc.ID || ds[0].HA1Realm != "a.example" || string(ds[0].SIPPassword) != "sealed-1" ||
			ds[0].HA1MD5 != "md5-a" || !ds[0].SIPEnabled {
			t.Fatalf("stale digests for b.example: %+v", ds)
		}
		if ds, err := s.StaleDigests(ctx, acc.OrgID, "b.example", acc.ID, 10); err != nil || len(ds) != 0 {
			t.Fatalf("the page after the account: %+v, %v", ds, err)
		}
		// The password changed since it was read: its writer's hashes stay.
		other := seed2(t, s, acc)
		var done map[int64]bool
		err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.SetSIPPassword(ctx, acc.ID, []byte("sealed-2"), "md5-a2", "sha-a2", "a.example"); err != nil {
				return err
			}
			var err error
			done, err = tx.SetDigests(ctx, "b.example", []store.Digest{
				{AccountID: acc.ID, SealedPassword: []byte("sealed-1"), HA1MD5: "md5-b", HA1SHA256: "sha-b"},
				{AccountID: other, SealedPassword: []byte("sealed-o"), HA1MD5: "md5-ob", HA1SHA256: "sha-ob"}})
			return err
		})
		if err != nil || done[acc.ID] || !done[other] || len(done) != 1 {
			t.Fatalf("SetDigests from a password replaced since and from one still the account's: %v, %v; want the second only", done, err)
		}
		err = s.Tx(ctx, func(tx *store.Tx) error {
			var err error
			done, err = tx.SetDigests(ctx, "b.example", []store.Digest{{AccountID: acc.ID, SealedPassword: []byte("sealed-2"), HA1MD5: "md5-b", HA1SHA256: "sha-b"}})
			return err
		})
		if err != nil || !done[acc.ID] {
			t.Fatalf("SetDigests from the account's password: %v, %v; want it stored", done, err)
		}
		o, err := s.AccountByID(ctx, other)
		if err != nil || o.HA1MD5 != "md5-ob" || o.HA1Realm != "b.example" {
			t.Fatalf("the other account after SetDigests: %+v, %v", o, err)
		}
		a, err := s.AccountByID(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.HA1MD5 != "md5-b" || a.HA1SHA256 != "sha-b" || a.HA1Realm != "b.example" || string(a.SIPPassword) != "sealed-2" {
			t.Errorf("after SetDigest: %s %s %q %q", a.HA1MD5, a.HA1SHA256, a.HA1Realm, a.SIPPassword)
		}
		if ds := stale("b.example"); len(ds) != 0 {
			t.Errorf("re-hashed account still listed: %+v", ds)
		}
	})
}

// seed2 adds a second activated account beside acc, in its group, its
// password sealed as "sealed-o", and returns its id.
func seed2(t *testing.T, s *store.Store, acc *store.AccountRow) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := s.Tx(ctx, func(tx *store.Tx) error {
		a := &store.AccountRow{OrgID: acc.OrgID, Account: model.Account{GroupID: acc.GroupID, Username: acc.Username + "2", DisplayName: "other",
			SecurityModel: acc.SecurityModel, VirtualNumber: acc.VirtualNumber + "2", Kind: acc.Kind, Stage: model.StageNew}}
		if err := tx.CreateAccount(ctx, a); err != nil {
			return err
		}
		id = a.ID
		return tx.ActivateAccount(ctx, a.ID, []byte("sealed-o"), "md5-oa", "sha-oa", "a.example", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
