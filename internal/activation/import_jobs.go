package activation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

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
		job, ok, err = tx.ClaimImportJob(ctx, instance, time.Now(), jobLease, model.ImportSending)
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

// runJob works on a claimed job until it is done, fails, or is lost.
func (s *Imports) runJob(ctx context.Context, job *store.ImportJob, instance string) error {
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
