package activation

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// maxAuditJSON bounds what one audit entry keeps of a target's before and after.
const maxAuditJSON = 16 << 10

// Audit is the audit log: who changed what, through which surface, with
// the target before and after. internal/web/audit writes it for every
// mutating request of the admin API and the console.
type Audit struct {
	store *store.Store
	now   func() time.Time
}

// NewAudit returns the audit log of the organisations in st.
func NewAudit(st *store.Store) *Audit { return &Audit{store: st, now: time.Now} }

// Add writes one operator action to the audit log of the caller's
// organisation. before and after are JSON; every secret-looking key is
// removed from them first.
func (s *Audit) Add(ctx context.Context, by Caller, source, via, action, target string, status int, before, after []byte) error {
	e := &store.AuditEntry{
		At: s.now().UTC().Truncate(time.Millisecond), Actor: by.Name, ActorRole: by.Role, Via: via, Action: action,
		Target: target, Status: status, Before: RedactJSON(before), After: RedactJSON(after),
		Source: source, Credential: credentialOf(by),
	}
	if e.Actor == "" {
		e.Actor = "(anonymous)"
	}
	return s.store.Tx(ctx, func(tx *store.Tx) error { return tx.AddAudit(ctx, by.OrgID, e) })
}

// credentialOf says what the caller was known by, for the audit log: never
// the secret itself, only which one.
func credentialOf(by Caller) string {
	switch {
	case by.TokenID != 0:
		return "api token " + itoa64(by.TokenID)
	case by.SessionID != 0:
		return "console session " + itoa64(by.SessionID)
	}
	return ""
}

// AuditFilter narrows the audit log.
type AuditFilter = store.AuditFilter

// Log lists the caller's organisation's audit entries, newest first.
func (s *Audit) Log(ctx context.Context, f AuditFilter, by Caller) ([]model.AuditEntry, error) {
	if f.Limit < 0 || f.Limit > 10000 {
		return nil, invalid("limit", "limit must be from 1 to 10000")
	}
	es, err := s.store.Audit(ctx, by.OrgID, f)
	if err != nil {
		return nil, err
	}
	return auditEntries(es), nil
}

func auditEntries(es []store.AuditEntry) []model.AuditEntry {
	out := make([]model.AuditEntry, len(es))
	for i, e := range es {
		out[i] = model.AuditEntry{ID: e.ID, At: e.At, Actor: e.Actor, Role: e.ActorRole, Via: e.Via, Source: e.Source, Credential: e.Credential, Action: e.Action,
			Target: e.Target, Status: e.Status, Before: e.Before, After: e.After}
	}
	return out
}

// secretKeys are JSON keys whose values never reach the audit log.
// receipt_url ends with a gateway's receipt key.
var secretKeys = []string{"token", "password", "secret", "credential", "api_key", "apikey", "key", "sip_password", "set_password_url", "auth", "receipt_url"}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range secretKeys {
		if k == s || strings.HasSuffix(k, "_"+s) || strings.HasPrefix(k, s+"_") {
			return k != "token_prefix" && k != "credential_prefix"
		}
	}
	return false
}

// RedactJSON returns raw with the value of every secret-looking key
// replaced by "***", and link tokens masked; "" when raw is empty or not JSON.
func RedactJSON(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	v = redact(v)
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	out := secret.MaskLinks(string(b))
	if len(out) > maxAuditJSON {
		out = `{"truncated":true}`
	}
	return out
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			_, nested := val.(map[string]any)
			if secretKey(k) && !nested {
				if val != nil && val != "" {
					x[k] = "***"
				}
				continue
			}
			x[k] = redact(val)
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

// Export writes the caller's organisation's audit entries as CSV, newest first.
func (s *Audit) Export(ctx context.Context, w io.Writer, f AuditFilter, by Caller) error {
	_, err := s.ExportRows(ctx, w, f, by, nil)
	return err
}

// ExportRows is Export that calls progress (when not nil) after each page
// it has written and flushed, and returns how many entries it wrote.
func (s *Audit) ExportRows(ctx context.Context, w io.Writer, f AuditFilter, by Caller, progress func(rows int) error) (int, error) {
	cw := newSafeCSV(w)
	if err := cw.Write([]string{"id", "at", "actor", "role", "via", "action", "target", "status", "before", "after", "source", "credential"}); err != nil {
		return 0, err
	}
	n := 0
	f.Limit, f.AfterID = exportPage, 0
	for {
		es, info, err := s.store.AuditPage(ctx, by.OrgID, f)
		if err != nil {
			return n, err
		}
		for _, e := range es {
			if err := cw.Write([]string{itoa64(e.ID), e.At.UTC().Format(time.RFC3339Nano), e.Actor, string(e.ActorRole), e.Via, e.Action,
				e.Target, itoa64(int64(e.Status)), e.Before, e.After, e.Source, e.Credential}); err != nil {
				return n, err
			}
			n++
		}
		if err := cw.Flush(); err != nil {
			return n, err
		}
		if progress != nil {
			if err := progress(n); err != nil {
				return n, err
			}
		}
		if info.Next == 0 {
			return n, nil
		}
		f.BeforeID = info.Next
	}
}
