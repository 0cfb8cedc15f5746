package activation

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// ExportColumns are the columns of an account export: the import's columns
// first, so an export can be imported again (matching rows are skipped),
// then what only the server knows.
var ExportColumns = append(append([]string{}, ImportColumns...), "username", "virtual number", "status", "created at", "activated at")

// ExportAccounts writes the accounts a filter selects as CSV, page by page
// so that memory stays flat however many there are.
func (s *Service) ExportAccounts(ctx context.Context, w io.Writer, group, status, search string) error {
	cw := newSafeCSV(w)
	if err := cw.Write(ExportColumns); err != nil {
		return err
	}
	const page = 1000
	for offset := 0; ; offset += page {
		as, err := s.ListAccounts(ctx, group, status, search, page, offset)
		if err != nil {
			return err
		}
		for _, a := range as {
			activated := ""
			if a.ActivatedAt != nil {
				activated = a.ActivatedAt.UTC().Format(time.RFC3339)
			}
			rec := []string{a.DisplayName, a.Mobile, a.Email, string(a.SecurityModel), a.Description,
				a.Group, a.Profile, a.Language, a.Username, a.VirtualNumber, a.Status,
				a.CreatedAt.UTC().Format(time.RFC3339), activated}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		if err := cw.Flush(); err != nil {
			return err
		}
		if len(as) < page {
			return nil
		}
	}
}

// formulaStart holds the first characters that make a spreadsheet read a
// cell as a formula (OWASP's CSV injection list, and a line feed).
const formulaStart = "=+-@\t\r\n"

// signedNumber is a cell a spreadsheet reads as a plain number, such as a
// phone number in E.164 (+393331234567): no formula can hide in it, and
// scripts reading the export get the number as it is.
var signedNumber = regexp.MustCompile(`^[+-][0-9]{1,20}$`)

// csvSafe keeps a spreadsheet from reading a cell as a formula: such a cell
// gets a leading ', which spreadsheets show as text and hide. csvPlain takes
// it off again, so an export imports back unchanged.
func csvSafe(v string) string {
	if v != "" && strings.IndexByte(formulaStart, v[0]) >= 0 && !signedNumber.MatchString(v) {
		return "'" + v
	}
	return v
}

// csvPlain undoes csvSafe on a cell read from a file.
func csvPlain(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.IndexByte(formulaStart, v[1]) >= 0 {
		return v[1:]
	}
	return v
}

// safeCSV writes CSV whose every cell is csvSafe, whatever column it is
// in: a value's source (a name, a login attempt, an audit target) never
// decides whether it is neutralised.
type safeCSV struct{ w *csv.Writer }

func newSafeCSV(w io.Writer) safeCSV { return safeCSV{csv.NewWriter(w)} }

func (c safeCSV) Write(rec []string) error {
	for i, v := range rec {
		rec[i] = csvSafe(v)
	}
	return c.w.Write(rec)
}

func (c safeCSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// ExportAudit writes audit entries as CSV, newest first.
func (s *Service) ExportAudit(ctx context.Context, w io.Writer, f AuditFilter) error {
	cw := newSafeCSV(w)
	if err := cw.Write([]string{"id", "at", "actor", "role", "via", "action", "target", "status", "before", "after"}); err != nil {
		return err
	}
	for {
		f.Limit = 1000
		es, err := s.store.Audit(ctx, s.org, f)
		if err != nil {
			return err
		}
		for _, e := range es {
			if err := cw.Write([]string{itoa64(e.ID), e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.ActorRole, e.Via, e.Action,
				e.Target, itoa64(int64(e.Status)), e.Before, e.After}); err != nil {
				return err
			}
		}
		if err := cw.Flush(); err != nil {
			return err
		}
		if len(es) < f.Limit {
			return nil
		}
		f.BeforeID = es[len(es)-1].ID
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// MessagePreview is a message as its recipient would read it, rendered with
// a sample link, with the SMS segment count when it is an SMS.
type MessagePreview struct {
	Language, Channel, Kind string
	Subject, Text, HTML     string
	Encoding                string // SMS: GSM-7 or UCS-2
	Segments                int    // SMS: parts the text takes
	Chars                   int
}

// PreviewMessage renders the message of a kind and channel in a language
// for the console's templates page. The link is a sample, never a live one.
func (s *Service) PreviewMessage(ctx context.Context, lang, channel, kind, name string) (*MessagePreview, error) {
	if lang != "" && !model.ValidLanguage(lang) {
		return nil, invalid("language", "unsupported language %q", lang)
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		kind = model.KindActivation
	}
	if channel == "" {
		channel = model.ChannelSMS
	}
	if kind != model.KindActivation && kind != model.KindInstallation {
		return nil, invalid("kind", "want activation or installation")
	}
	if channel != model.ChannelSMS && channel != model.ChannelEmail {
		return nil, invalid("channel", "want sms or email")
	}
	r, err := s.templates.Render(lang, channel, kind, messaging.MessageVars{
		Name: name, Link: st.BaseURL + "/a/avl_sample0000000000000000000000000000", Company: st.Company,
		ITEmail: "it@example.com", ExpiresAt: s.now().Add(st.LinkExpiry),
	})
	if err != nil {
		return nil, err
	}
	p := &MessagePreview{Language: lang, Channel: channel, Kind: kind, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Chars: utf8.RuneCountInString(r.Text)}
	if channel == model.ChannelSMS {
		p.Encoding, p.Segments = messaging.SMSSegments(r.Text)
	}
	return p, nil
}

// ChannelQR is the channel of a link shown as a QR code in the console
// instead of being sent: the CSR shows it to the user, who scans it.
const ChannelQR = "qr"

// IssueQRLink issues a new activation link for an account to be shown once
// as a QR code (face to face, or on a screen share), without a message. Like
// sending, it kills the account's earlier live links. The link is returned
// to the caller only; only its hash is kept.
func (s *Service) IssueQRLink(ctx context.Context, username string, by Caller) (string, *model.Invitation, error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return "", nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	token, hash := secret.NewToken(secret.PrefixLink)
	var inv *model.Invitation
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := s.account(ctx, &tx.Reader, username)
		if err != nil {
			return err
		}
		if a.Disabled {
			return conflict("account_disabled", "", "account %s is disabled; enable it first", username)
		}
		if _, err := tx.RevokeInvitations(ctx, a.ID); err != nil {
			return fmt.Errorf("revoking earlier links: %w", err)
		}
		inv = &model.Invitation{AccountID: a.ID, Kind: model.KindActivation, Channel: ChannelQR, TokenPrefix: secret.Display(token),
			CreatedAt: now, ExpiresAt: now.Add(st.LinkExpiry)}
		if err := tx.CreateInvitation(ctx, inv, hash); err != nil {
			return fmt.Errorf("storing the link: %w", err)
		}
		if _, err := tx.AdvanceStage(ctx, a.ID, model.StageInvited); err != nil {
			return err
		}
		return tx.AddEvent(ctx, s.org, a.ID, model.EventLinkIssued, by.Name, map[string]string{"kind": model.KindActivation, "channel": ChannelQR, "link": inv.TokenPrefix})
	})
	if err != nil {
		return "", nil, err
	}
	s.log.Info("link issued as a QR code", "username", username, "link", inv.TokenPrefix, "by", by.Name)
	return st.BaseURL + "/a/" + token, inv, nil
}

// ListAccountsOfModel is ListAccounts narrowed to one security model too
// ("" for any), for the console's filters.
func (s *Service) ListAccountsOfModel(ctx context.Context, group, status, search, securityModel string, limit, offset int) ([]model.Account, error) {
	if securityModel != "" && !model.SecurityModel(securityModel).Valid() {
		return nil, invalid("security_model", "unknown security model %q: want end-to-end or end-to-site", securityModel)
	}
	return s.listAccounts(ctx, store.AccountFilter{Status: status, Search: search, SecurityModel: securityModel, Limit: limit, Offset: offset}, group)
}
