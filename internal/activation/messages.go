package activation

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Messages shows the messages activator queued and their delivery state,
// what the outbox gateway kept, and previews of the message templates.
type Messages struct {
	store     *store.Store
	box       *secret.Box // opens the outbox's whole texts
	settings  *Settings
	templates *messaging.Templates
	now       func() time.Time
}

// NewMessages returns the messages of the organisations in st, previewed
// with templates; box opens the texts the outbox keeps sealed.
func NewMessages(st *store.Store, box *secret.Box, settings *Settings, templates *messaging.Templates) *Messages {
	return &Messages{store: st, box: box, settings: settings, templates: templates, now: time.Now}
}

// List lists messages and their delivery state, optionally for one account.
func (s *Messages) List(ctx context.Context, state, username string, limit int, by Caller) ([]model.Message, error) {
	switch state {
	case "", model.MessageQueued, model.MessageSending, model.MessageSent, model.MessageDelivered, model.MessageFailed:
	default:
		return nil, invalid("state", "unknown state %q: want queued, sending, sent, delivered or failed", state)
	}
	if limit < 0 || limit > 1000 {
		return nil, invalid("limit", "limit must be from 1 to 1000")
	}
	f := store.MessageFilter{State: state, Limit: limit}
	if username != "" {
		a, err := account(ctx, &s.store.Reader, by.OrgID, username)
		if err != nil {
			return nil, invalidFrom("username", err)
		}
		f.AccountID = a.ID
	}
	return s.store.Messages(ctx, by.OrgID, f)
}

// Outbox lists what the outbox gateway kept, with links masked: a listing
// is no place for a live link.
func (s *Messages) Outbox(ctx context.Context, limit int, by Caller) ([]model.OutboxItem, error) {
	if limit < 0 || limit > 1000 {
		return nil, invalid("limit", "limit must be from 1 to 1000")
	}
	items, err := s.store.Outbox(ctx, by.OrgID, limit)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Subject = secret.MaskLinks(items[i].Subject)
		items[i].Body = secret.MaskLinks(items[i].Body)
		items[i].HTML = secret.MaskLinks(items[i].HTML)
	}
	return items, nil
}

// OutboxItem shows one outbox message as its recipient reads it, except
// for its link: the link is shown whole only to an admin (mayReveal), who
// tries the flow with it, and only while it can still be used; to anyone
// else, and once it is used, revoked or expired, it is masked.
func (s *Messages) OutboxItem(ctx context.Context, id int64, by Caller) (*model.OutboxItem, error) {
	it, err := s.store.OutboxItem(ctx, by.OrgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("message_not_found", "no outbox message %d", id)
	}
	if err != nil {
		return nil, err
	}
	// Kept masked; masked again for a row kept in clear by an earlier
	// version that the start-up pass has not reached.
	it.Subject, it.Body, it.HTML = secret.MaskLinks(it.Subject), secret.MaskLinks(it.Body), secret.MaskLinks(it.HTML)
	if !mayReveal(by) {
		return it, nil
	}
	sec, err := s.store.OutboxSecretOf(ctx, by.OrgID, id)
	if err != nil {
		return nil, err
	}
	if sec.Sealed == nil || !sec.HasLink || sec.LinkUsed || !s.now().Before(sec.LinkExpiresAt) {
		return it, nil
	}
	t, err := messaging.OpenText(s.box, sec.Sealed)
	if err != nil {
		return nil, fmt.Errorf("outbox message %d: %w", id, err)
	}
	it.Body, it.HTML = t.Body, t.HTML
	return it, nil
}

// MessagePreview is a message as its recipient would read it, rendered with
// a sample link, with the SMS segment count when it is an SMS.
type MessagePreview struct {
	Language, Channel   string
	Kind                model.LinkKind // the kind of link the message carries
	Subject, Text, HTML string
	Encoding            string // SMS: GSM-7 or UCS-2
	Segments            int    // SMS: parts the text takes
	Chars               int
}

// Preview renders the message of a kind and channel in a language for the
// console's templates page, with the caller's organisation's settings and
// custom texts.
// The link is a sample, never a live one.
func (s *Messages) Preview(ctx context.Context, lang, channel string, kind model.LinkKind, name string, by Caller) (*MessagePreview, error) {
	if lang != "" && !model.ValidLanguage(lang) {
		return nil, invalid("language", "unsupported language %q", lang)
	}
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		kind = model.LinkActivation
	}
	if channel == "" {
		channel = model.ChannelSMS
	}
	if !kind.Valid() {
		return nil, invalid("kind", "want activation or installation")
	}
	if channel != model.ChannelSMS && channel != model.ChannelEmail {
		return nil, invalid("channel", "want sms or email")
	}
	r, err := s.templates.RenderWith(st.Templates, lang, channel, kind, s.sampleVars(st, name))
	if err != nil {
		return nil, err
	}
	p := &MessagePreview{Language: lang, Channel: channel, Kind: kind, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Chars: utf8.RuneCountInString(r.Text)}
	if channel == model.ChannelSMS {
		p.Encoding, p.Segments = messaging.SMSSegments(r.Text)
	}
	return p, nil
}

// smsSegments tells the parts an SMS text takes, for the send result.
func smsSegments(channel, text string) int {
	if channel != model.ChannelSMS {
		return 0
	}
	_, n := messaging.SMSSegments(text)
	return n
}
