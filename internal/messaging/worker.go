package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// WorkerConfig tunes the delivery worker.
type WorkerConfig struct {
	// Instance names this worker in the claims it makes. It must stay the
	// same across restarts of one instance, whose worker then takes back
	// at start the messages it was sending when it stopped or died, and
	// differ between instances sharing a database (empty: a random name,
	// so nothing is taken back).
	Instance     string
	Concurrency  int           // messages sent at once (default 4)
	PollInterval time.Duration // how often to look for due messages when not woken (default 1s)
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
}

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

// Worker drains the messages table: it claims due messages, hands each to
// its gateway, and records the outcome on the row. All its state is in the
// database, so a crash loses nothing: a message claimed by a dead worker
// comes back when its lease runs out.
type Worker struct {
	store    *store.Store
	gateways *Registry
	cfg      WorkerConfig
	log      *slog.Logger
	bell     *Doorbell
}

// NewWorker returns a worker; Run starts it.
func NewWorker(st *store.Store, gateways *Registry, cfg WorkerConfig, log *slog.Logger) *Worker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
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
	return &Worker{store: st, gateways: gateways, cfg: cfg, log: log, bell: bell}
}

// Notify wakes the worker: a message was just queued.
func (w *Worker) Notify() { w.bell.Ring() }

// Run delivers until ctx ends, then drains: it claims no more messages,
// gives the sends in flight the grace period to finish and be recorded,
// and hands back to the queue those that did not.
func (w *Worker) Run(ctx context.Context) {
	// Sends outlive ctx by the grace period: a stop lets them finish.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	var sends sync.WaitGroup
	slots := make(chan struct{}, w.cfg.Concurrency)
	w.takeBackOwnClaims(ctx)
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
// slots free up, until ctx ends.
func (w *Worker) claimUntilStopped(ctx, sendCtx context.Context, slots chan struct{}, sends *sync.WaitGroup) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-w.bell.c:
		}
		for ctx.Err() == nil {
			free := w.cfg.Concurrency - len(slots)
			if free == 0 {
				break
			}
			var batch []store.MessageRow
			err := w.store.Tx(ctx, func(tx *store.Tx) (err error) {
				batch, err = tx.ClaimMessages(ctx, w.cfg.Instance, time.Now(), w.cfg.Lease, free)
				return err
			})
			if err != nil {
				if ctx.Err() == nil {
					w.log.Error("claiming messages", "err", err)
				}
				break
			}
			for i := range batch {
				slots <- struct{}{}
				sends.Add(1)
				go func(m store.MessageRow) {
					defer func() { <-slots; sends.Done(); w.Notify() }()
					w.deliver(sendCtx, &m)
				}(batch[i])
			}
			if len(batch) < free {
				break
			}
			// Every slot is busy: wait for one before claiming more.
			select {
			case <-ctx.Done():
				return
			case slots <- struct{}{}:
				<-slots
			}
		}
		timer.Reset(w.cfg.PollInterval)
	}
}

// deliver sends one claimed message and records the outcome, renewing
// the message's lease all the while. ctx ends when a stop's grace period
// is over: a send it cuts short is handed back to the queue.
func (w *Worker) deliver(ctx context.Context, m *store.MessageRow) {
	log := w.log.With("message_id", m.ID, "gateway", m.Gateway, "channel", m.Channel, "attempt", m.Attempts)
	defer w.renewLease(m.Claim(), log)()
	providerID, err := w.send(ctx, m)
	if ctx.Err() != nil && err != nil {
		w.handBack(m.Claim(), log)
		return
	}
	// The outcome is written even after the grace period, so it is not lost.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	werr := w.store.Tx(rctx, func(tx *store.Tx) error {
		switch {
		case err == nil:
			if err := tx.MarkMessageSent(rctx, m.Claim(), providerID, time.Now()); err != nil {
				return err
			}
			return w.event(rctx, tx, m, model.EventMessageSent, map[string]string{"provider_id": providerID})
		case isPermanent(err) || m.Attempts >= m.MaxAttempts:
			if err := tx.MarkMessageFailed(rctx, m.Claim(), err.Error()); err != nil {
				return err
			}
			return w.event(rctx, tx, m, model.EventMessageFailed, map[string]string{"error": err.Error()})
		default:
			return tx.MarkMessageRetry(rctx, m.Claim(), err.Error(), time.Now().Add(w.backoff(m.Attempts, retryAfter(err))))
		}
	})
	switch {
	case werr != nil:
		log.Error("recording the delivery", "err", werr)
	case err == nil:
		log.Info("message sent", "provider_id", providerID)
	case isPermanent(err) || m.Attempts >= m.MaxAttempts:
		log.Warn("message failed", "err", err)
	default:
		log.Info("message will be retried", "err", err)
	}
}

// handBack puts a message whose send a stop cut short back in the queue,
// its attempt not counted, for any instance to send at once. When that
// fails (the database is away), the message waits for its lease to run
// out, or for this instance to start again.
func (w *Worker) handBack(c store.Claim, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := w.store.Tx(ctx, func(tx *store.Tx) error { return tx.ReleaseMessage(ctx, c) })
	switch {
	case err == nil:
		log.Info("handed the message back to the queue: its send did not finish before the stop")
	case errors.Is(err, store.ErrClaimLost):
		// A delivery receipt finished it, or another instance took it over.
	default:
		log.Error("handing back a message whose send did not finish before the stop", "err", err)
	}
}

// renewLease keeps claim c's lease from running out, every third of the
// lease, until the returned stop is called: a live sender's message is
// never taken over, however slow its gateway. A renewal that fails is
// tried again at the next tick; one that finds the message no longer
// held (taken over, or finished by a delivery receipt) ends the renewals.
func (w *Worker) renewLease(c store.Claim, log *slog.Logger) (stop func()) {
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
				log.Debug("the message's lease is no longer ours to renew")
				return
			case err != nil && ctx.Err() == nil:
				log.Warn("renewing the lease of a message being sent", "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (w *Worker) send(ctx context.Context, m *store.MessageRow) (id string, err error) {
	g, err := w.gateways.Lookup(ctx, m.Gateway)
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
	return g.Send(sctx, &m.Message)
}

func (w *Worker) event(ctx context.Context, tx *store.Tx, m *store.MessageRow, kind string, detail map[string]string) error {
	if m.AccountID == 0 {
		return nil // the account was deleted
	}
	detail["message_id"] = fmt.Sprint(m.ID)
	detail["channel"] = m.Channel
	return tx.AddEvent(ctx, m.OrgID, m.AccountID, kind, "", detail)
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
