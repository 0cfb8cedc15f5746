package activation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// LinphoneFetchWindow is how long a revealed Linphone provisioning URL stays
// valid before its first fetch.
const LinphoneFetchWindow = 15 * time.Minute

// RedeemLinphone is the "Open in Linphone" step: a person's POST from the
// landing page redeems the link exactly like a native client's redeem, and
// the device credential it issues becomes the URL Linphone provisions
// itself from. The URL must be fetched first within LinphoneFetchWindow;
// after that it serves re-provisioning until the device is revoked.
func (s *Devices) RedeemLinphone(ctx context.Context, token, platform string) (*model.LinphoneProvisioning, error) {
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
func (s *Devices) LinphoneConfig(ctx context.Context, credential string) ([]byte, error) {
	if !secret.WellFormed(credential, secret.PrefixDevice) {
		return nil, ErrDeviceCredential
	}
	var out []byte
	now := s.now().UTC().Truncate(time.Millisecond)
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		dev, err := deviceByCredential(ctx, &tx.Reader, credential)
		if err != nil {
			return err
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
		a, err := deviceAccount(ctx, &tx.Reader, dev)
		if err != nil {
			return err
		}
		if err := tx.TouchDevice(ctx, dev.ID, now); err != nil {
			return err
		}
		if err := tx.AddEvent(ctx, a.OrgID, a.ID, model.EventRefreshed, "", map[string]string{"device_id": dev.DeviceID, "format": "linphone"}); err != nil {
			return err
		}
		cfg, err := s.buildConfig(ctx, &tx.Reader, a, "", now)
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
