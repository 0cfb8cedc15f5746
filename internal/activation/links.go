package activation

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Send issues a new secure link for an account and queues the message that
// carries it, in one transaction: there is never a link without its message
// nor a message without its link. An activation link kills every earlier live
// link of the account; an installation link kills earlier installation links.
func (s *Service) Send(ctx context.Context, username string, req model.SendRequest, by Caller) (*model.SendResult, error) {
	if req.Kind == "" {
		req.Kind = model.KindActivation
	}
	if req.Kind != model.KindActivation && req.Kind != model.KindInstallation {
		return nil, invalid("kind", "unknown kind %q: want activation or installation", req.Kind)
	}
	if req.Channel != model.ChannelEmail && req.Channel != model.ChannelSMS {
		return nil, invalid("channel", "unknown channel %q: want email or sms", req.Channel)
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	token, hash := secret.NewToken(secret.PrefixLink)
	link := st.BaseURL + "/a/" + token
	res := &model.SendResult{}
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := s.account(ctx, &tx.Reader, username)
		if err != nil {
			return err
		}
		if a.Disabled {
			return conflict("account_disabled", "", "account %s is disabled; enable it before sending", username)
		}
		recipient := a.Email
		if req.Channel == model.ChannelSMS {
			recipient = a.Mobile
		}
		if recipient == "" {
			field := "email"
			if req.Channel == model.ChannelSMS {
				field = "mobile"
			}
			return invalid("channel", "account %s has no %s to send to; edit the account first", username, field)
		}
		g, err := tx.GroupByID(ctx, a.GroupID)
		if err != nil {
			return fmt.Errorf("reading the account's group: %w", err)
		}
		inv := &model.Invitation{AccountID: a.ID, Kind: req.Kind, Channel: req.Channel, TokenPrefix: secret.Display(token),
			CreatedAt: now, ExpiresAt: now.Add(st.LinkExpiry)}
		kinds := []string{model.KindInstallation}
		if req.Kind == model.KindActivation {
			kinds = nil // every kind
		}
		if _, err := tx.RevokeInvitations(ctx, a.ID, kinds...); err != nil {
			return fmt.Errorf("revoking earlier links: %w", err)
		}
		if err := tx.CreateInvitation(ctx, inv, hash); err != nil {
			return fmt.Errorf("storing the link: %w", err)
		}
		text, err := s.templates.Render(a.Language, req.Channel, req.Kind, messaging.MessageVars{
			Name: a.DisplayName, Link: link, Company: st.Company, ITEmail: g.ITEmail, ExpiresAt: inv.ExpiresAt,
		})
		if err != nil {
			return fmt.Errorf("rendering the message: %w", err)
		}
		gateway, err := s.routeMessage(ctx, &tx.Reader, req.Gateway, req.Channel, a.GroupID)
		if err != nil {
			return err
		}
		m := &store.MessageRow{OrgID: s.org, MaxAttempts: s.maxAttempts, Message: model.Message{
			AccountID: a.ID, InvitationID: inv.ID, Username: a.Username, Channel: req.Channel, Kind: req.Kind,
			Gateway: gateway, Recipient: recipient, Subject: text.Subject, Body: text.Text, HTML: text.HTML,
		}}
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return fmt.Errorf("queueing the message: %w", err)
		}
		m.Segments = smsSegments(req.Channel, text.Text)
		if m.Segments > 2 {
			s.log.Warn("the SMS takes more than two segments; shorten the company name or the template", "segments", m.Segments, "language", a.Language)
		}
		if _, err := tx.AdvanceStage(ctx, a.ID, model.StageInvited); err != nil {
			return err
		}
		detail := map[string]string{"kind": req.Kind, "channel": req.Channel, "link": inv.TokenPrefix, "message_id": fmt.Sprint(m.ID)}
		if err := tx.AddEvent(ctx, s.org, a.ID, model.EventMessageQueued, by.Name, detail); err != nil {
			return err
		}
		res.Invitation, res.Message = *inv, m.Message
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.onEnqueue()
	s.log.Info("link sent", "username", username, "kind", req.Kind, "channel", req.Channel, "link", res.Invitation.TokenPrefix, "message_id", res.Message.ID, "by", by.Name)
	return res, nil
}

// RevokeLinks kills an account's live links.
func (s *Service) RevokeLinks(ctx context.Context, username string, by Caller) (int, error) {
	var n int
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := s.account(ctx, &tx.Reader, username)
		if err != nil {
			return err
		}
		if n, err = tx.RevokeInvitations(ctx, a.ID); err != nil || n == 0 {
			return err
		}
		return tx.AddEvent(ctx, s.org, a.ID, model.EventLinkRevoked, by.Name, map[string]string{"count": fmt.Sprint(n)})
	})
	return n, err
}

// RevokeDeviceAccess kills the credentials of an account's devices: their
// next configuration fetch gets 401.
func (s *Service) RevokeDeviceAccess(ctx context.Context, username string, by Caller) (int, error) {
	var n int
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := s.account(ctx, &tx.Reader, username)
		if err != nil {
			return err
		}
		if n, err = tx.RevokeDevices(ctx, a.ID, 0); err != nil || n == 0 {
			return err
		}
		return tx.AddEvent(ctx, s.org, a.ID, model.EventDeviceRevoked, by.Name, map[string]string{"count": fmt.Sprint(n)})
	})
	return n, err
}

// LinkPage is what a link's pages show.
type LinkPage struct {
	Link          *store.Link
	Settings      *Settings
	Apps          []model.AppURL
	PageURL       string
	ActivationURL string
	QRURL         string
}

// lookupLink finds a live link. When the link is known but no longer live,
// the page comes back with the error, so the error page can speak the
// account's language and name its IT contact.
func (s *Service) lookupLink(ctx context.Context, token string) (*LinkPage, error) {
	st, apps, err := s.config(ctx)
	if err != nil {
		return nil, err
	}
	page := &LinkPage{Settings: st, Apps: apps}
	if !secret.WellFormed(token, secret.PrefixLink) {
		return page, ErrLinkUnknown
	}
	l, err := s.store.LinkByHash(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return page, ErrLinkUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("reading link: %w", err)
	}
	page.Link = l
	base := st.BaseURL + "/a/" + token
	page.PageURL, page.ActivationURL, page.QRURL = base, base+"/activation", base+"/qr.svg"
	return page, linkState(l, s.now())
}

func linkState(l *store.Link, now time.Time) error {
	switch {
	case l.RedeemedAt != nil:
		return ErrLinkUsed
	case l.RevokedAt != nil:
		return ErrLinkRevoked
	case !now.Before(l.ExpiresAt):
		return ErrLinkExpired
	}
	return nil
}

// record writes a page event and moves the account's stage forward. The
// stage update is skipped when the account is already there or past it, so
// a repeated view costs one insert.
func (s *Service) record(ctx context.Context, l *store.Link, kind, stage string, detail map[string]string) error {
	return s.store.Tx(ctx, func(tx *store.Tx) error {
		if stage != "" && stageBefore(l.Stage, stage) {
			if _, err := tx.AdvanceStage(ctx, l.AccountID, stage); err != nil {
				return err
			}
		}
		return tx.AddEvent(ctx, l.OrgID, l.AccountID, kind, "", detail)
	})
}

// OpenLink serves the landing page's data and records the view. A view never
// uses the link up: mail scanners fetch links before people do.
func (s *Service) OpenLink(ctx context.Context, token, platform string) (*LinkPage, error) {
	page, err := s.lookupLink(ctx, token)
	if err != nil {
		return page, err
	}
	if err := s.record(ctx, page.Link, model.EventOpened, model.StageOpened, map[string]string{"platform": platform}); err != nil {
		return nil, fmt.Errorf("recording the view: %w", err)
	}
	return page, nil
}

// LinkInfo returns a link's page data without recording anything.
func (s *Service) LinkInfo(ctx context.Context, token string) (*LinkPage, error) {
	return s.lookupLink(ctx, token)
}

// InstallURL returns where the installation link leads for platform, and
// records the click.
func (s *Service) InstallURL(ctx context.Context, token, platform string) (string, *LinkPage, error) {
	page, err := s.lookupLink(ctx, token)
	if err != nil {
		return "", page, err
	}
	if !model.ValidPlatform(platform) {
		return "", page, invalid("platform", "unknown platform %q: want one of %s", platform, strings.Join(model.Platforms, ", "))
	}
	u := downloadURL(page.Apps, platform, page.Link.SecurityModel)
	if u == "" {
		return "", page, notFound("no_download", "no download is configured for %s", platform)
	}
	if err := s.record(ctx, page.Link, model.EventInstallClicked, model.StageInstalled, map[string]string{"platform": platform}); err != nil {
		return "", nil, fmt.Errorf("recording the click: %w", err)
	}
	return u, page, nil
}

// ActivationFile is a signed activation file ready to serve.
type ActivationFile struct {
	Data     []byte
	FileName string
	MIMEType string
}

// ActivationFile signs the link's activation file and records the download.
// Like a view, a download never uses the link up.
func (s *Service) ActivationFile(ctx context.Context, token string) (*ActivationFile, *LinkPage, error) {
	page, err := s.lookupLink(ctx, token)
	if err != nil {
		return nil, page, err
	}
	if page.Link.Kind != model.KindActivation {
		return nil, page, notFound("no_activation", "this link is for installation only")
	}
	data, err := provisioning.SignActivation(provisioning.ActivationPayload{
		Server: page.Settings.BaseURL, Token: token, IssuedAt: s.now(), ExpiresAt: page.Link.ExpiresAt,
		TLSPin: s.tlsPin, DisplayName: page.Link.DisplayName,
	}, s.signingKey)
	if err != nil {
		return nil, page, fmt.Errorf("signing the activation file: %w", err)
	}
	if err := s.record(ctx, page.Link, model.EventFileDownloaded, "", nil); err != nil {
		return nil, nil, fmt.Errorf("recording the download: %w", err)
	}
	return &ActivationFile{Data: data, FileName: page.Link.Username + "." + page.Settings.FileExt, MIMEType: page.Settings.MIMEType}, page, nil
}

// Redeem is the device's one-time step: it uses the link up, enables the
// account with a freshly generated SIP password, issues the device's
// credential and returns the whole configuration. Of concurrent redeems of
// one link exactly one wins. Earlier devices of the account lose their access.
func (s *Service) Redeem(ctx context.Context, req model.RedeemRequest) (*model.RedeemResponse, error) {
	return s.redeem(ctx, req, nil)
}

// redeem is Redeem with a hook run inside its transaction once the device exists.
func (s *Service) redeem(ctx context.Context, req model.RedeemRequest, hook func(ctx context.Context, tx *store.Tx, dev *model.Device) error) (*model.RedeemResponse, error) {
	if err := validateRedeem(req); err != nil {
		return nil, err
	}
	if !secret.WellFormed(req.Token, secret.PrefixLink) {
		return nil, ErrLinkUnknown
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	hash := secret.Hash(req.Token)
	now := s.now().UTC().Truncate(time.Millisecond)
	password := secret.Password()
	credential, credHash := secret.NewToken(secret.PrefixDevice)
	var resp *model.RedeemResponse
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		l, err := tx.LinkByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return ErrLinkUnknown
		}
		if err != nil {
			return fmt.Errorf("reading link: %w", err)
		}
		if l.Kind != model.KindActivation {
			return ErrLinkUnknown
		}
		if err := linkState(l, now); err != nil {
			return err
		}
		if l.Disabled {
			return ErrAccountDisabled
		}
		ok, err := tx.RedeemInvitation(ctx, l.ID, now)
		if err != nil {
			return fmt.Errorf("redeeming link: %w", err)
		}
		if !ok {
			return ErrLinkUsed // another redeem won
		}
		a, err := tx.AccountByID(ctx, l.AccountID)
		if err != nil {
			return fmt.Errorf("reading account: %w", err)
		}
		md5h, sha := ha1(a.Username, st.SIPDomain, password)
		if err := tx.ActivateAccount(ctx, a.ID, s.box.Seal([]byte(password)), md5h, sha, now); err != nil {
			return fmt.Errorf("activating account: %w", err)
		}
		dev := &model.Device{AccountID: a.ID, DeviceID: req.Device.ID, Platform: req.Device.Platform, Model: req.Device.Model,
			AppVersion: req.Device.AppVersion, CredentialPrefix: secret.Display(credential), CreatedAt: now}
		if err := tx.CreateDevice(ctx, dev, credHash); err != nil {
			return fmt.Errorf("storing device: %w", err)
		}
		if hook != nil {
			if err := hook(ctx, tx, dev); err != nil {
				return err
			}
		}
		revoked, err := tx.RevokeDevices(ctx, a.ID, dev.ID)
		if err != nil {
			return fmt.Errorf("revoking earlier devices: %w", err)
		}
		if _, err := tx.RevokeInvitations(ctx, a.ID); err != nil {
			return fmt.Errorf("revoking other links: %w", err)
		}
		detail := map[string]string{"device_id": dev.DeviceID, "platform": dev.Platform, "model": dev.Model, "app_version": dev.AppVersion}
		if revoked > 0 {
			detail["devices_revoked"] = fmt.Sprint(revoked)
		}
		if err := tx.AddEvent(ctx, a.OrgID, a.ID, model.EventActivated, "", detail); err != nil {
			return err
		}
		cfg, err := s.buildConfig(ctx, &tx.Reader, st, a, password, now)
		if err != nil {
			return err
		}
		resp = &model.RedeemResponse{DeviceCredential: credential, Config: cfg}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("device activated", "username", resp.Config.Account.Username, "platform", req.Device.Platform)
	s.syncSIP(ctx, resp.Config.Account.Username)
	return resp, nil
}

func validateRedeem(req model.RedeemRequest) error {
	if req.Token == "" {
		return invalid("token", "token is required")
	}
	if len(req.Token) > 200 {
		return invalid("token", "token is too long")
	}
	if strings.TrimSpace(req.Device.ID) == "" || len(req.Device.ID) > 200 || hasControl(req.Device.ID) {
		return invalid("device.id", "device.id is required: 1 to 200 characters, no control characters")
	}
	if !model.ValidPlatform(req.Device.Platform) {
		return invalid("device.platform", "device.platform must be one of %s", strings.Join(model.Platforms, ", "))
	}
	if len(req.Device.Model) > 200 || hasControl(req.Device.Model) {
		return invalid("device.model", "device.model: at most 200 characters, no control characters")
	}
	if len(req.Device.AppVersion) > 100 || hasControl(req.Device.AppVersion) {
		return invalid("device.app_version", "device.app_version: at most 100 characters, no control characters")
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

// DeviceConfig is re-provisioning: the current configuration for the device
// holding credential, so profile changes reach it.
func (s *Service) DeviceConfig(ctx context.Context, credential string) (*model.DeviceConfig, error) {
	if !secret.WellFormed(credential, secret.PrefixDevice) {
		return nil, ErrDeviceCredential
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	var cfg model.DeviceConfig
	now := s.now()
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		dev, err := tx.DeviceByCredential(ctx, secret.Hash(credential))
		if errors.Is(err, store.ErrNotFound) {
			return ErrDeviceCredential
		}
		if err != nil {
			return fmt.Errorf("reading device: %w", err)
		}
		a, err := tx.AccountByID(ctx, dev.AccountID)
		if err != nil {
			return fmt.Errorf("reading account: %w", err)
		}
		if a.Disabled {
			return ErrAccountDisabled
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
		cfg, err = s.buildConfig(ctx, &tx.Reader, st, a, string(password), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (s *Service) buildConfig(ctx context.Context, r *store.Reader, st *Settings, a *store.AccountRow, password string, now time.Time) (model.DeviceConfig, error) {
	ep, err := s.effectiveProfile(ctx, r, a)
	if err != nil {
		return model.DeviceConfig{}, err
	}
	return provisioning.NativeConfig(provisioning.ConfigInput{
		BaseURL: st.BaseURL, Username: a.Username, Password: password, DisplayName: a.DisplayName,
		VirtualNumber: a.VirtualNumber, SecurityModel: a.SecurityModel, SIPDomain: st.SIPDomain, SIPHost: st.SIPHost,
		SIPPorts: st.SIPPorts, Transports: st.SIPTransports, Profile: ep.Settings, IssuedAt: now,
	}), nil
}

// stageBefore reports whether stage a comes before stage b.
func stageBefore(a, b string) bool {
	for _, st := range model.Stages {
		switch st {
		case b:
			return false
		case a:
			return true
		}
	}
	return false
}
