package activation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// An import's long work runs as durable jobs the server runs by itself:
// the check of an uploaded file for its preview (state checking), its
// import once confirmed (state importing: ConfirmJob runs it at once, and
// RunJobs takes up one that stopped half way), and the sending of its
// activations (state sending).
//
// An import's activations are sent by the server as a durable job: the
// import row in state sending is the job, its usernames the work, and its
// sent count the progress. Any instance runs it (RunJobs), one job at a
// time, under a lease it renews after each batch, so a job whose instance
// died or lost its database is taken up again when the lease runs out,
// and at once by that instance when it restarts. A batch that meets a
// database fault stops without counting the accounts it could not reach,
// and the job goes on when the database is back.
const (
	// jobLease is how long an instance holds an import job without renewing it.
	jobLease = 30 * time.Second
	// jobBatch is how many accounts a job sends to between two progress writes.
	jobBatch = 50
	// jobPoll is how often an idle instance looks for jobs that other
	// instances made or gave up; its own are rung in.
	jobPoll = 5 * time.Second
	// jobRetryMax bounds the wait after a failed round.
	jobRetryMax = 30 * time.Second
)

func (s *Imports) wakeJobs() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// RunJobs runs import jobs, named instance in their claims, until ctx
// ends. Start it once per instance.
func (s *Imports) RunJobs(ctx context.Context, instance string) {
	s.jobsMu.Lock()
	s.instance, s.jobsCtx = instance, ctx
	s.jobsMu.Unlock()
	wait := time.Second
	for ctx.Err() == nil {
		ok, err := s.runOneJob(ctx, instance)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrDiskFull) { // the store logs those once
				s.log.Error("running an import job; trying again", "err", err, "in", wait)
			}
			pause(ctx, wait, nil)
			wait = min(2*wait, jobRetryMax)
		case ok:
			wait = time.Second // a job ended: look for the next at once
		default:
			wait = time.Second
			pause(ctx, jobPoll, s.wake)
		}
	}
}

// runOneJob claims one job no live instance is running and runs it; it
// reports false when there was none.
func (s *Imports) runOneJob(ctx context.Context, instance string) (bool, error) {
	var job *store.ImportJob
	var ok bool
	err := s.store.Tx(ctx, func(tx *store.Tx) (err error) {
		job, ok, err = tx.ClaimImportJob(ctx, instance, time.Now(), jobLease, model.ImportChecking, model.ImportImporting, model.ImportSending)
		return err
	})
	if err != nil || !ok {
		return false, err
	}
	return true, s.runJob(ctx, job, instance)
}

// pause waits d, or until wake rings or ctx ends.
func pause(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}

// confirmOwner names this process in the claim of a confirmation it runs
// itself (ConfirmJob): apart from instance's, which RunJobs takes up again
// as its own from before a restart, so that a confirmation running here is
// not taken up twice. One an earlier process left is taken up once its
// lease runs out.
func (s *Imports) confirmOwner() string {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	return s.instance + "/confirm-" + s.boot
}

// jobsContext is the context confirmations run in: RunJobs's, or, before
// it runs, one that never ends.
func (s *Imports) jobsContext() context.Context {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	if s.jobsCtx == nil {
		return context.Background()
	}
	return s.jobsCtx
}

// resumeImport goes on with a confirmed import that stopped before it was
// done (its instance stopped, or met a database fault): the rows it
// imported match their accounts now, and the rest are imported.
func (s *Imports) resumeImport(ctx context.Context, job *store.ImportJob, instance string) error {
	im, opts, err := s.importByID(ctx, job.OrgID, job.ID)
	if err == nil && im.State != model.ImportImporting {
		err = s.store.Tx(ctx, func(tx *store.Tx) error { return tx.ReleaseImportJob(ctx, job.ID, instance) })
	}
	if err != nil || im.State != model.ImportImporting {
		return err
	}
	s.log.Info("import resumed", "import", im.ID, "done", im.Done, "created", im.Created)
	_, err = s.runImport(ctx, im, opts, instance, nil)
	if err == nil || errors.Is(err, errJobLost) || confirmFailed(err) {
		return nil // done, taken over, or failed and recorded so
	}
	return err
}

// runJob works on a claimed job until it is done, fails, or is lost.
func (s *Imports) runJob(ctx context.Context, job *store.ImportJob, instance string) error {
	if job.State == model.ImportImporting {
		return s.resumeImport(ctx, job, instance)
	}
	if job.State == model.ImportChecking {
		err := s.runCheck(ctx, job, instance)
		if err != nil && !errors.Is(err, errJobLost) {
			_ = s.store.Tx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
				return tx.ReleaseImportJob(context.WithoutCancel(ctx), job.ID, instance)
			})
		}
		if errors.Is(err, errJobLost) {
			return nil
		}
		return err
	}
	for {
		done, err := s.sendBatch(ctx, job, instance)
		if err != nil || done {
			if err == nil || !errors.Is(err, errJobLost) {
				// Given back so that any instance may go on; a failed write
				// here leaves the lease to run out.
				_ = s.store.Tx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
					return tx.ReleaseImportJob(context.WithoutCancel(ctx), job.ID, instance)
				})
			}
			if errors.Is(err, errJobLost) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// pausedPrefix starts the last error of a job that a database fault paused.
const pausedPrefix = "sending paused"

var errJobLost = errors.New("the job's lease ran out and another instance took it")

// sendBatch sends the next jobBatch activations of an import, records the
// progress and renews the lease in one transaction, and reports whether
// the import is done. Accounts already sent a link (or disabled, or
// deleted) since the import are passed over, so a batch interrupted
// before its progress was written sends nothing twice when it runs again.
// An account the send refuses (no gateway, say) is passed over with its
// error kept as the import's last error; a database fault stops the batch
// before that account, for the job to go on from there.
func (s *Imports) sendBatch(ctx context.Context, job *store.ImportJob, instance string) (bool, error) {
	im, opts, err := s.importByID(ctx, job.OrgID, job.ID)
	if err != nil {
		return false, err
	}
	if im.State != model.ImportSending {
		return true, nil
	}
	by := Caller{Name: im.Operator, OrgID: im.OrgID}
	users := im.SendTo
	next := min(im.Sent, len(users))
	end := min(next+jobBatch, len(users))
	if strings.HasPrefix(im.LastError, pausedPrefix) {
		im.LastError = "" // that pause is over
	}
	var fault error
	for ; next < end; next++ {
		u := users[next]
		a, err := s.store.AccountByUsername(ctx, im.OrgID, u)
		if isFault(err) {
			fault = err
			break
		}
		if err != nil || a.Stage != model.StageNew || a.Disabled {
			continue // deleted, already invited, or disabled since the import
		}
		if _, err := s.links.Send(ctx, a.Username, model.SendRequest{Channel: opts.Send, Kind: model.LinkActivation}, by); err != nil {
			if isFault(err) || ctx.Err() != nil {
				fault = err
				break
			}
			im.LastError = a.Username + ": " + err.Error()
		}
	}
	im.Sent = next
	if fault != nil {
		im.LastError = fmt.Sprintf("%s at %d of %d, to go on by itself: %v", pausedPrefix, next, len(users), fault)
	} else if im.Sent >= len(users) {
		im.State = model.ImportDone
	}
	wctx := context.WithoutCancel(ctx) // what was sent is recorded, even when stopping
	var lost bool
	err = s.store.Tx(wctx, func(tx *store.Tx) error {
		ok, err := tx.RenewImportJob(wctx, im.ID, instance, time.Now().Add(jobLease))
		if err != nil || !ok {
			lost = !ok
			return err
		}
		if err := tx.SetImportProgress(wctx, im); err != nil {
			return err
		}
		if im.State == model.ImportDone {
			return tx.DropImportContent(wctx, im.ID)
		}
		return nil
	})
	switch {
	case err != nil:
		return false, fmt.Errorf("recording import %d's progress: %w", im.ID, err)
	case lost:
		return false, errJobLost
	case fault != nil:
		return false, fault
	}
	if im.State == model.ImportDone {
		s.log.Info("import sent", "import", im.ID, "sent", im.Sent, "last_error", im.LastError)
	}
	return im.State == model.ImportDone, nil
}

// isFault reports whether err is a database fault: the work waits for the
// database instead of passing over what it could not do.
func isFault(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrDiskFull)
}

// runCheck checks an uploaded file for its preview, writing how far it
// got and renewing the lease every second or so, and records the preview,
// or the refusal of a file that cannot be imported (its file dropped).
// A database fault leaves it to be run again.
func (s *Imports) runCheck(ctx context.Context, job *store.ImportJob, instance string) error {
	im, opts, err := s.importByID(ctx, job.OrgID, job.ID)
	if err != nil || im.State != model.ImportChecking {
		return err
	}
	defer tightGC()()
	last := time.Now()
	preview, err := s.check(ctx, job.OrgID, s.fileOf(ctx, im), opts, func(rows int, read int64) error {
		if time.Since(last) < time.Second {
			return ctx.Err()
		}
		last = time.Now()
		var ok bool
		err := s.store.Tx(ctx, func(tx *store.Tx) (err error) {
			ok, err = tx.SetImportChecked(ctx, job.ID, instance, read, rows, time.Now().Add(jobLease))
			return err
		})
		if err == nil && !ok {
			return errJobLost
		}
		return err
	})
	var refusal *Error
	switch {
	case errors.As(err, &refusal):
	case err != nil:
		return err
	}
	o := checkOutcome{Preview: preview, Refusal: refusal}
	state, total, lastError := model.ImportPreviewed, 0, ""
	if refusal != nil {
		state, lastError = model.ImportFailed, refusal.Message
	} else {
		total = preview.Total
		preview.ID, preview.State = job.ID, state
	}
	raw, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("keeping import %d's preview: %w", job.ID, err)
	}
	var ok bool
	err = s.store.Tx(ctx, func(tx *store.Tx) (err error) {
		ok, err = tx.FinishImportCheck(ctx, job.ID, instance, state, total, string(raw), lastError)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording import %d's check: %w", job.ID, err)
	}
	if !ok {
		return errJobLost
	}
	s.log.Info("import checked", "import", job.ID, "state", state, "rows", total, "refusal", lastError)
	return nil
}

// checkGCPercent is the garbage collector's target while a file is
// checked: a check's live memory is mostly the hashes of the rows read so
// far (tens of megabytes for a million rows), and the default target of
// 100 lets the heap grow to twice that between collections, past the 200
// MB a preview of any size may take. Collecting more often costs the
// check a little CPU.
const checkGCPercent = 40

var (
	gcMu     sync.Mutex
	gcChecks int // checks running
	gcBefore int // the target before the first of them
)

// tightGC lowers the garbage collector's target while a check runs, and
// returns the function that puts it back once no check runs.
func tightGC() func() {
	gcMu.Lock()
	if gcChecks == 0 {
		gcBefore = debug.SetGCPercent(checkGCPercent)
	}
	gcChecks++
	gcMu.Unlock()
	return func() {
		gcMu.Lock()
		defer gcMu.Unlock()
		if gcChecks--; gcChecks == 0 {
			debug.SetGCPercent(gcBefore)
		}
	}
}
