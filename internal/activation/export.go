package activation

import (
	"bufio"
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

// exportBuffer is how much CSV an export gathers before it writes to w:
// an HTTP answer sends each write as a chunk, in a system call of its own.
const exportBuffer = 64 << 10

// ExportRows is Export that calls progress (when not nil) after each page
// it has written and flushed, and returns how many accounts it wrote. It
// walks the accounts by keyset, so the last page costs what the first did,
// and reads the next page while it writes one: two pages in memory at
// most, however many accounts there are.
func (s *Accounts) ExportRows(ctx context.Context, w io.Writer, group, status, search string, by Caller, progress func(rows int) error) (int, error) {
	f := store.AccountFilter{Status: status, Search: search, Limit: exportPage}
	if err := s.resolve(ctx, by.OrgID, &f, group); err != nil {
		return 0, err
	}
	cw := newSafeCSV(bufio.NewWriterSize(w, exportBuffer))
	if err := cw.Write(ExportColumns); err != nil {
		return 0, err
	}
	pages, stop := s.exportPages(ctx, by.OrgID, f)
	defer stop()
	n := 0
	rec := make([]string, len(ExportColumns))
	for p := range pages {
		if p.err != nil {
			return n, p.err
		}
		if err := context.Cause(ctx); err != nil {
			return n, err // a page read ahead is not written once the export is called off
		}
		for i := range p.rows {
			a := &p.rows[i]
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
		p.done()
		if err := cw.Flush(); err != nil {
			return n, err
		}
		if progress != nil {
			if err := progress(n); err != nil {
				return n, err
			}
		}
		if p.last {
			return n, nil
		}
	}
	// The pages ended without a last one: ctx was cancelled.
	return n, context.Cause(ctx)
}

// exportedPage is one page of an export, read ahead of its writing.
type exportedPage struct {
	rows []store.ExportAccount
	last bool   // no page follows
	err  error  // reading it failed: nothing follows
	done func() // gives rows back to be read into again
}

// exportPages reads f's pages one ahead of the caller, into two buffers
// taken in turn: a page is read while the one before it is written. stop
// ends the reading (when the caller stops early) and waits for it to end.
func (s *Accounts) exportPages(ctx context.Context, orgID int64, f store.AccountFilter) (pages <-chan exportedPage, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan exportedPage)
	free := make(chan []store.ExportAccount, 2)
	free <- nil
	free <- nil
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer close(out)
		for {
			var buf []store.ExportAccount
			select {
			case buf = <-free:
			case <-ctx.Done():
				return
			}
			rows, info, err := s.store.ExportPage(ctx, orgID, f, buf)
			p := exportedPage{rows: rows, last: info.Next == 0, err: err, done: func() { free <- rows }}
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
			if err != nil || p.last {
				return
			}
			f.Before = info.Next
		}
	}()
	return out, func() { cancel(); <-ended }
}
