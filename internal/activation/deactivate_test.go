package activation

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// activated redeems a fresh link of username from device and returns the answer.
func activated(t *testing.T, dom Domain, username, device string) *model.RedeemResponse {
	t.Helper()
	req := redeemReq(sendToken(t, dom, username, model.LinkActivation))
	req.Device.ID = device
	resp, err := dom.Devices.Redeem(context.Background(), req)
	if err != nil {
		t.Fatalf("redeem from %s: %v", device, err)
	}
	return resp
}

// register writes a live SIP binding for the account, as the registrar does.
func register(t *testing.T, st *store.Store, accountID int64) {
	t.Helper()
	now := time.Now()
	err := st.Tx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.PutRegistration(context.Background(), &model.Registration{AccountID: accountID, Contact: "<sip:u@127.0.0.1:5099>",
			Transport: "udp", Source: "127.0.0.1:5099", UpdatedAt: now, ExpiresAt: now.Add(time.Hour)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Deactivating a device kills its credential, changes the SIP password
// (the digest hashes with it) and drops the account's registrations at
// once; the account stays enabled.
func TestDeactivateOneDevice(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		resp := activated(t, dom, a.Username, "phone-1")
		before, err := st.AccountByUsername(ctx, model.DefaultOrgID, a.Username)
		if err != nil {
			t.Fatal(err)
		}
		register(t, st, a.ID)
		d, _ := dom.Accounts.Get(ctx, a.Username, admin)
		dev := d.Devices[0]

		res, err := dom.Devices.Deactivate(ctx, a.Username, dev.ID, admin)
		if err != nil {
			t.Fatal(err)
		}
		if *res != (model.KeysRevoked{Devices: 1, Registrations: 1, SIPPassword: true}) {
			t.Errorf("result = %+v", res)
		}
		if _, err := dom.Devices.Config(ctx, resp.DeviceCredential); !errors.Is(err, ErrDeviceCredential) {
			t.Errorf("the deactivated device's credential: %v, want refused", err)
		}
		after, _ := st.AccountByUsername(ctx, model.DefaultOrgID, a.Username)
		if after.HA1MD5 == before.HA1MD5 || after.HA1SHA256 == before.HA1SHA256 {
			t.Error("the digest hashes did not change: the old SIP password still registers")
		}
		if md5h, _ := ha1(a.Username, resp.Config.Account.SIPDomain, resp.Config.Account.Password); md5h != before.HA1MD5 || md5h == after.HA1MD5 {
			t.Error("the old password still matches")
		}
		if !after.SIPEnabled {
			t.Error("deactivating a device disabled the account")
		}
		if regs, _ := st.Registrations(ctx, a.ID, time.Now()); len(regs) != 0 {
			t.Errorf("%d registrations left", len(regs))
		}
		if _, err := dom.Devices.Deactivate(ctx, a.Username, dev.ID, admin); err == nil {
			t.Error("deactivating a device twice succeeded")
		}
		// A new phone activates with a new link and gets the new password.
		again := activated(t, dom, a.Username, "phone-2")
		if again.Config.Account.Password == resp.Config.Account.Password {
			t.Error("the new device got the old password")
		}
	})
}

// Revoking all keys ends every device of the account and changes the
// password; on an account never activated there is no password to change.
func TestRevokeAllKeys(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		resp := activated(t, dom, a.Username, "phone-1")
		register(t, st, a.ID)
		res, err := dom.Devices.RevokeKeys(ctx, a.Username, admin)
		if err != nil {
			t.Fatal(err)
		}
		if *res != (model.KeysRevoked{Devices: 1, Registrations: 1, SIPPassword: true}) {
			t.Errorf("result = %+v", res)
		}
		if _, err := dom.Devices.Config(ctx, resp.DeviceCredential); !errors.Is(err, ErrDeviceCredential) {
			t.Errorf("a revoked credential: %v", err)
		}
		fresh := mustAccount(t, dom)
		res, err = dom.Devices.RevokeKeys(ctx, fresh.Username, admin)
		if err != nil || res.SIPPassword || res.Devices != 0 {
			t.Errorf("on an account never activated: %+v, %v", res, err)
		}
		if _, err := dom.Devices.RevokeKeys(ctx, "0000", admin); err == nil {
			t.Error("an unknown account's keys were revoked")
		}
	})
}

// An account bound to one device refuses a redeem from another device
// while its device is live, leaving the link unused; the same device may
// activate again; once the device is deactivated, another may.
func TestOneDeviceBinding(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		bound := true
		if acc, err := dom.Accounts.Update(ctx, a.Username, model.AccountInput{OneDevice: &bound}, admin); err != nil || !acc.OneDevice {
			t.Fatalf("binding: %+v, %v", acc, err)
		}
		first := activated(t, dom, a.Username, "phone-1")
		token := sendToken(t, dom, a.Username, model.LinkActivation)
		req := redeemReq(token)
		req.Device.ID = "phone-2"
		if _, err := dom.Devices.Redeem(ctx, req); !errors.Is(err, ErrAccountBound) {
			t.Fatalf("a redeem from another device: %v, want ErrAccountBound", err)
		}
		if _, err := dom.Devices.Config(ctx, first.DeviceCredential); err != nil {
			t.Errorf("the refused redeem cut off the bound device: %v", err)
		}
		req.Device.ID = "phone-1"
		if _, err := dom.Devices.Redeem(ctx, req); err != nil {
			t.Fatalf("the bound device activating again with the unused link: %v", err)
		}
		d, _ := dom.Accounts.Get(ctx, a.Username, admin)
		for _, dev := range d.Devices {
			if dev.RevokedAt == nil {
				if _, err := dom.Devices.Deactivate(ctx, a.Username, dev.ID, admin); err != nil {
					t.Fatal(err)
				}
			}
		}
		activated(t, dom, a.Username, "phone-2")
		// Unbound, any device may take over.
		bound = false
		if _, err := dom.Accounts.Update(ctx, a.Username, model.AccountInput{OneDevice: &bound}, admin); err != nil {
			t.Fatal(err)
		}
		activated(t, dom, a.Username, "phone-3")
	})
}
