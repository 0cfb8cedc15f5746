package activation

import (
	"context"
	"io"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// ExportColumns are the columns of an account export: the import's columns
// first, so an export can be imported again (matching rows are skipped),
// then what only the server knows.
var ExportColumns = append(append([]string{}, ImportColumns...), "username", "virtual number", "status", "created at", "activated at")

// Export writes the accounts a filter selects as CSV, page by page so that
// memory stays flat however many there are.
func (s *Accounts) Export(ctx context.Context, w io.Writer, group, status, search string, by Caller) error {
	_, err := s.ExportRows(ctx, w, group, status, search, by, nil)
	return err
}

// exportPage is how many rows an export reads and writes at a time.
const exportPage = 5000

// ExportRows is Export that calls progress (when not nil) after each page
// it has written and flushed, and returns how many accounts it wrote. It
// walks the accounts by keyset, so the last page costs what the first did.
func (s *Accounts) ExportRows(ctx context.Context, w io.Writer, group, status, search string, by Caller, progress func(rows int) error) (int, error) {
	f := store.AccountFilter{Status: status, Search: search, Limit: exportPage}
	if err := s.resolve(ctx, by.OrgID, &f, group); err != nil {
		return 0, err
	}
	cw := newSafeCSV(w)
	if err := cw.Write(ExportColumns); err != nil {
		return 0, err
	}
	n := 0
	rec := make([]string, len(ExportColumns))
	var page []store.ExportAccount
	for {
		var (
			info store.PageInfo
			err  error
		)
		page, info, err = s.store.ExportPage(ctx, by.OrgID, f, page)
		if err != nil {
			return n, err
		}
		for i := range page {
			a := &page[i]
			activated := ""
			if !a.ActivatedAt.IsZero() {
				activated = a.ActivatedAt.Format(time.RFC3339)
			}
			rec = append(rec[:0], a.DisplayName, a.Mobile, a.Email, a.SecurityModel, a.Description,
				a.Group, a.Profile, a.Language, a.Username, a.VirtualNumber, model.StatusOf(a.Stage, a.Disabled),
				a.CreatedAt.Format(time.RFC3339), activated)
			if err := cw.Write(rec); err != nil {
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
		f.Before = info.Next
	}
}
