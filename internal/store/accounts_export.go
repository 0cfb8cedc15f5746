package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ExportAccount is an account as an export writes it: only the columns
// the file shows, read without the listing's SIP secrets and other
// columns, which a million-row export would read and drop (on SQLite each
// column read costs as much as the row's step).
type ExportAccount struct {
	ID                                   int64
	DisplayName, Mobile, Email           string
	SecurityModel, Description, Language string
	Group, Profile                       string
	Username, VirtualNumber, Stage       string
	Disabled                             bool
	CreatedAt                            time.Time
	ActivatedAt                          time.Time // zero: never activated
}

const exportCols = `a.id, a.display_name, a.mobile, a.email, a.security_model, a.description, a.language,
	g.name, COALESCE(p.name, ''), a.username, a.virtual_number, a.stage, a.disabled, a.created_at, a.activated_at`

// exportQuery is accountsQuery reading exportCols; the store's tests read
// its plan.
func (r *Reader) exportQuery(orgID int64, f AccountFilter) (string, []any) {
	return r.accountsSelect(exportCols+accountFrom, orgID, f)
}

// ExportPage reads one page of the accounts f selects, newest first, into
// buf (reused: its rows are overwritten) and says where the next page
// starts. It reads the rows AccountsPage would, in the same order.
func (r *Reader) ExportPage(ctx context.Context, orgID int64, f AccountFilter, buf []ExportAccount) ([]ExportAccount, PageInfo, error) {
	q, args := r.exportQuery(orgID, f)
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, PageInfo{}, fmt.Errorf("exporting accounts: %w", err)
	}
	defer rows.Close()
	out := buf[:0]
	var (
		created   int64
		activated sql.NullInt64
	)
	for i := 0; rows.Next(); i++ {
		if i < cap(buf) {
			out = out[:i+1]
		} else {
			out = append(out, ExportAccount{})
		}
		a := &out[i]
		if err := rows.Scan(&a.ID, &a.DisplayName, &a.Mobile, &a.Email, &a.SecurityModel, &a.Description, &a.Language,
			&a.Group, &a.Profile, &a.Username, &a.VirtualNumber, &a.Stage, &a.Disabled, &created, &activated); err != nil {
			return nil, PageInfo{}, fmt.Errorf("exporting accounts: %w", mapErr(err))
		}
		a.CreatedAt, a.ActivatedAt = fromMS(created), time.Time{}
		if activated.Valid {
			a.ActivatedAt = fromMS(activated.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, PageInfo{}, fmt.Errorf("exporting accounts: %w", err)
	}
	out, info := finish(f.page(), out, func(a ExportAccount) int64 { return a.ID })
	return out, info, nil
}
