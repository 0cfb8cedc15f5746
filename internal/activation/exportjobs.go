package activation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Exports runs large exports as jobs: each writes a file in the data
// folder of the instance that runs it, for the operator to download when
// it is done, so an export of millions of rows needs no connection held
// open for its whole length.
type Exports struct {
	store    *store.Store
	accounts *Accounts
	audit    *Audit
	dir      string
	log      *slog.Logger
	ctx      context.Context // the jobs' own: cancelled by Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// NewExports returns the export jobs of the organisations in st, writing
// their files in dir (empty: exports run as jobs are refused).
func NewExports(st *store.Store, accounts *Accounts, audit *Audit, dir string, log *slog.Logger) *Exports {
	jctx, cancel := context.WithCancel(context.Background())
	return &Exports{store: st, accounts: accounts, audit: audit, dir: dir, log: orDiscard(log), ctx: jctx, cancel: cancel}
}

// FailLeftRunning marks failed the jobs a stopped server left running: at
// start, before any job of this server runs. With several instances on
// one database, each start fails the others' running jobs too; their
// operators start them again.
func (s *Exports) FailLeftRunning(ctx context.Context) error {
	return s.store.Tx(ctx, func(tx *store.Tx) error {
		return tx.FailExportJobs(ctx, model.ExportRunning, model.ExportFailed, "the server stopped before the export was done: start it again")
	})
}

// Close stops the running jobs (they are marked failed) and waits for them.
func (s *Exports) Close() {
	s.cancel()
	s.wg.Wait()
}

func (s *Exports) file(id int64) string {
	return filepath.Join(s.dir, "export-"+strconv.FormatInt(id, 10)+".csv")
}

// Start checks the export asked for and starts it as a job.
func (s *Exports) Start(ctx context.Context, in model.ExportJobInput, by Caller) (*model.ExportJob, error) {
	switch in.Kind {
	case "accounts":
		if in.Actor != "" || in.Action != "" || in.Target != "" {
			return nil, invalid("actor", "actor, action and target filter the audit log, not accounts")
		}
		if _, err := s.accounts.List(ctx, in.Group, in.Status, in.Q, 1, 0, by); err != nil {
			return nil, err
		}
	case "audit":
		if !RoleAllows(by.Role, PermAudit) {
			return nil, &Error{Kind: KindForbidden, Code: "forbidden", Message: "the " + string(by.Role) + " role may not read the audit log"}
		}
		if in.Group != "" || in.Status != "" || in.Q != "" {
			return nil, invalid("group", "group, status and q filter accounts, not the audit log")
		}
	default:
		return nil, invalid("kind", "unknown export %q: want accounts or audit", in.Kind)
	}
	if s.dir == "" {
		return nil, conflict("exports_not_configured", "", "this server has no folder for export files: export without a job")
	}
	filter, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encoding the export's filter: %w", err)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("making the exports folder: %w", err)
	}
	j := &store.ExportJob{OrgID: by.OrgID, Operator: by.Name, Kind: in.Kind, Filter: string(filter), State: model.ExportRunning}
	if err := s.store.Tx(ctx, func(tx *store.Tx) error { return tx.CreateExportJob(ctx, j) }); err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go s.run(j.ID, in, by)
	return exportJob(j), nil
}

// run writes a job's file, beside its final name until it is whole.
func (s *Exports) run(id int64, in model.ExportJobInput, by Caller) {
	defer s.wg.Done()
	ctx := s.ctx
	set := func(state string, rows int, msg string) {
		// A fresh context: the job's may be cancelled, its end must still be written.
		if err := s.store.Tx(context.Background(), func(tx *store.Tx) error { return tx.SetExportJob(context.Background(), id, state, int64(rows), msg) }); err != nil {
			s.log.Error("export job: recording its progress", "job", id, "err", err)
		}
	}
	tmp := s.file(id) + ".partial"
	n, err := func() (int, error) {
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		progress := func(rows int) error { set(model.ExportRunning, rows, ""); return ctx.Err() }
		var n int
		if in.Kind == "audit" {
			n, err = s.audit.ExportRows(ctx, f, AuditFilter{Actor: in.Actor, Action: in.Action, Target: in.Target}, by, progress)
		} else {
			n, err = s.accounts.ExportRows(ctx, f, in.Group, in.Status, in.Q, by, progress)
		}
		if err != nil {
			return n, err
		}
		if err := f.Sync(); err != nil {
			return n, err
		}
		return n, f.Close()
	}()
	if err == nil {
		err = os.Rename(tmp, s.file(id))
	}
	if err != nil {
		os.Remove(tmp)
		msg := "the export failed; the server log has the details"
		if errors.Is(err, context.Canceled) {
			msg = "the server stopped before the export was done: start it again"
		}
		s.log.Error("export job failed", "job", id, "rows", n, "err", err)
		set(model.ExportFailed, n, msg)
		return
	}
	s.log.Info("export job done", "job", id, "kind", in.Kind, "rows", n)
	set(model.ExportDone, n, "")
}

// Get reads an export job of the caller's organisation.
func (s *Exports) Get(ctx context.Context, id int64, by Caller) (*model.ExportJob, error) {
	j, err := s.store.ExportJobByID(ctx, by.OrgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("export_not_found", "no export job %d", id)
	}
	if err != nil {
		return nil, err
	}
	out := exportJob(j)
	if out.Kind == "audit" && !RoleAllows(by.Role, PermAudit) {
		return nil, notFound("export_not_found", "no export job %d", id)
	}
	return out, nil
}

// Open opens a done export job's file.
func (s *Exports) Open(ctx context.Context, id int64, by Caller) (io.ReadCloser, *model.ExportJob, error) {
	j, err := s.Get(ctx, id, by)
	if err != nil {
		return nil, nil, err
	}
	if j.State != model.ExportDone {
		return nil, nil, conflict("export_not_done", "", "export %d is %s: download it once it is done", id, j.State)
	}
	f, err := os.Open(s.file(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, &Error{Kind: KindGone, Code: "export_file_gone",
			Message: fmt.Sprintf("export %d's file is not in this server's data folder: another instance ran it, or it was removed", id)}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("opening export %d: %w", id, err)
	}
	return f, j, nil
}

func exportJob(j *store.ExportJob) *model.ExportJob {
	out := &model.ExportJob{ID: j.ID, Kind: j.Kind, State: j.State, Rows: j.Rows, LastError: j.LastError, Operator: j.Operator,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	_ = json.Unmarshal([]byte(j.Filter), &out.Filter)
	return out
}
