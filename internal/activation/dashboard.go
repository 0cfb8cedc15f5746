package activation

import (
	"context"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

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
