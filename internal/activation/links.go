package activation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Links issues an account's secure links, sent in a message or shown as a
// QR code, revokes them, and serves what a link's pages show: the landing
// page, the installation redirect and the signed activation file.
type Links struct {
	store       *store.Store
	settings    *Settings
	gateways    *Gateways // routes each message
	templates   *messaging.Templates
	box         *secret.Box // seals the texts of the messages it queues
	signingKey  ed25519.PrivateKey
	keyChain    []provisioning.KeyEndorsement
	tlsPin      string
	maxAttempts int
	onEnqueue   func()
	log         *slog.Logger
	now         func() time.Time
}

// LinksConfig is what Links is made from.
type LinksConfig struct {
	Store      *store.Store
	Settings   *Settings
	Gateways   *Gateways
	Templates  *messaging.Templates
	Box        *secret.Box        // seals message texts at rest
	SigningKey ed25519.PrivateKey // signs activation files
	// KeyChain is the signing key's endorsements since the first key
	// (keys rotate-signing), carried by every activation file.
	KeyChain []provisioning.KeyEndorsement
	// TLSPin is the server certificate's pin, put in activation files when TLS is on.
	TLSPin string
	// MaxAttempts is how many times a message is tried before it fails (0: 8).
	MaxAttempts int
	// OnEnqueue is called after a message is committed to the queue, to wake the worker.
	OnEnqueue func()
	Logger    *slog.Logger
}

// NewLinks returns the links of the organisations in c.Store.
func NewLinks(c LinksConfig) *Links {
	s := &Links{store: c.Store, settings: c.Settings, gateways: c.Gateways, templates: c.Templates, box: c.Box, signingKey: c.SigningKey, keyChain: c.KeyChain,
		tlsPin: c.TLSPin, maxAttempts: c.MaxAttempts, onEnqueue: c.OnEnqueue, log: orDiscard(c.Logger), now: time.Now}
	if s.maxAttempts <= 0 {
		s.maxAttempts = 8
	}
	if s.onEnqueue == nil {
		s.onEnqueue = func() {}
	}
	return s
}

// PublicKey is the key that signs activation files.
func (s *Links) PublicKey() ed25519.PublicKey { return s.signingKey.Public().(ed25519.PublicKey) }

// Send issues a new secure link for an account and queues the message that
// carries it, in one transaction: there is never a link without its message
// nor a message without its link. An activation link kills every earlier live
// link of the account; an installation link kills earlier installation links.
func (s *Links) Send(ctx context.Context, username string, req model.SendRequest, by Caller) (*model.SendResult, error) {
	if req.Kind == "" {
		req.Kind = model.LinkActivation
	}
	if !req.Kind.Valid() {
		return nil, invalid("kind", "unknown kind %q: want activation or installation", req.Kind)
	}
	if req.Channel != model.ChannelEmail && req.Channel != model.ChannelSMS {
		return nil, invalid("channel", "unknown channel %q: want email or sms", req.Channel)
	}
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	token, hash := secret.NewToken(secret.PrefixLink)
	linkURL := st.BaseURL + "/a/" + token
	res := &model.SendResult{}
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := account(ctx, &tx.Reader, by.OrgID, username)
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
		if err := checkMessageQuota(ctx, &tx.Reader, st, now); err != nil {
			return err
		}
		link := &model.Link{AccountID: a.ID, Kind: req.Kind, Channel: req.Channel, TokenPrefix: secret.Display(token),
			CreatedAt: now, ExpiresAt: now.Add(st.LinkExpiry)}
		kinds := []model.LinkKind{model.LinkInstallation}
		if req.Kind == model.LinkActivation {
			kinds = nil // every kind
		}
		if _, err := tx.RevokeLinks(ctx, a.ID, kinds...); err != nil {
			return fmt.Errorf("revoking earlier links: %w", err)
		}
		if err := tx.CreateLink(ctx, link, hash); err != nil {
			return fmt.Errorf("storing the link: %w", err)
		}
		text, err := s.templates.RenderWith(st.Templates, a.Language, req.Channel, req.Kind, messaging.MessageVars{
			Name: a.DisplayName, Link: linkURL, Company: st.Company, ITEmail: g.ITEmail, ITContact: st.ITContact, ExpiresAt: link.ExpiresAt,
			LogoURL: st.BrandLogoURL, Colour: st.BrandColour,
		})
		if err != nil {
			return fmt.Errorf("rendering the message: %w", err)
		}
		gateway, err := s.gateways.route(ctx, &tx.Reader, a.OrgID, req.Gateway, req.Channel, a.GroupID)
		if err != nil {
			return err
		}
		// The row keeps the text masked and the whole text sealed: a copy
		// of the database holds no link anyone can use.
		whole := messaging.Text{Body: text.Text, HTML: text.HTML}
		shown := whole.Masked()
		m := &store.MessageRow{OrgID: a.OrgID, MaxAttempts: s.maxAttempts, Message: model.Message{
			AccountID: a.ID, LinkID: link.ID, Username: a.Username, Channel: req.Channel, Kind: req.Kind.MessageKind(),
			Gateway: gateway, Recipient: recipient, Subject: text.Subject, Body: shown.Body, HTML: shown.HTML,
		}}
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return fmt.Errorf("queueing the message: %w", err)
		}
		if err := tx.SealMessageText(ctx, m.ID, whole.Seal(s.box)); err != nil {
			return fmt.Errorf("queueing the message: %w", err)
		}
		m.Segments = smsSegments(req.Channel, text.Text)
		if m.Segments > 2 {
			s.log.WarnContext(ctx, "the SMS takes more than two segments; shorten the company name or the template", "segments", m.Segments, "language", a.Language)
		}
		if _, err := tx.AdvanceStage(ctx, a.ID, model.StageInvited); err != nil {
			return err
		}
		detail := map[string]string{"kind": string(req.Kind), "channel": req.Channel, "link": link.TokenPrefix, "message_id": fmt.Sprint(m.ID)}
		if err := tx.AddEvent(ctx, a.OrgID, a.ID, model.EventMessageQueued, by.Name, detail); err != nil {
			return err
		}
		res.Link, res.Message = *link, m.Message
		// The caller's copy is whole, as its recipient reads it; Body and
		// HTML never go on the wire (model.Message), and the row is masked.
		res.Message.Body, res.Message.HTML = whole.Body, whole.HTML
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.onEnqueue()
	s.log.InfoContext(ctx, "link sent", "username", username, "kind", req.Kind, "channel", req.Channel, "link", res.Link.TokenPrefix, "message_id", res.Message.ID, "by", by.Name)
	return res, nil
}

// Revoke kills an account's live links.
func (s *Links) Revoke(ctx context.Context, username string, by Caller) (int, error) {
	var n int
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := account(ctx, &tx.Reader, by.OrgID, username)
		if err != nil {
			return err
		}
		if n, err = tx.RevokeLinks(ctx, a.ID); err != nil || n == 0 {
			return err
		}
		return tx.AddEvent(ctx, a.OrgID, a.ID, model.EventLinkRevoked, by.Name, map[string]string{"count": fmt.Sprint(n)})
	})
	return n, err
}

// LinkPage is what a link's pages show.
type LinkPage struct {
	Link          *store.LinkRow
	Settings      *Resolved
	Apps          []model.AppURL
	PageURL       string
	ActivationURL string
	QRURL         string
}

// lookupLink finds a live link, and its organisation's settings and
// download URLs. When the link is known but no longer live, the page comes
// back with the error, so the error page can speak the account's language
// and name its IT contact.
func (s *Links) lookupLink(ctx context.Context, token string) (*LinkPage, error) {
	// An unknown link names no organisation: its error page is that of
	// the organisation whose host it was asked at, else the default's. A
	// link of another organisation than the host's is unknown here.
	orgID := model.DefaultOrgID
	if id, ok := hostOrg(ctx); ok {
		orgID = id
	}
	var l *store.LinkRow
	if secret.WellFormed(token, secret.PrefixLink) {
		var err error
		l, err = s.store.LinkByHash(ctx, secret.Hash(token))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("reading link: %w", err)
		}
		if l != nil && atAnotherHost(ctx, l.OrgID) {
			l = nil
		}
		if l != nil {
			orgID = l.OrgID
		}
	}
	st, apps, err := s.settings.config(ctx, orgID)
	if err != nil {
		return nil, err
	}
	page := &LinkPage{Settings: st, Apps: apps}
	if l == nil {
		return page, ErrLinkUnknown
	}
	page.Link = l
	base := st.BaseURL + "/a/" + token
	page.PageURL, page.ActivationURL, page.QRURL = base, base+"/activation", base+"/qr.svg"
	if st.Suspended() {
		return page, ErrOrganisationSuspended
	}
	return page, linkState(l, s.now())
}

func linkState(l *store.LinkRow, now time.Time) error {
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
// a repeated view costs one insert. It shares a commit with the writes
// that arrive meanwhile (store.SharedTx), and returns once that commit
// holds it.
func (s *Links) record(ctx context.Context, l *store.LinkRow, kind model.EventKind, stage string, detail map[string]string) error {
	return s.store.SharedTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if stage != "" && stageBefore(l.Stage, stage) {
			if _, err := tx.AdvanceStage(ctx, l.AccountID, stage); err != nil {
				return err
			}
		}
		return tx.AddEvent(ctx, l.OrgID, l.AccountID, kind, "", detail)
	})
}

// Open serves the landing page's data and records the view. A view never
// uses the link up: mail scanners fetch links before people do.
func (s *Links) Open(ctx context.Context, token, platform string) (*LinkPage, error) {
	page, err := s.lookupLink(ctx, token)
	if err != nil {
		return page, err
	}
	if err := s.record(ctx, page.Link, model.EventOpened, model.StageOpened, map[string]string{"platform": platform}); err != nil {
		return nil, fmt.Errorf("recording the view: %w", err)
	}
	return page, nil
}

// Info returns a link's page data without recording anything.
func (s *Links) Info(ctx context.Context, token string) (*LinkPage, error) {
	return s.lookupLink(ctx, token)
}

// InstallURL returns where the installation link leads for platform, and
// records the click.
func (s *Links) InstallURL(ctx context.Context, token, platform string) (string, *LinkPage, error) {
	page, err := s.lookupLink(ctx, token)
	if err != nil {
		return "", page, err
	}
	if err := validPlatform("platform", platform); err != nil {
		return "", page, err
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
func (s *Links) ActivationFile(ctx context.Context, token string) (*ActivationFile, *LinkPage, error) {
	page, err := s.lookupLink(ctx, token)
	if err != nil {
		return nil, page, err
	}
	if page.Link.Kind != model.LinkActivation {
		return nil, page, notFound("no_activation", "this link is for installation only")
	}
	data, err := provisioning.SignActivationChain(provisioning.ActivationPayload{
		Server: page.Settings.BaseURL, Token: token, IssuedAt: s.now(), ExpiresAt: page.Link.ExpiresAt,
		TLSPin: s.tlsPin, DisplayName: page.Link.DisplayName,
	}, s.signingKey, s.keyChain)
	if err != nil {
		return nil, page, fmt.Errorf("signing the activation file: %w", err)
	}
	if err := s.record(ctx, page.Link, model.EventFileDownloaded, "", nil); err != nil {
		return nil, nil, fmt.Errorf("recording the download: %w", err)
	}
	return &ActivationFile{Data: data, FileName: page.Link.Username + "." + page.Settings.FileExt, MIMEType: page.Settings.MIMEType}, page, nil
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

// ChannelQR is the channel of a link shown as a QR code in the console
// instead of being sent: the CSR shows it to the user, who scans it.
const ChannelQR = "qr"

// IssueQR issues a new activation link for an account to be shown once
// as a QR code (face to face, or on a screen share), without a message. Like
// sending, it kills the account's earlier live links. The link is returned
// to the caller only; only its hash is kept.
func (s *Links) IssueQR(ctx context.Context, username string, by Caller) (string, *model.Link, error) {
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return "", nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	token, hash := secret.NewToken(secret.PrefixLink)
	var link *model.Link
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := account(ctx, &tx.Reader, by.OrgID, username)
		if err != nil {
			return err
		}
		if a.Disabled {
			return conflict("account_disabled", "", "account %s is disabled; enable it first", username)
		}
		if _, err := tx.RevokeLinks(ctx, a.ID); err != nil {
			return fmt.Errorf("revoking earlier links: %w", err)
		}
		link = &model.Link{AccountID: a.ID, Kind: model.LinkActivation, Channel: ChannelQR, TokenPrefix: secret.Display(token),
			CreatedAt: now, ExpiresAt: now.Add(st.LinkExpiry)}
		if err := tx.CreateLink(ctx, link, hash); err != nil {
			return fmt.Errorf("storing the link: %w", err)
		}
		if _, err := tx.AdvanceStage(ctx, a.ID, model.StageInvited); err != nil {
			return err
		}
		return tx.AddEvent(ctx, a.OrgID, a.ID, model.EventLinkIssued, by.Name, map[string]string{"kind": string(model.LinkActivation), "channel": ChannelQR, "link": link.TokenPrefix})
	})
	if err != nil {
		return "", nil, err
	}
	s.log.InfoContext(ctx, "link issued as a QR code", "username", username, "link", link.TokenPrefix, "by", by.Name)
	return st.BaseURL + "/a/" + token, link, nil
}
