package activation

import (
	"context"
	"io"
	"time"
)

// ExportColumns are the columns of an account export: the import's columns
// first, so an export can be imported again (matching rows are skipped),
// then what only the server knows.
var ExportColumns = append(append([]string{}, ImportColumns...), "username", "virtual number", "status", "created at", "activated at")

// Export writes the accounts a filter selects as CSV, page by page so that
// memory stays flat however many there are.
func (s *Accounts) Export(ctx context.Context, w io.Writer, group, status, search string, by Caller) error {
	cw := newSafeCSV(w)
	if err := cw.Write(ExportColumns); err != nil {
		return err
	}
	const page = 1000
	for offset := 0; ; offset += page {
		as, err := s.List(ctx, group, status, search, page, offset, by)
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
