package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// WorkerConfig tunes the delivery worker.
type WorkerConfig struct {
	Concurrency  int           // messages sent at once (default 4)
	PollInterval time.Duration // how often to look for due messages when not woken (default 1s)
	Lease        time.Duration // how long a claimed message is ours before another instance may retry it (default 2m)
	BaseBackoff  time.Duration // first retry delay, doubled each attempt (default 10s)
	MaxBackoff   time.Duration // cap of the retry delay (default 1h)
	SendTimeout  time.Duration // one gateway call (default 60s)
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
		cfg.Lease = 2 * time.Minute
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
	bell := cfg.Doorbell
	if bell == nil {
		bell = NewDoorbell()
	}
	return &Worker{store: st, gateways: gateways, cfg: cfg, log: log, bell: bell}
}

// Notify wakes the worker: a message was just queued.
func (w *Worker) Notify() { w.bell.Ring() }

// Run delivers until ctx ends, then waits for the sends in flight.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, w.cfg.Concurrency)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-w.bell.c:
		}
		for {
			free := w.cfg.Concurrency - len(slots)
			if free == 0 {
				break
			}
			var batch []store.MessageRow
			err := w.store.Tx(ctx, func(tx *store.Tx) (err error) {
				batch, err = tx.ClaimMessages(ctx, time.Now(), w.cfg.Lease, free)
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
				wg.Add(1)
				go func(m store.MessageRow) {
					defer func() { <-slots; wg.Done(); w.Notify() }()
					w.deliver(ctx, &m)
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

// deliver sends one claimed message and records the outcome.
func (w *Worker) deliver(ctx context.Context, m *store.MessageRow) {
	log := w.log.With("message_id", m.ID, "gateway", m.Gateway, "channel", m.Channel, "attempt", m.Attempts)
	providerID, err := w.send(ctx, m)
	if ctx.Err() != nil && err != nil {
		// Shutting down mid-send: leave the row leased; it is retried after the lease.
		return
	}
	// The outcome is written even while shutting down, so it is not lost.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	werr := w.store.Tx(rctx, func(tx *store.Tx) error {
		switch {
		case err == nil:
			if err := tx.MarkMessageSent(rctx, m.ID, providerID, time.Now()); err != nil {
				return err
			}
			return w.event(rctx, tx, m, model.EventMessageSent, map[string]string{"provider_id": providerID})
		case isPermanent(err) || m.Attempts >= m.MaxAttempts:
			if err := tx.MarkMessageFailed(rctx, m.ID, err.Error()); err != nil {
				return err
			}
			return w.event(rctx, tx, m, model.EventMessageFailed, map[string]string{"error": err.Error()})
		default:
			return tx.MarkMessageRetry(rctx, m.ID, err.Error(), time.Now().Add(w.backoff(m.Attempts, retryAfter(err))))
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

func (w *Worker) send(ctx context.Context, m *store.MessageRow) (id string, err error) {
	g, err := w.gateways.Lookup(ctx, m.OrgID, m.Gateway)
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

func (w *Worker) event(ctx context.Context, tx *store.Tx, m *store.MessageRow, kind model.EventKind, detail map[string]string) error {
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
