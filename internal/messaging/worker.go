package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// WorkerConfig tunes the delivery worker.
type WorkerConfig struct {
	// Instance names this worker in the claims it makes. It must stay the
	// same across restarts of one instance, whose worker then takes back
	// at start the messages it was sending when it stopped or died, and
	// differ between instances sharing a database (empty: a random name,
	// so nothing is taken back).
	Instance    string
	Concurrency int // messages sent at once (default DefaultConcurrency)
	// PollInterval is the safety poll: the longest the worker sleeps when
	// nothing wakes it (default 30s). It is woken when a message is queued
	// (the Doorbell; on PostgreSQL also another instance's notification),
	// when its next message is due, and when a send finishes.
	PollInterval time.Duration
	// Lease is how long a claimed message stays ours without news from us
	// (default 20s): renewed every third of it while the message is being
	// sent or recorded, so it bounds how long a dead instance's messages
	// wait for another instance, not how long a send may take.
	Lease       time.Duration
	BaseBackoff time.Duration // first retry delay, doubled each attempt (default 10s)
	MaxBackoff  time.Duration // cap of the retry delay (default 1h)
	SendTimeout time.Duration // one gateway call (default 60s)
	// Grace is how long, once Run's context ends, the sends in flight may
	// take to finish and be recorded before they are cut short and their
	// messages handed back to the queue (0: 10s; negative: none).
	Grace time.Duration
	// Doorbell wakes the worker when a message is queued (nil: a bell of
	// its own, rung by Notify).
	Doorbell *Doorbell
	// Secrets opens the sealed texts of the messages it sends (worker_text.go).
	Secrets *secret.Box
}

// DefaultConcurrency is how many messages a worker sends at once unless
// told otherwise: enough that a provider answering in a quarter of a
// second still takes 250 messages a second from one instance, and that
// the outcomes recorded together in one commit are many (a gateway's
// rate limit, when set, spaces the sends further).
const DefaultConcurrency = 64

// Doorbell tells the delivery worker a message was just queued, so it sends
// at once instead of at its next poll. The domain rings it after each
// commit; the worker listens. It is made first and handed to both, so
// neither needs the other to exist: the worker needs the gateways, whose
// loader is the domain's.
type Doorbell struct{ c chan struct{} }

// NewDoorbell returns a doorbell.
func NewDoorbell() *Doorbell { return &Doorbell{c: make(chan struct{}, 1)} }

// Ring wakes the worker; rings before it next listens count as one.
func (d *Doorbell) Ring() {
	select {
	case d.c <- struct{}{}:
	default:
	}
}

// Stats counts what a worker did since it was made.
type Stats struct {
	Claims       uint64 // claim queries run: an idle worker runs one per safety poll
	Sent         uint64 // messages recorded as sent
	Failed       uint64 // messages given up: a permanent failure, or out of attempts
	Retried      uint64 // temporary failures put back in the queue for a later attempt
	HandedBack   uint64 // messages whose send a stop cut short, put back in the queue
	WriteRetries uint64 // outcome writes made again after the database refused one
	// Duplicates counts the messages sent whose send could not be recorded
	// (the database stayed away, or the lease ran out first): each is sent
	// again by whichever claim takes it next.
	Duplicates uint64
}

// Worker drains the messages table: it claims due messages, hands each to
// its gateway, and records the outcome on the row. All its state is in the
// database, so a crash loses nothing: a message claimed by a dead worker
// comes back when its lease runs out, or at once when its instance starts
// again.
type Worker struct {
	store    *store.Store
	gateways *Registry
	cfg      WorkerConfig
	log      *slog.Logger
	bell     *Doorbell
	commits  *groupCommit // the records of sends, several to a transaction
	// after, when set, stands in for the clock of the sleeps between
	// rounds (tests).
	after func(time.Duration) <-chan time.Time
	stats struct {
		claims, sent, failed, retried, handedBack, writeRetries, duplicates atomic.Uint64
	}
}

// Stats returns the worker's counts so far.
func (w *Worker) Stats() Stats {
	return Stats{
		Claims: w.stats.claims.Load(), Sent: w.stats.sent.Load(), Failed: w.stats.failed.Load(), Retried: w.stats.retried.Load(),
		HandedBack: w.stats.handedBack.Load(), WriteRetries: w.stats.writeRetries.Load(), Duplicates: w.stats.duplicates.Load(),
	}
}

// NewWorker returns a worker; Run starts it.
func NewWorker(st *store.Store, gateways *Registry, cfg WorkerConfig, log *slog.Logger) *Worker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 30 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 20 * time.Second
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 10 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Hour
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 60 * time.Second
	}
	if cfg.Grace == 0 {
		cfg.Grace = 10 * time.Second
	}
	if cfg.Instance == "" {
		cfg.Instance = "worker-" + strconv.FormatUint(rand.Uint64(), 36)
	}
	bell := cfg.Doorbell
	if bell == nil {
		bell = NewDoorbell()
	}
	w := &Worker{store: st, gateways: gateways, cfg: cfg, log: log, bell: bell}
	w.commits = &groupCommit{store: st, claim: w.claimIn}
	return w
}

// claimIn claims up to n due messages in tx: the next messages of the
// senders whose outcomes tx records.
func (w *Worker) claimIn(ctx context.Context, tx *store.Tx, n int) ([]store.MessageRow, error) {
	w.stats.claims.Add(1)
	return tx.ClaimMessages(ctx, w.cfg.Instance, time.Now(), w.cfg.Lease, n)
}

// claimTimeout bounds one claim's transaction, which a stop does not cut
// short.
const claimTimeout = 10 * time.Second

// Notify wakes the worker: a message was just queued.
func (w *Worker) Notify() { w.bell.Ring() }

// Run delivers until ctx ends, then drains: it claims no more messages,
// gives the sends in flight the grace period to finish and be recorded,
// and hands back to the queue those that did not.
func (w *Worker) Run(ctx context.Context) {
	// Sends outlive ctx by the grace period: a stop lets them finish.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	var sends, listener sync.WaitGroup
	defer listener.Wait()
	stopReports := make(chan struct{})
	listener.Add(1)
	go func() { defer listener.Done(); w.report(stopReports) }()
	defer close(stopReports)
	slots := make(chan struct{}, w.cfg.Concurrency)
	w.takeBackOwnClaims(ctx)
	if w.store.Dialect() == store.Postgres {
		listener.Add(1)
		go func() { defer listener.Done(); w.listen(ctx) }()
	}
	w.claimUntilStopped(ctx, sendCtx, slots, &sends)

	done := make(chan struct{})
	go func() { sends.Wait(); close(done) }()
	if n := len(slots); n > 0 {
		w.log.Info("stopping: waiting for the messages being sent", "in_flight", n, "grace", w.cfg.Grace)
	}
	if w.cfg.Grace > 0 {
		grace := time.NewTimer(w.cfg.Grace)
		defer grace.Stop()
		select {
		case <-done:
			return
		case <-grace.C:
		}
	}
	if n := len(slots); n > 0 {
		w.log.Warn("stopping: cutting short the sends still running after the grace period; their messages go back to the queue", "in_flight", n)
	}
	cancelSends()
	<-done
}

// takeBackOwnClaims puts back in the queue the messages this instance was
// sending when it last stopped or died: none of those sends can still be
// running, so they need not wait out their lease. Other instances' claims
// are left to their lease.
func (w *Worker) takeBackOwnClaims(ctx context.Context) {
	var n int64
	err := w.store.Tx(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.ReleaseStaleClaims(ctx, w.cfg.Instance)
		return err
	})
	switch {
	case err != nil && ctx.Err() == nil:
		w.log.Error("taking back the messages this instance was sending when it stopped; they come back when their lease runs out", "err", err)
	case n > 0:
		w.log.Info("took back the messages this instance was sending when it stopped", "count", n, "instance", w.cfg.Instance)
	}
}

// claimUntilStopped claims due messages and starts their deliveries as
// slots free up, until ctx ends. Between rounds it sleeps until the next
// message is due (a retry's time, a lease running out) or something wakes
// it: a message queued here or, on PostgreSQL, by another instance, or a
// send finishing. The safety poll bounds the sleep, for what no
// notification told it of.
func (w *Worker) claimUntilStopped(ctx, sendCtx context.Context, slots chan struct{}, sends *sync.WaitGroup) {
	backlog := false
	for ctx.Err() == nil {
		var wait time.Duration
		wait, backlog = w.claimDue(ctx, sendCtx, slots, sends, backlog)
		w.sleep(ctx, wait)
	}
}

// Sleeps between rounds: the shortest, when a message is due but could not
// be claimed (another instance is claiming it at this moment), and the
// one after a database error.
const (
	minWait   = 50 * time.Millisecond
	errorWait = time.Second
)

// claimDue claims what is due while slots are free and says how long to
// sleep before the next round, and whether more was due than it could
// take (a backlog). With a backlog it waits for a quarter of the slots to
// be free before it claims again: a claim is a transaction, and one per
// message sent was a third of the work of a busy queue, while the sends
// still in flight keep the gateways busy meanwhile.
func (w *Worker) claimDue(ctx, sendCtx context.Context, slots chan struct{}, sends *sync.WaitGroup, backlog bool) (time.Duration, bool) {
	for {
		free := cap(slots) - len(slots)
		if free == 0 || backlog && free < max(cap(slots)/4, 1) {
			return w.cfg.PollInterval, backlog // a send finishing rings the bell
		}
		if ctx.Err() != nil {
			return 0, false // stopping: claim nothing more
		}
		var batch []store.MessageRow
		w.stats.claims.Add(1)
		// The claim runs to its end even when a stop comes during it: a
		// stop that cancelled it could cancel the answer of a commit that
		// went through, leaving claimed rows nobody sends until their
		// lease runs out. What it claims is started and then drained, or
		// handed back, as every send in flight is.
		claimCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
		err := w.store.Tx(claimCtx, func(tx *store.Tx) (err error) {
			batch, err = tx.ClaimMessages(claimCtx, w.cfg.Instance, time.Now(), w.cfg.Lease, free)
			return err
		})
		cancel()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, store.ErrUnavailable) { // the store logs that once
				w.log.Error("claiming messages", "err", err)
			}
			return min(errorWait, w.cfg.PollInterval), false
		}
		for i := range batch {
			slots <- struct{}{}
			sends.Add(1)
			go func(m *store.MessageRow) {
				defer func() { <-slots; sends.Done(); w.Notify() }()
				// The commit that records a send claims the slot's next
				// message, until the queue is empty or the stop begins.
				for m != nil {
					m = w.deliver(ctx, sendCtx, m)
				}
			}(&batch[i])
		}
		if len(batch) < free {
			return w.untilDue(ctx), false
		}
		backlog = true
	}
}

// untilDue is how long until the queue next needs this worker, at most
// the safety poll.
func (w *Worker) untilDue(ctx context.Context) time.Duration {
	at, ok, err := w.store.NextMessageDue(ctx)
	switch {
	case err != nil:
		if ctx.Err() == nil && !errors.Is(err, store.ErrUnavailable) {
			w.log.Error("reading when the next message is due", "err", err)
		}
		return min(errorWait, w.cfg.PollInterval)
	case !ok:
		return w.cfg.PollInterval
	}
	// Times are kept to the millisecond: one more and the message is due.
	d := time.Until(at) + time.Millisecond
	return min(max(d, minWait), w.cfg.PollInterval)
}

// sleep waits d, or until the bell rings or ctx ends.
func (w *Worker) sleep(ctx context.Context, d time.Duration) {
	var fire <-chan time.Time
	if w.after != nil {
		fire = w.after(d)
	} else {
		t := time.NewTimer(d)
		defer t.Stop()
		fire = t.C
	}
	select {
	case <-ctx.Done():
	case <-w.bell.c:
	case <-fire:
	}
}

// listen rings the bell when any instance queues a message or puts one
// back in the queue: on PostgreSQL, where several instances share it. A lost connection
// is opened again, and the bell rung, since a notification may have been
// missed meanwhile; until then the safety poll stands in.
func (w *Worker) listen(ctx context.Context) {
	pause := time.Second
	for ctx.Err() == nil {
		l, err := w.store.ListenMessages(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("listening for the messages other instances queue; trying again", "err", err, "in", pause)
			}
			w.pause(ctx, pause)
			pause = min(2*pause, w.cfg.PollInterval)
			continue
		}
		if l == nil {
			return // SQLite: one process, woken in process
		}
		pause = time.Second
		w.bell.Ring()
		for {
			if err := l.Wait(ctx); err != nil {
				if ctx.Err() == nil {
					w.log.Warn("listening for the messages other instances queue; listening again", "err", err, "in", pause)
				}
				break
			}
			w.bell.Ring()
		}
		l.Close()
		w.pause(ctx, pause)
	}
}

// pause waits d or until ctx ends.
func (w *Worker) pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// deliver sends one claimed message and records the outcome, renewing
// the message's lease all the while, and returns the next message the
// commit of the outcome claimed for its slot (nil: none). runCtx ends
// when the stop begins: no next message is claimed then. ctx ends when a
// stop's grace period is over: a send it cuts short is handed back to
// the queue.
func (w *Worker) deliver(runCtx, ctx context.Context, m *store.MessageRow) *store.MessageRow {
	defer w.renewLease(m)()
	providerID, err := w.send(ctx, m)
	if ctx.Err() != nil && err != nil {
		w.handBack(m)
		return nil
	}
	return w.record(ctx, m, providerID, err, runCtx.Err() == nil)
}

// logFor is the log of what happens to message m: made only when there
// is something to say, since most messages are sent with nothing logged
// of their own.
func (w *Worker) logFor(m *store.MessageRow) *slog.Logger {
	return w.log.With("message_id", m.ID, "gateway", m.Gateway, "channel", m.Channel, "attempt", m.Attempts)
}

// reportEvery is how often report sums up the deliveries.
const reportEvery = time.Second

// report logs, every reportEvery while messages are being delivered and
// once more when stop is closed, how many were sent, retried and failed
// since its last line: each send is logged at debug level only, each
// failure and retry as it happens.
func (w *Worker) report(stop <-chan struct{}) {
	tick := time.NewTicker(reportEvery)
	defer tick.Stop()
	var last Stats
	say := func() {
		now := w.Stats()
		if now.Sent != last.Sent || now.Retried != last.Retried || now.Failed != last.Failed {
			w.log.Info("messages delivered", "sent", now.Sent-last.Sent, "retried", now.Retried-last.Retried,
				"failed", now.Failed-last.Failed, "sent_total", now.Sent)
		}
		last = now
	}
	for {
		select {
		case <-stop:
			say()
			return
		case <-tick.C:
			say()
		}
	}
}

// outcome is what a send's result makes of its message.
type outcome int

const (
	outcomeSent outcome = iota
	outcomeRetry
	outcomeFailed
)

// Record retries: the first pause, and the longest.
const (
	recordPause    = 50 * time.Millisecond
	recordMaxPause = 2 * time.Second
)

// record writes the outcome of a send. A write the database refuses
// (away, disk full) is made again, with backoff, while the lease's worth
// of time lasts and, once a stop has begun, its grace period; the lease is
// renewed meanwhile, so no other instance sends the message while its
// outcome may still be recorded. A sent message whose send could not be
// recorded after all is sent again later: that duplicate is counted and
// logged, once.
//
// With takeNext, the commit that records the outcome also claims the next
// due message, which record returns for the caller to send in the slot
// this one frees.
func (w *Worker) record(ctx context.Context, m *store.MessageRow, providerID string, sendErr error, takeNext bool) *store.MessageRow {
	c := m.Claim()
	now := time.Now()
	kind := outcomeRetry
	switch {
	case sendErr == nil:
		kind = outcomeSent
	case isPermanent(sendErr) || m.Attempts >= m.MaxAttempts:
		kind = outcomeFailed
	}
	var next time.Time
	if kind == outcomeRetry {
		next = now.Add(w.backoff(m.Attempts, retryAfter(sendErr)))
	}
	gw := groupWrite{next: takeNext}
	switch kind {
	case outcomeSent:
		gw.sent = &store.SentMessage{Claim: c, ProviderID: providerID, At: now}
		gw.event = w.newEvent(m, model.EventMessageSent, map[string]string{"provider_id": providerID})
	case outcomeFailed:
		gw.fn = func(ctx context.Context, tx *store.Tx) error {
			if err := tx.MarkMessageFailed(ctx, c, sendErr.Error()); err != nil {
				return err
			}
			return w.event(ctx, tx, m, model.EventMessageFailed, map[string]string{"error": sendErr.Error()})
		}
	default:
		gw.fn = func(ctx context.Context, tx *store.Tx) error {
			return tx.MarkMessageRetry(ctx, c, sendErr.Error(), next)
		}
	}
	deadline := now.Add(w.cfg.Lease)
	pause := recordPause
	var (
		err     error
		claimed *store.MessageRow
	)
	for try := 1; ; try++ {
		// The write is made even after the grace period, once, so an
		// outcome in hand is not lost.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(max(time.Until(deadline), time.Second), 10*time.Second))
		one := gw
		r := w.commits.do(wctx, &one)
		err, claimed = r.err, r.next
		cancel()
		if err == nil || errors.Is(err, store.ErrClaimLost) || ctx.Err() != nil || time.Now().Add(pause).After(deadline) {
			break
		}
		w.stats.writeRetries.Add(1)
		w.logFor(m).Debug("recording the delivery failed; trying again", "err", err, "try", try, "pause", pause)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		pause = min(2*pause, recordMaxPause)
	}
	switch {
	case err == nil && kind == outcomeSent:
		w.stats.sent.Add(1)
		if w.log.Enabled(ctx, slog.LevelDebug) {
			w.logFor(m).Debug("message sent", "provider_id", providerID)
		}
	case err == nil && kind == outcomeFailed:
		w.stats.failed.Add(1)
		w.logFor(m).Warn("message failed", "err", sendErr)
	case err == nil:
		w.stats.retried.Add(1)
		w.logFor(m).Info("message will be retried", "err", sendErr, "next_attempt_at", next)
	case kind == outcomeSent && errors.Is(err, store.ErrClaimLost):
		w.stats.duplicates.Add(1)
		w.logFor(m).Warn("message sent, but its lease ran out before the send could be recorded: another claim sends it again",
			"provider_id", providerID)
	case kind == outcomeSent:
		w.stats.duplicates.Add(1)
		w.logFor(m).Warn("message sent, but the send could not be recorded: it will be sent again",
			"provider_id", providerID, "err", err)
	case errors.Is(err, store.ErrClaimLost):
		w.logFor(m).Info("the message was taken over before its outcome was recorded", "outcome_err", sendErr)
	default:
		w.logFor(m).Error("recording the delivery; the message is tried again when its lease runs out", "err", err, "send_err", sendErr)
	}
	return claimed
}

// handBack puts a message whose send a stop cut short back in the queue,
// its attempt not counted, for any instance to send at once. When that
// fails (the database is away), the message waits for its lease to run
// out, or for this instance to start again.
func (w *Worker) handBack(m *store.MessageRow) {
	c := m.Claim()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := w.store.Tx(ctx, func(tx *store.Tx) error { return tx.ReleaseMessage(ctx, c) })
	switch {
	case err == nil:
		w.stats.handedBack.Add(1)
		w.logFor(m).Info("handed the message back to the queue: its send did not finish before the stop")
	case errors.Is(err, store.ErrClaimLost):
		// A delivery receipt finished it, or another instance took it over.
	default:
		w.logFor(m).Error("handing back a message whose send did not finish before the stop", "err", err)
	}
}

// renewLease keeps claim c's lease from running out, every third of the
// lease, until the returned stop is called: a live sender's message is
// never taken over, however slow its gateway. A renewal that fails is
// tried again at the next tick; one that finds the message no longer
// held (taken over, or finished by a delivery receipt) ends the renewals.
func (w *Worker) renewLease(m *store.MessageRow) (stop func()) {
	c := m.Claim()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := w.cfg.Lease / 3
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rctx, rcancel := context.WithTimeout(ctx, every)
			err := w.store.Tx(rctx, func(tx *store.Tx) error { return tx.RenewLease(rctx, c, time.Now().Add(w.cfg.Lease)) })
			rcancel()
			switch {
			case errors.Is(err, store.ErrClaimLost):
				w.logFor(m).Debug("the message's lease is no longer ours to renew")
				return
			case err != nil && ctx.Err() == nil:
				w.logFor(m).Warn("renewing the lease of a message being sent", "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (w *Worker) send(ctx context.Context, m *store.MessageRow) (id string, err error) {
	g, err := w.gateways.Lookup(ctx, m.OrgID, m.Gateway)
	if err != nil {
		return "", err
	}
	msg, err := w.opened(m)
	if err != nil {
		return "", err
	}
	sctx, cancel := context.WithTimeout(ctx, w.cfg.SendTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gateway %s panicked: %v", m.Gateway, r)
		}
	}()
	return g.Send(sctx, msg)
}

func (w *Worker) event(ctx context.Context, tx *store.Tx, m *store.MessageRow, kind model.EventKind, detail map[string]string) error {
	e := w.newEvent(m, kind, detail)
	if e == nil {
		return nil
	}
	return tx.AddEvent(ctx, e.OrgID, e.AccountID, e.Kind, e.Actor, e.Detail)
}

// newEvent is the event of what happened to m, for its account's
// timeline: nil when the account was deleted.
func (w *Worker) newEvent(m *store.MessageRow, kind model.EventKind, detail map[string]string) *store.NewEvent {
	if m.AccountID == 0 {
		return nil
	}
	detail["message_id"] = strconv.FormatInt(m.ID, 10)
	detail["channel"] = m.Channel
	return &store.NewEvent{OrgID: m.OrgID, AccountID: m.AccountID, Kind: kind, Detail: detail}
}

// backoff is exponential with ±20% jitter, capped, and never shorter than
// what the provider asked for.
func (w *Worker) backoff(attempt int, atLeast time.Duration) time.Duration {
	d := w.cfg.BaseBackoff << min(attempt-1, 20)
	if d > w.cfg.MaxBackoff || d <= 0 {
		d = w.cfg.MaxBackoff
	}
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return max(d, atLeast)
}
