package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/spf13/cobra"
)

// rowsTrailer is the HTTP trailer a complete export ends with (the
// server's stream.RowsTrailer): how many rows it holds.
const rowsTrailer = "Activator-Rows"

// exportStall is how long an export may receive nothing before the
// command gives up on it: the server flushes every few thousand rows.
const exportStall = 2 * time.Minute

func newExportCmd(a *globals) *cobra.Command {
	var (
		group, status, search, out, actor, action, target string
		job                                               bool
		jobID                                             int64
	)
	cmd := &cobra.Command{
		Use:   "export [accounts|audit]",
		Short: "Export accounts (or the audit log) as CSV",
		Long: `Write accounts as CSV: the import's columns first (so the file can be
imported again), then username, virtual number, status, created at and
activated at. "export audit" writes the audit log instead (admins and
auditors), newest first.

The server streams the rows however many there are, and ends a complete
export with its row count; the command checks the file parses and holds
that many rows, and otherwise exits non-zero. With --file the rows go to
a temporary file beside it, renamed to the name given only once the export
is whole, so a cut export never leaves a file that looks complete (on
standard output, a cut export is reported and the exit status is 1).
Progress goes to standard error.

With --job the server writes the export to a file in its data folder as a
job (no connection is held open while it runs); the command waits for it,
showing its progress, then downloads the file. Interrupted, the job goes
on: --job-id ID waits for it and downloads its file later.`,
		Example: `  activator export > accounts.csv
  activator export --status activated --group sales -f activated.csv
  activator export audit --actor ada -f ada.csv
  activator export --job -f all.csv
  activator export --job-id 12 -f all.csv`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			kind := "accounts"
			if len(args) == 1 {
				kind = args[0]
			}
			q := url.Values{}
			set := func(m map[string]string) {
				for k, v := range m {
					if v != "" {
						q.Set(k, v)
					}
				}
			}
			path := "/export/accounts"
			switch kind {
			case "accounts":
				if actor != "" || action != "" || target != "" {
					return errors.New("--actor, --action and --target filter the audit log: give them with export audit")
				}
				set(map[string]string{"group": group, "status": status, "q": search})
			case "audit":
				if group != "" || status != "" || search != "" {
					return errors.New("--group, --status and --search filter accounts: give them with export accounts")
				}
				path = "/audit"
				q.Set("format", "csv")
				set(map[string]string{"actor": actor, "action": action, "target": target})
			default:
				return fmt.Errorf("export %q: want accounts or audit", kind)
			}
			if job || jobID > 0 {
				in := map[string]string{"kind": kind}
				for k, v := range q {
					if k != "format" {
						in[k] = v[0]
					}
				}
				return c.exportJob(cmd.Context(), in, jobID, out, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			_, err = c.export(cmd.Context(), path, q, out, cmd.OutOrStdout(), cmd.ErrOrStderr(), kind)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&group, "group", "", "accounts: only this group")
	f.StringVar(&status, "status", "", "accounts: only this status")
	f.StringVar(&search, "search", "", "accounts: words, each the start of a word of the name, username, number or e-mail")
	f.StringVar(&actor, "actor", "", "audit: only this operator's actions")
	f.StringVar(&action, "action", "", "audit: only actions holding this text")
	f.StringVar(&target, "target", "", "audit: only targets holding this text")
	f.StringVarP(&out, "file", "f", "", "write to this file instead of standard output (only once it is complete)")
	f.BoolVar(&job, "job", false, "run the export as a job on the server, wait for it, then download its file")
	f.Int64Var(&jobID, "job-id", 0, "wait for this earlier export job and download its file")
	return cmd
}

// export streams one export to the file named out (or to stdout), checks
// it is whole, and reports progress on progress. It returns the rows.
func (c *apiClient) export(ctx context.Context, path string, q url.Values, out string, stdout, progress io.Writer, what string) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + apiPrefix + path
	u.RawPath, u.RawQuery = "", q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("building the export request: %w", err)
	}
	c.authorize(req)
	// No overall timeout: an export takes as long as its rows do. A stall
	// watchdog stands in for it.
	hc := &http.Client{Transport: c.http.Transport, CheckRedirect: c.http.CheckRedirect}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, errors.New(c.redact(fmt.Sprintf("calling GET %s: %v", u.Redacted(), err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		return 0, c.errorFrom(resp.StatusCode, raw)
	}

	var w io.Writer = stdout
	var tmp *os.File
	if out != "" {
		if tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*"); err != nil {
			return 0, fmt.Errorf("creating the export file: %w", err)
		}
		defer func() {
			if tmp != nil { // not renamed: the export failed
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}

	body := &watchedReader{r: resp.Body, stall: exportStall, cancel: cancel}
	defer body.stop()
	// Read (and write out) in large parts: encoding/csv's own 4 KiB buffer
	// would make a system call of each 4 KiB of the file on both sides.
	rd := csv.NewReader(bufio.NewReaderSize(io.TeeReader(body, w), 256<<10))
	rd.FieldsPerRecord, rd.ReuseRecord = -1, true
	meter := newMeter(progress, what)
	rows := -1 // the header is no row
	for {
		_, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				err = cause
			}
			meter.done()
			return max(rows, 0), incomplete(out, max(rows, 0), what, err)
		}
		rows++
		meter.set(rows)
	}
	meter.done()
	rows = max(rows, 0)
	want := resp.Trailer.Get(rowsTrailer)
	if n, err := strconv.Atoi(want); err != nil || n != rows {
		if want == "" {
			return rows, incomplete(out, rows, what, errors.New("the server did not mark it complete"))
		}
		return rows, incomplete(out, rows, what, fmt.Errorf("the server sent %s rows", want))
	}
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return rows, fmt.Errorf("writing %s: %w", out, err)
		}
		if err := tmp.Close(); err != nil {
			return rows, fmt.Errorf("writing %s: %w", out, err)
		}
		if err := os.Rename(tmp.Name(), out); err != nil {
			return rows, fmt.Errorf("naming the export %s: %w", out, err)
		}
		tmp = nil
	}
	fmt.Fprintf(progress, "exported %d %s\n", rows, rowNoun(what, rows))
	return rows, nil
}

func incomplete(out string, rows int, what string, err error) error {
	where := "the output above is incomplete"
	if out != "" {
		where = out + " was not written"
	}
	return fmt.Errorf("the export was cut short after %d %s (%v): %s", rows, rowNoun(what, rows), err, where)
}

func rowNoun(what string, n int) string {
	if what == "audit" {
		if n == 1 {
			return "entry"
		}
		return "entries"
	}
	if n == 1 {
		return "account"
	}
	return "accounts"
}

// watchedReader cancels a download that receives nothing for stall.
type watchedReader struct {
	r      io.Reader
	stall  time.Duration
	cancel context.CancelCauseFunc
	once   sync.Once
	timer  *time.Timer
}

func (w *watchedReader) Read(p []byte) (int, error) {
	w.once.Do(func() {
		w.timer = time.AfterFunc(w.stall, func() {
			w.cancel(fmt.Errorf("nothing received for %s", w.stall))
		})
	})
	n, err := w.r.Read(p)
	if n > 0 {
		w.timer.Reset(w.stall)
	}
	return n, err
}

func (w *watchedReader) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// meter reports an export's progress on standard error about once a
// second: on one line rewritten in place on a terminal, a line every ten
// seconds otherwise (a log keeps each).
type meter struct {
	w             io.Writer
	what          string
	tty           bool
	start, last   time.Time
	every         time.Duration
	rows, printed int
}

func newMeter(w io.Writer, what string) *meter {
	f, isFile := w.(*os.File)
	m := &meter{w: w, what: what, tty: isFile && isTerminal(f), start: time.Now(), every: 10 * time.Second}
	if m.tty {
		m.every = time.Second
	}
	m.last = m.start
	return m
}

func (m *meter) set(rows int) {
	m.rows = rows
	if rows%1000 != 0 {
		return
	}
	if now := time.Now(); now.Sub(m.last) >= m.every {
		m.last = now
		m.print()
	}
}

func (m *meter) print() {
	rate := float64(m.rows) / max(time.Since(m.start).Seconds(), 0.001)
	end := "\n"
	if m.tty {
		end = "\r"
	}
	fmt.Fprintf(m.w, "exporting %s: %d rows, %.0f rows/s%s", m.what, m.rows, rate, end)
	m.printed++
}

func (m *meter) done() {
	if m.tty && m.printed > 0 {
		fmt.Fprintln(m.w)
	}
}

// exportJob starts an export job (or takes the one numbered id), waits
// for it with its progress on progress, and downloads its file.
func (c *apiClient) exportJob(ctx context.Context, in map[string]string, id int64, out string, stdout, progress io.Writer) error {
	var j model.ExportJob
	if id == 0 {
		if _, err := c.call(ctx, http.MethodPost, "/exports", nil, in, &j); err != nil {
			return err
		}
		fmt.Fprintf(progress, "export job %d started (activator export --job-id %d fetches it later)\n", j.ID, j.ID)
	} else {
		j.ID = id
	}
	path := "/exports/" + strconv.FormatInt(j.ID, 10)
	for {
		if _, err := c.call(ctx, http.MethodGet, path, nil, nil, &j); err != nil {
			return err
		}
		switch j.State {
		case model.ExportDone:
			_, err := c.export(ctx, path+"/file", nil, out, stdout, progress, j.Kind)
			return err
		case model.ExportFailed:
			return fmt.Errorf("export job %d failed after %d rows: %s", j.ID, j.Rows, j.LastError)
		}
		fmt.Fprintf(progress, "export job %d: %d rows so far\n", j.ID, j.Rows)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
