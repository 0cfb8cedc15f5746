package activation

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// What an operator does about a lost or stolen phone: end one device, or
// every device of an account ("revoke all keys"). Either way the SIP
// password the ended device knows stops working, so it can no more register
// than it can fetch its configuration, and the account's live registrations
// drop in the same transaction, so calls stop reaching it at once. A device
// still in use gets the new password at its next re-provisioning.

// Deactivate ends one device of an account, by its id (model.Device.ID):
// its credential dies, the account's SIP password changes and its
// registrations drop.
func (s *Devices) Deactivate(ctx context.Context, username string, deviceID int64, by Caller) (*model.KeysRevoked, error) {
	return s.endDevices(ctx, username, by, func(tx *store.Tx, a *store.AccountRow) (int, error) {
		if err := tx.RevokeDevice(ctx, a.ID, deviceID); errors.Is(err, store.ErrNotFound) {
			return 0, notFound("device_not_found", "account %s has no live device %d", username, deviceID)
		} else if err != nil {
			return 0, fmt.Errorf("revoking the device: %w", err)
		}
		return 1, tx.AddEvent(ctx, a.OrgID, a.ID, model.EventDeviceDeactivated, by.Name, map[string]string{"device": strconv.FormatInt(deviceID, 10)})
	})
}

// RevokeKeys ends every device of an account: every device credential
// dies, the SIP password changes and the registrations drop.
func (s *Devices) RevokeKeys(ctx context.Context, username string, by Caller) (*model.KeysRevoked, error) {
	return s.endDevices(ctx, username, by, func(tx *store.Tx, a *store.AccountRow) (int, error) {
		n, err := tx.RevokeDevices(ctx, a.ID, 0)
		if err != nil {
			return 0, fmt.Errorf("revoking the devices: %w", err)
		}
		return n, tx.AddEvent(ctx, a.OrgID, a.ID, model.EventKeysRevoked, by.Name, map[string]string{"count": strconv.Itoa(n)})
	})
}

// endDevices runs revoke on the account, changes its SIP password and
// drops its registrations, in one transaction; then it brings the account
// backend in step (Kamailio gets the new digest hashes).
func (s *Devices) endDevices(ctx context.Context, username string, by Caller, revoke func(*store.Tx, *store.AccountRow) (int, error)) (*model.KeysRevoked, error) {
	res := &model.KeysRevoked{}
	password := secret.Password()
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := account(ctx, &tx.Reader, by.OrgID, username)
		if err != nil {
			return err
		}
		if res.Devices, err = revoke(tx, a); err != nil {
			return err
		}
		if len(a.SIPPassword) > 0 {
			st, err := s.settings.currentIn(ctx, &tx.Reader, a.OrgID)
			if err != nil {
				return err
			}
			md5h, sha := ha1(a.Username, st.SIPDomain, password)
			if err := tx.SetSIPPassword(ctx, a.ID, s.box.Seal([]byte(password)), md5h, sha, st.SIPDomain); err != nil {
				return fmt.Errorf("changing the SIP password: %w", err)
			}
			res.SIPPassword = true
		}
		if res.Registrations, err = tx.DeleteRegistrations(ctx, a.ID); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("devices ended", "username", username, "devices", res.Devices, "registrations", res.Registrations, "by", by.Name)
	s.accounts.syncSIP(ctx, by.OrgID, username)
	return res, nil
}
