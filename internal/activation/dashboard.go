package activation

import (
	"context"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Dashboard gathers the console's first page.
type Dashboard struct {
	store    *store.Store
	audit    *Audit    // recent operator activity
	accounts *Accounts // how full the virtual number range is
}

// NewDashboard returns the dashboard of the organisations in st.
func NewDashboard(st *store.Store, audit *Audit, accounts *Accounts) *Dashboard {
	return &Dashboard{store: st, audit: audit, accounts: accounts}
}

// DashboardView is the console's first page: accounts by status, the
// messages failing now, and recent operator activity.
type DashboardView struct {
	Counts  map[string]int
	Total   int
	Failing []model.Message
	Recent  []model.AuditEntry
	Imports []model.ImportStatus
	// Numbers is how full the virtual number range is; its Warning is shown from 80%.
	Numbers *model.NumberRangeUse
}

// Gather gathers the caller's organisation's dashboard: one indexed query
// a tile (the account counts are kept by the store as accounts change).
func (s *Dashboard) Gather(ctx context.Context, withAudit bool, by Caller) (*DashboardView, error) {
	d := &DashboardView{}
	var err error
	if d.Numbers, err = s.accounts.NumberRangeUse(ctx, by); err != nil {
		return nil, err
	}
	if d.Counts, err = s.store.AccountCounts(ctx, by.OrgID); err != nil {
		return nil, err
	}
	for _, n := range d.Counts {
		d.Total += n
	}
	if d.Failing, err = s.store.Messages(ctx, by.OrgID, store.MessageFilter{State: model.MessageFailed, Limit: 10}); err != nil {
		return nil, err
	}
	retrying, err := s.store.Messages(ctx, by.OrgID, store.MessageFilter{State: model.MessageQueued, Limit: 50})
	if err != nil {
		return nil, err
	}
	for _, m := range retrying {
		if m.Attempts > 0 && m.LastError != "" {
			d.Failing = append(d.Failing, m)
		}
	}
	d.Counts[model.MessageFailed] = len(d.Failing)
	if withAudit {
		if d.Recent, err = s.audit.Log(ctx, AuditFilter{Limit: 10}, by); err != nil {
			return nil, err
		}
	}
	return d, nil
}
