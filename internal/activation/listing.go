package activation

import (
	"context"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Listings page by cursor. A cursor names where a page starts: "b<id>"
// for the rows older than id (the next page), "a<id>" for the rows newer
// (the previous page). The API and the console hand out the cursors of a
// page's neighbours with the page and take them back as they are.

// MaxOffset is the deepest offset a listing still takes. Offset paging is
// kept so that scripts written against earlier versions keep working, but
// an offset walks every row it skips, so a deep one on a large
// installation is slow for everyone; cursors are as fast on the last page
// as on the first.
const MaxOffset = 10000

// parsePage reads a listing's limit, offset and cursor.
func parsePage(limit, max, offset int, cursor string) (store.Page, error) {
	p := store.Page{Limit: limit, Offset: offset}
	if limit < 0 || limit > max {
		return p, invalid("limit", "limit must be from 1 to %d", max)
	}
	if offset < 0 {
		return p, invalid("offset", "offset must not be negative")
	}
	if offset > MaxOffset {
		return p, invalid("offset", "offset must be at most %d: page with cursor instead (next_cursor of the previous page)", MaxOffset)
	}
	if cursor == "" {
		return p, nil
	}
	if offset > 0 {
		return p, invalid("offset", "give cursor or offset, not both")
	}
	id, err := strconv.ParseInt(cursor[min(1, len(cursor)):], 10, 64)
	if err != nil || id <= 0 || !strings.ContainsAny(cursor[:1], "ab") {
		return p, invalid("cursor", "cursor %q is not one this server gave: use next_cursor or prev_cursor of a listing as it is", cursor)
	}
	if cursor[0] == 'a' {
		p.After = id
	} else {
		p.Before = id
	}
	return p, nil
}

// cursors are the cursors of a page's neighbours.
func cursors(info store.PageInfo) model.Cursors {
	var c model.Cursors
	if info.Next > 0 {
		c.Next = "b" + strconv.FormatInt(info.Next, 10)
	}
	if info.Prev > 0 {
		c.Prev = "a" + strconv.FormatInt(info.Prev, 10)
	}
	return c
}

// AccountQuery asks for one page of accounts.
type AccountQuery struct {
	Group, Status, Search, SecurityModel string
	Limit, Offset                        int
	Cursor                               string
}

// AccountPage is one page of accounts, newest first, the cursors of its
// neighbours, and how many accounts the filter selects when that is known
// without counting them (Total -1 otherwise: with a group or a search).
type AccountPage struct {
	Accounts []model.Account
	model.Cursors
	Total int
}

// Page lists one page of the caller's organisation's accounts.
func (s *Accounts) Page(ctx context.Context, q AccountQuery, by Caller) (*AccountPage, error) {
	p, err := parsePage(q.Limit, 1000, q.Offset, q.Cursor)
	if err != nil {
		return nil, err
	}
	if q.SecurityModel != "" && !model.SecurityModel(q.SecurityModel).Valid() {
		return nil, invalid("security_model", "unknown security model %q: want end-to-end or end-to-site", q.SecurityModel)
	}
	f := store.AccountFilter{Status: q.Status, Search: q.Search, SecurityModel: q.SecurityModel,
		Limit: p.Limit, Offset: p.Offset, Before: p.Before, After: p.After}
	if err := s.resolve(ctx, by.OrgID, &f, q.Group); err != nil {
		return nil, err
	}
	as, info, err := s.store.AccountsPage(ctx, by.OrgID, f)
	if err != nil {
		return nil, err
	}
	out := &AccountPage{Accounts: as, Cursors: cursors(info), Total: -1}
	if q.Group == "" && q.Search == "" && q.SecurityModel == "" {
		counts, err := s.store.AccountCounts(ctx, by.OrgID)
		if err != nil {
			return nil, err
		}
		out.Total = 0
		for k, n := range counts {
			if q.Status == "" || k == q.Status {
				out.Total += n
			}
		}
	}
	return out, nil
}

// MessagePage is one page of messages, newest first, and the cursors of
// its neighbours.
type MessagePage struct {
	Messages []model.Message
	model.Cursors
}

// Page lists one page of messages and their delivery state, optionally of
// one state or one account.
func (s *Messages) Page(ctx context.Context, state, username string, limit int, cursor string, by Caller) (*MessagePage, error) {
	switch state {
	case "", model.MessageQueued, model.MessageSending, model.MessageSent, model.MessageDelivered, model.MessageFailed:
	default:
		return nil, invalid("state", "unknown state %q: want queued, sending, sent, delivered or failed", state)
	}
	p, err := parsePage(limit, 1000, 0, cursor)
	if err != nil {
		return nil, err
	}
	f := store.MessageFilter{State: state, Limit: p.Limit, Before: p.Before, After: p.After}
	if username != "" {
		a, err := account(ctx, &s.store.Reader, by.OrgID, username)
		if err != nil {
			return nil, invalidFrom("username", err)
		}
		f.AccountID = a.ID
	}
	ms, info, err := s.store.MessagesPage(ctx, by.OrgID, f)
	if err != nil {
		return nil, err
	}
	return &MessagePage{Messages: ms, Cursors: cursors(info)}, nil
}

// OutboxPage is one page of the outbox, newest first, and the cursors of
// its neighbours.
type OutboxPage struct {
	Items []model.OutboxItem
	model.Cursors
}

// OutboxPage lists one page of what the outbox gateway kept, with links
// masked: a listing is no place for a live link.
func (s *Messages) OutboxPage(ctx context.Context, limit int, cursor string, by Caller) (*OutboxPage, error) {
	p, err := parsePage(limit, 1000, 0, cursor)
	if err != nil {
		return nil, err
	}
	items, info, err := s.store.OutboxPage(ctx, by.OrgID, p)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Subject = secret.MaskLinks(items[i].Subject)
		items[i].Body = secret.MaskLinks(items[i].Body)
		items[i].HTML = secret.MaskLinks(items[i].HTML)
	}
	return &OutboxPage{Items: items, Cursors: cursors(info)}, nil
}

// AuditPage is one page of the audit log, newest first, and the cursors
// of its neighbours.
type AuditPage struct {
	Entries []model.AuditEntry
	model.Cursors
}

// Page lists one page of the caller's organisation's audit entries; a
// cursor wins over f's BeforeID and AfterID.
func (s *Audit) Page(ctx context.Context, f AuditFilter, cursor string, by Caller) (*AuditPage, error) {
	p, err := parsePage(f.Limit, 10000, 0, cursor)
	if err != nil {
		return nil, err
	}
	if cursor != "" {
		f.BeforeID, f.AfterID = p.Before, p.After
	}
	es, info, err := s.store.AuditPage(ctx, by.OrgID, f)
	if err != nil {
		return nil, err
	}
	return &AuditPage{Entries: auditEntries(es), Cursors: cursors(info)}, nil
}

// ImportPage is one page of imports, newest first, and the cursors of its
// neighbours.
type ImportPage struct {
	Imports []model.ImportStatus
	model.Cursors
}

// Page lists one page of imports (50 by default).
func (s *Imports) Page(ctx context.Context, limit int, cursor string, by Caller) (*ImportPage, error) {
	if limit == 0 {
		limit = 50
	}
	p, err := parsePage(limit, 1000, 0, cursor)
	if err != nil {
		return nil, err
	}
	ims, info, err := s.store.ImportsPage(ctx, by.OrgID, p)
	if err != nil {
		return nil, err
	}
	out := make([]model.ImportStatus, len(ims))
	for i := range ims {
		out[i] = *importStatus(&ims[i])
	}
	return &ImportPage{Imports: out, Cursors: cursors(info)}, nil
}
