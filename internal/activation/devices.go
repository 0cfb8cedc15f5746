package activation

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Devices is what a device does with a link and then with its credential:
// the one-time redeem that activates its account, re-provisioning, and
// Linphone's provisioning URL. It also revokes a device's access.
type Devices struct {
	store    *store.Store
	settings *Settings
	accounts *Accounts   // effective profiles, and the SIP backend after an activation
	box      *secret.Box // seals and opens SIP passwords
	log      *slog.Logger
	now      func() time.Time
	stats    redeemStats
	shared   *store.SharedCommit // nil: the store's own (store.SharedTx); a test's own otherwise
}

// DevicesConfig is what Devices is made from.
type DevicesConfig struct {
	Store    *store.Store
	Settings *Settings
	Accounts *Accounts
	Box      *secret.Box
	Logger   *slog.Logger
}

// NewDevices returns the devices of the organisations in c.Store.
func NewDevices(c DevicesConfig) *Devices {
	return &Devices{store: c.Store, settings: c.Settings, accounts: c.Accounts, box: c.Box, log: orDiscard(c.Logger), now: time.Now}
}

// RevokeAccess kills the credentials of an account's devices: their next
// configuration fetch gets 401.
func (s *Devices) RevokeAccess(ctx context.Context, username string, by Caller) (int, error) {
	var n int
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := account(ctx, &tx.Reader, by.OrgID, username)
		if err != nil {
			return err
		}
		if n, err = tx.RevokeDevices(ctx, a.ID, 0); err != nil || n == 0 {
			return err
		}
		return tx.AddEvent(ctx, a.OrgID, a.ID, model.EventDeviceRevoked, by.Name, map[string]string{"count": fmt.Sprint(n)})
	})
	return n, err
}

// Redeem is the device's one-time step: it uses the link up, enables the
// account with a freshly generated SIP password, issues the device's
// credential and returns the whole configuration. Of concurrent redeems of
// one link exactly one wins. Earlier devices of the account lose their
// access. The link's organisation is the one it acts in.
func (s *Devices) Redeem(ctx context.Context, req model.RedeemRequest) (*model.RedeemResponse, error) {
	return s.redeem(ctx, req, nil)
}

// redeem is Redeem with a hook run inside its transaction once the device
// exists; it counts the outcome (Stats).
func (s *Devices) redeem(ctx context.Context, req model.RedeemRequest, hook func(ctx context.Context, tx *store.Tx, dev *model.Device) error) (*model.RedeemResponse, error) {
	resp, err := s.redeemOnce(ctx, req, hook)
	s.stats.count(ctx, err)
	return resp, err
}

func (s *Devices) redeemOnce(ctx context.Context, req model.RedeemRequest, hook func(ctx context.Context, tx *store.Tx, dev *model.Device) error) (*model.RedeemResponse, error) {
	if err := validateRedeem(req); err != nil {
		return nil, err
	}
	if !secret.WellFormed(req.Token, secret.PrefixLink) {
		return nil, ErrLinkUnknown
	}
	hash := secret.Hash(req.Token)
	now := s.now().UTC().Truncate(time.Millisecond)
	password := secret.Password()
	credential, credHash := secret.NewToken(secret.PrefixDevice)
	// What the redeem reads is read first, outside its transaction: on
	// SQLite the transaction holds the one write lock, and every redeem
	// waited for the reads of those ahead of it. The transaction makes
	// only the writes, and the ones that decide stay conditional: the
	// link is used up only if it is still live (one winner per link), the
	// account activated only if it is still enabled.
	// The link, its account and the account's profile are one query,
	// read afresh on every redeem: a phone is never configured from a
	// profile older than its redeem.
	rd, err := s.store.LinkAndProfileByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLinkUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("reading link: %w", err)
	}
	l, a := rd.Link, rd.Account
	if l.Kind != model.LinkActivation || atAnotherHost(ctx, l.OrgID) {
		return nil, ErrLinkUnknown
	}
	if err := linkState(l, now); err != nil {
		return nil, err
	}
	if l.Disabled {
		return nil, ErrAccountDisabled
	}
	st, err := s.settings.Current(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	if st.Suspended() {
		return nil, ErrOrganisationSuspended
	}
	if rd.Profile == nil {
		return nil, fmt.Errorf("reading the effective profile: account %d has none", a.ID)
	}
	ep := model.EffectiveProfile{Profile: rd.Profile.Name, Source: rd.ProfileSource, Settings: rd.Profile.Settings}
	md5h, sha := ha1(a.Username, st.SIPDomain, password)
	sealed := s.box.Seal([]byte(password))
	dev := &model.Device{AccountID: a.ID, DeviceID: req.Device.ID, Platform: req.Device.Platform, Model: req.Device.Model,
		AppVersion: req.Device.AppVersion, CredentialPrefix: secret.Display(credential), CreatedAt: now}
	w := store.DeviceRedeem{LinkID: l.ID, AccountID: a.ID, OrgID: a.OrgID, SealedPassword: sealed, HA1MD5: md5h, HA1SHA256: sha, HA1Realm: st.SIPDomain,
		Device: dev, CredentialHash: credHash, At: now}
	// refused says why the write that uses the link up refused (err is
	// store.ErrLinkLost or store.ErrNotFound), reading through r; nil
	// when it did not. before tells a refusal made before any write (on
	// SQLite the redeem's group commits without it, store.NoWrite).
	refused := func(ctx context.Context, r *store.Reader, err error) (before bool, _ error) {
		if errors.Is(err, store.ErrLinkLost) {
			// Another redeem won, or the link was revoked or expired
			// since it was read, or the account is disabled or bound.
			if l, err := r.LinkByHash(ctx, hash); err == nil {
				if err := linkState(l, now); err != nil {
					return true, err
				}
			}
			if err := checkBinding(ctx, r, l.AccountID, req.Device.ID); err != nil {
				return true, err
			}
			return true, ErrLinkUsed
		}
		if errors.Is(err, store.ErrNotFound) {
			return false, ErrAccountDisabled // disabled (or deleted) since it was read
		}
		if err != nil {
			return false, fmt.Errorf("activating account: %w", err)
		}
		return false, nil
	}
	write := func(ctx context.Context, tx *store.Tx) error {
		// The write that uses the link up decides, under the write lock
		// on SQLite and on its rows on PostgreSQL: one winner per link,
		// no redeem for a disabled account, and two devices of an account
		// bound to one cannot both pass. When it refuses, it has written
		// nothing, and the reads of refused say why.
		_, err := tx.RedeemDevice(ctx, w)
		if before, err := refused(ctx, &tx.Reader, err); before {
			return store.NoWrite(err)
		} else if err != nil {
			return err
		}
		if hook != nil {
			return hook(ctx, tx, dev)
		}
		return nil
	}
	if s.shared != nil { // a test's
		err = s.shared.Tx(ctx, write)
	} else {
		// In one commit with the writes that arrive meanwhile.
		err = s.store.SharedTx(ctx, write)
	}
	if err != nil {
		return nil, err
	}
	resp := &model.RedeemResponse{DeviceCredential: credential, Config: s.nativeConfig(a, st, ep, password, now)}
	s.log.InfoContext(ctx, "device activated", "username", a.Username, "platform", req.Device.Platform)
	s.accounts.putActivated(ctx, st, a.Username, password, md5h, sha)
	return resp, nil
}

func validateRedeem(req model.RedeemRequest) error {
	if req.Token == "" {
		return invalid("token", "token is required")
	}
	if len(req.Token) > 200 {
		return invalid("token", "token is %d bytes long: a link's token is far shorter", len(req.Token))
	}
	if err := checkLine("device.id", "device.id", req.Device.ID, true, 200); err != nil {
		return err
	}
	if !model.ValidPlatform(req.Device.Platform) {
		return invalid("device.platform", "device.platform must be one of %s", strings.Join(model.Platforms, ", "))
	}
	if err := checkLine("device.model", "device.model", req.Device.Model, false, 200); err != nil {
		return err
	}
	if err := checkLine("device.app_version", "device.app_version", req.Device.AppVersion, false, 100); err != nil {
		return err
	}
	return nil
}

// ha1 returns the digest hashes a SIP server checks: H(username:realm:password)
// with MD5 and with SHA-256.
func ha1(username, realm, password string) (md5hex, sha256hex string) {
	in := []byte(username + ":" + realm + ":" + password)
	m := md5.Sum(in)
	s := sha256.Sum256(in)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

// Config is re-provisioning: the current configuration for the device
// holding credential, so profile changes reach it. Only a native client's
// credential is accepted: a Linphone URL's is refused like an unknown one.
func (s *Devices) Config(ctx context.Context, credential string) (*model.DeviceConfig, error) {
	if !secret.WellFormed(credential, secret.PrefixDevice) {
		return nil, ErrDeviceCredential
	}
	var cfg model.DeviceConfig
	now := s.now()
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		dev, err := deviceByCredential(ctx, &tx.Reader, credential)
		if err != nil {
			return err
		}
		// A Linphone provisioning URL's credential is for Linphone's
		// lpconfig (LinphoneConfig), which holds digest hashes, within its
		// window; it is no bearer token here, where the answer holds the
		// SIP password in clear, forever.
		if _, err := tx.LinphoneDeviceByID(ctx, dev.ID); err == nil {
			return ErrDeviceCredential
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("reading device: %w", err)
		}
		a, err := deviceAccount(ctx, &tx.Reader, dev)
		if err != nil {
			return err
		}
		password, err := s.box.Open(a.SIPPassword)
		if err != nil {
			return fmt.Errorf("opening the SIP password: %w", err)
		}
		if err := tx.TouchDevice(ctx, dev.ID, now); err != nil {
			return err
		}
		if err := tx.AddEvent(ctx, a.OrgID, a.ID, model.EventRefreshed, "", map[string]string{"device_id": dev.DeviceID}); err != nil {
			return err
		}
		cfg, err = s.buildConfig(ctx, &tx.Reader, a, string(password), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &cfg, nil
}

// deviceByCredential finds the device holding a credential.
func deviceByCredential(ctx context.Context, r *store.Reader, credential string) (*model.Device, error) {
	dev, err := r.DeviceByCredential(ctx, secret.Hash(credential))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrDeviceCredential
	}
	if err != nil {
		return nil, fmt.Errorf("reading device: %w", err)
	}
	return dev, nil
}

// deviceAccount reads a device's account, which must not be disabled for
// the device to get its configuration, and must be of the organisation
// whose host the request came to, if any (else the credential is unknown).
func deviceAccount(ctx context.Context, r *store.Reader, dev *model.Device) (*store.AccountRow, error) {
	a, err := r.AccountByID(ctx, dev.AccountID)
	if err != nil {
		return nil, fmt.Errorf("reading account: %w", err)
	}
	if atAnotherHost(ctx, a.OrgID) {
		return nil, ErrDeviceCredential
	}
	if a.Disabled {
		return nil, ErrAccountDisabled
	}
	return a, nil
}

// buildConfig is an account's configuration, as its organisation's
// settings and its effective profile say; r is the transaction reading a.
func (s *Devices) buildConfig(ctx context.Context, r *store.Reader, a *store.AccountRow, password string, now time.Time) (model.DeviceConfig, error) {
	st, err := s.settings.currentIn(ctx, r, a.OrgID)
	if err != nil {
		return model.DeviceConfig{}, err
	}
	if st.Suspended() {
		return model.DeviceConfig{}, ErrOrganisationSuspended
	}
	ep, err := effectiveProfile(ctx, r, a)
	if err != nil {
		return model.DeviceConfig{}, err
	}
	return s.nativeConfig(a, st, ep, password, now), nil
}

// nativeConfig is an account's configuration from its settings and profile.
func (s *Devices) nativeConfig(a *store.AccountRow, st *Resolved, ep model.EffectiveProfile, password string, now time.Time) model.DeviceConfig {
	return provisioning.NativeConfig(provisioning.ConfigInput{
		BaseURL: st.BaseURL, Username: a.Username, Password: password, DisplayName: a.DisplayName,
		VirtualNumber: a.VirtualNumber, SecurityModel: a.SecurityModel, SIPDomain: st.SIPDomain, SIPHost: st.SIPHost,
		SIPPorts: st.SIPPorts, Transports: st.SIPTransports, Profile: ep.Settings, IssuedAt: now,
	})
}

// checkBinding refuses a redeem from device deviceID when the account is
// bound to one device and has a live device that is another, or has been
// disabled since it was read.
func checkBinding(ctx context.Context, r *store.Reader, accountID int64, deviceID string) error {
	a, err := r.AccountByID(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrAccountDisabled // deleted since it was read
	}
	if err != nil {
		return fmt.Errorf("reading account: %w", err)
	}
	if a.Disabled {
		return ErrAccountDisabled
	}
	if !a.OneDevice {
		return nil
	}
	devs, err := r.Devices(ctx, accountID)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if d.RevokedAt == nil && d.DeviceID != deviceID {
			return ErrAccountBound
		}
	}
	return nil
}
