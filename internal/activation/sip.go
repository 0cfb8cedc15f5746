package activation

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// AccountBackend is where SIP accounts live: activator's embedded registrar,
// or a Kamailio whose subscriber table activator keeps in step. The domain
// calls it after each commit that changes whether or how an account may
// register.
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

// sipState is the Service's SIP side.
type sipState struct {
	backend AccountBackend
}

// LinphoneFetchWindow is how long a revealed Linphone provisioning URL stays
// valid before its first fetch.
const LinphoneFetchWindow = 15 * time.Minute

// SetAccountBackend names the backend the domain keeps in step. Call it
// before serving.
func (s *Service) SetAccountBackend(b AccountBackend) { s.sip.backend = b }

// syncSIP puts an account's current state into the backend, after a commit.
// A failure is logged: the account's state is saved, and the next change or
// start brings the backend back in step.
func (s *Service) syncSIP(ctx context.Context, username string) {
	b := s.sip.backend
	if b == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	st, err := s.Settings(ctx)
	if err != nil {
		s.log.Error("sip backend: reading settings", "backend", b.Name(), "err", err)
		return
	}
	a, err := s.store.AccountByUsername(ctx, s.org, username)
	if errors.Is(err, store.ErrNotFound) {
		err = b.Remove(ctx, username, st.SIPDomain)
	} else if err == nil {
		err = s.syncAccount(ctx, b, st, a)
	}
	if err != nil {
		s.log.Error("sip backend: keeping the account in step", "backend", b.Name(), "username", username, "err", err)
	}
}

func (s *Service) syncAccount(ctx context.Context, b AccountBackend, st *Settings, a *store.AccountRow) error {
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

// SyncSIPBackend brings every account into the backend: activated and
// enabled ones in, the others out. It runs at start.
func (s *Service) SyncSIPBackend(ctx context.Context) (int, error) {
	b := s.sip.backend
	if b == nil {
		return 0, nil
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for offset := 0; ; offset += 1000 {
		as, err := s.store.Accounts(ctx, s.org, store.AccountFilter{Limit: 1000, Offset: offset})
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
		if len(as) < 1000 {
			return n, nil
		}
	}
}

// Registrations lists an account's live SIP bindings.
func (s *Service) Registrations(ctx context.Context, username string) ([]model.Registration, error) {
	a, err := s.account(ctx, &s.store.Reader, username)
	if err != nil {
		return nil, err
	}
	return s.store.Registrations(ctx, a.ID, s.now())
}

// RedeemLinphone is the "Open in Linphone" step: a person's POST from the
// landing page redeems the link exactly like a native client's redeem, and
// the device credential it issues becomes the URL Linphone provisions
// itself from. The URL must be fetched first within LinphoneFetchWindow;
// after that it serves re-provisioning until the device is revoked.
func (s *Service) RedeemLinphone(ctx context.Context, token, platform string) (*model.LinphoneProvisioning, error) {
	if !model.ValidPlatform(platform) {
		platform = "linux"
	}
	req := model.RedeemRequest{Token: token, Device: model.DeviceInfo{ID: "linphone-" + secret.RandomDigits(12), Platform: platform, Model: "Linphone"}}
	var fetchBy time.Time
	resp, err := s.redeem(ctx, req, func(ctx context.Context, tx *store.Tx, dev *model.Device) error {
		fetchBy = dev.CreatedAt.Add(LinphoneFetchWindow)
		return tx.CreateLinphoneDevice(ctx, dev.ID, fetchBy)
	})
	if err != nil {
		return nil, err
	}
	u := resp.Config.Server.BaseURL + "/p/linphone/" + resp.DeviceCredential
	return &model.LinphoneProvisioning{URL: u, ConfigURI: "linphone-config:" + u, FetchBy: fetchBy}, nil
}

// ErrLinphoneURLExpired answers a Linphone URL first fetched too late.
var ErrLinphoneURLExpired = &Error{Kind: KindGone, Code: "provisioning_url_expired", Message: "this provisioning URL was not used in time; open the link again"}

// LinphoneConfig is Linphone's remote provisioning: the lpconfig XML for the
// device holding credential, with its credentials in every answer.
func (s *Service) LinphoneConfig(ctx context.Context, credential string) ([]byte, error) {
	if !secret.WellFormed(credential, secret.PrefixDevice) {
		return nil, ErrDeviceCredential
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	var out []byte
	now := s.now().UTC().Truncate(time.Millisecond)
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		dev, err := tx.DeviceByCredential(ctx, secret.Hash(credential))
		if errors.Is(err, store.ErrNotFound) {
			return ErrDeviceCredential
		}
		if err != nil {
			return fmt.Errorf("reading device: %w", err)
		}
		if _, err := tx.LinphoneDeviceByID(ctx, dev.ID); errors.Is(err, store.ErrNotFound) {
			return ErrDeviceCredential // a native client's credential is not a URL
		} else if err != nil {
			return fmt.Errorf("reading device: %w", err)
		}
		if err := tx.FetchLinphoneDevice(ctx, dev.ID, now); errors.Is(err, store.ErrFetchWindowClosed) {
			return ErrLinphoneURLExpired
		} else if err != nil {
			return err
		}
		a, err := tx.AccountByID(ctx, dev.AccountID)
		if err != nil {
			return fmt.Errorf("reading account: %w", err)
		}
		if a.Disabled {
			return ErrAccountDisabled
		}
		if err := tx.TouchDevice(ctx, dev.ID, now); err != nil {
			return err
		}
		if err := tx.AddEvent(ctx, a.OrgID, a.ID, model.EventRefreshed, "", map[string]string{"device_id": dev.DeviceID, "format": "linphone"}); err != nil {
			return err
		}
		cfg, err := s.buildConfig(ctx, &tx.Reader, st, a, "", now)
		if err != nil {
			return err
		}
		out, err = provisioning.LinphoneXML(cfg, provisioning.LinphoneCredentials{HA1MD5: a.HA1MD5, HA1SHA256: a.HA1SHA256})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
