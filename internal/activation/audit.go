package activation

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// maxAuditJSON bounds what one audit entry keeps of a target's before and after.
const maxAuditJSON = 16 << 10

// Audit writes one operator action to the audit log. before and after are
// JSON; every secret-looking key is removed from them first.
func (s *Service) Audit(ctx context.Context, by Caller, via, action, target string, status int, before, after []byte) error {
	e := &store.AuditEntry{
		At: s.now().UTC().Truncate(time.Millisecond), Actor: by.Name, ActorRole: by.Role, Via: via, Action: action,
		Target: target, Status: status, Before: RedactJSON(before), After: RedactJSON(after),
	}
	if e.Actor == "" {
		e.Actor = "(anonymous)"
	}
	return s.store.Tx(ctx, func(tx *store.Tx) error { return tx.AddAudit(ctx, s.org, e) })
}

// AuditFilter narrows the audit log.
type AuditFilter = store.AuditFilter

// AuditLog lists audit entries, newest first.
func (s *Service) AuditLog(ctx context.Context, f AuditFilter) ([]model.AuditEntry, error) {
	if f.Limit < 0 || f.Limit > 10000 {
		return nil, invalid("limit", "limit must be from 1 to 10000")
	}
	es, err := s.store.Audit(ctx, s.org, f)
	if err != nil {
		return nil, err
	}
	out := make([]model.AuditEntry, len(es))
	for i, e := range es {
		out[i] = model.AuditEntry{ID: e.ID, At: e.At, Actor: e.Actor, Role: e.ActorRole, Via: e.Via, Action: e.Action,
			Target: e.Target, Status: e.Status, Before: e.Before, After: e.After}
	}
	return out, nil
}

// secretKeys are JSON keys whose values never reach the audit log.
var secretKeys = []string{"token", "password", "secret", "credential", "api_key", "apikey", "key", "sip_password", "set_password_url", "auth"}

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
	out := MaskLinks(string(b))
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

// Snapshot is the current state of one thing an operator may change, as
// JSON for the audit log: kind is account, group, profile, setting, app,
// operator, token or import; key names it. nil when there is no such thing.
func (s *Service) Snapshot(ctx context.Context, kind, key string) []byte {
	var (
		v   any
		err error
	)
	switch kind {
	case "account":
		var a *store.AccountRow
		if a, err = s.store.AccountByUsername(ctx, s.org, key); err == nil {
			v = a.Account
		}
	case "group":
		v, err = s.Group(ctx, key)
	case "profile":
		v, err = s.Profile(ctx, key)
	case "setting":
		var list []model.Setting
		if list, err = s.SettingList(ctx); err == nil {
			for _, st := range list {
				if st.Key == key {
					v = st
				}
			}
		}
	case "app":
		var apps []model.AppURL
		if apps, err = s.Apps(ctx); err == nil {
			var mine []model.AppURL
			for _, a := range apps {
				if a.Platform == key {
					mine = append(mine, a)
				}
			}
			v = mine
		}
	case "operator":
		v, err = s.Operator(ctx, key)
	case "import":
		id, _ := strconv.ParseInt(key, 10, 64)
		v, err = s.ImportStatus(ctx, id)
	default:
		return nil
	}
	if err != nil || v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// Dashboard is the console's first page: accounts by status, the messages
// failing now, and recent operator activity.
type Dashboard struct {
	Counts  map[string]int
	Total   int
	Failing []model.Message
	Recent  []model.AuditEntry
	Imports []model.ImportStatus
}

// Dashboard gathers the dashboard.
func (s *Service) Dashboard(ctx context.Context, withAudit bool) (*Dashboard, error) {
	d := &Dashboard{}
	var err error
	if d.Counts, err = s.store.AccountCounts(ctx, s.org); err != nil {
		return nil, err
	}
	for _, n := range d.Counts {
		d.Total += n
	}
	if d.Failing, err = s.store.Messages(ctx, s.org, store.MessageFilter{State: model.MessageFailed, Limit: 10}); err != nil {
		return nil, err
	}
	retrying, err := s.store.Messages(ctx, s.org, store.MessageFilter{State: model.MessageQueued, Limit: 50})
	if err != nil {
		return nil, err
	}
	for _, m := range retrying {
		if m.Attempts > 0 && m.LastError != "" {
			d.Failing = append(d.Failing, m)
		}
	}
	d.Counts["failed"] = len(d.Failing)
	if withAudit {
		if d.Recent, err = s.AuditLog(ctx, AuditFilter{Limit: 10}); err != nil {
			return nil, err
		}
	}
	return d, nil
}
