package messaging_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/outbox"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// scripted is a gateway whose answers the test dictates, per recipient:
// a list of errors to return in turn, then success.
type scripted struct {
	mu      sync.Mutex
	script  map[string][]error
	calls   map[string]int
	blockOn string        // recipient whose send blocks until release closes
	release chan struct{} // closed to let a blocked send finish
}

func (g *scripted) Name() string { return "scripted" }

func (g *scripted) Send(ctx context.Context, m *model.Message) (string, error) {
	g.mu.Lock()
	g.calls[m.Recipient]++
	n := g.calls[m.Recipient]
	var err error
	if s := g.script[m.Recipient]; n <= len(s) {
		err = s[n-1]
	}
	block := g.blockOn == m.Recipient && n == 1
	g.mu.Unlock()
	if block {
		select {
		case <-g.release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if err != nil {
		return "", err
	}
	return "id-" + m.Recipient, nil
}

func seedAccount(t *testing.T, st *store.Store) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := st.Tx(ctx, func(tx *store.Tx) error {
		tx.EnsureOrganisation(ctx, model.DefaultOrgID, "default")
		g := &store.GroupRow{Group: model.Group{Name: "g"}}
		if err := tx.CreateGroup(ctx, model.DefaultOrgID, g); err != nil {
			return err
		}
		a := &store.AccountRow{OrgID: model.DefaultOrgID, Account: model.Account{GroupID: g.ID, Username: "100", DisplayName: "A",
			SecurityModel: model.EndToEnd, VirtualNumber: "1", Kind: "wizard", Stage: model.StageInvited}}
		err := tx.CreateAccount(ctx, a)
		id = a.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func enqueue(t *testing.T, st *store.Store, account int64, gateway, recipient string, maxAttempts int) int64 {
	t.Helper()
	m := &store.MessageRow{OrgID: model.DefaultOrgID, MaxAttempts: maxAttempts, Message: model.Message{AccountID: account,
		Channel: model.ChannelSMS, Kind: model.MessageActivation, Gateway: gateway, Recipient: recipient, Body: "hello " + recipient}}
	if err := st.Tx(context.Background(), func(tx *store.Tx) error { return tx.EnqueueMessage(context.Background(), m) }); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func waitState(t *testing.T, st *store.Store, id int64, state string) *store.MessageRow {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := st.MessageByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.State == state {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d: want state %s, still %s after %d attempts (%s)", id, state, m.State, m.Attempts, m.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWorkerRetriesTemporaryFailuresAndFailsPermanentOnes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := seedAccount(t, st)
		gw := &scripted{calls: map[string]int{}, script: map[string][]error{
			"flaky":     {errors.New("connection reset"), messaging.Temporary(errors.New("429 slow down"), 0)},
			"bad":       {messaging.Permanent(errors.New("invalid destination number"))},
			"hopeless":  {errors.New("down"), errors.New("down"), errors.New("down"), errors.New("down")},
			"retryafer": {messaging.Temporary(errors.New("throttled"), 300*time.Millisecond)},
		}}
		reg := messaging.NewRegistry(nil, gw, outbox.New(st))
		w := messaging.NewWorker(st, reg, messaging.WorkerConfig{PollInterval: 20 * time.Millisecond, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		flaky := enqueue(t, st, acc, "scripted", "flaky", 5)
		bad := enqueue(t, st, acc, "scripted", "bad", 5)
		hopeless := enqueue(t, st, acc, "scripted", "hopeless", 3)
		ra := enqueue(t, st, acc, "scripted", "retryafer", 5)
		missing := enqueue(t, st, acc, "nowhere", "x", 5)
		kept := enqueue(t, st, acc, "outbox", "+390001", 5)
		start := time.Now()
		w.Notify()

		if m := waitState(t, st, flaky, model.MessageSent); m.Attempts != 3 || m.ProviderID != "id-flaky" {
			t.Errorf("flaky: sent after %d attempts, provider id %q", m.Attempts, m.ProviderID)
		}
		if m := waitState(t, st, bad, model.MessageFailed); m.Attempts != 1 || m.LastError != "invalid destination number" {
			t.Errorf("permanent failure: %d attempts, error %q", m.Attempts, m.LastError)
		}
		if m := waitState(t, st, hopeless, model.MessageFailed); m.Attempts != 3 || m.LastError != "down" {
			t.Errorf("max attempts: %d attempts, error %q", m.Attempts, m.LastError)
		}
		waitState(t, st, ra, model.MessageSent)
		if took := time.Since(start); took < 300*time.Millisecond {
			t.Errorf("Retry-After of 300ms not honoured: sent after %v", took)
		}
		if m := waitState(t, st, missing, model.MessageFailed); m.LastError == "" {
			t.Error("a message for an unknown gateway must fail with a reason")
		}
		waitState(t, st, kept, model.MessageSent)
		items, _ := st.Outbox(context.Background(), model.DefaultOrgID, 0)
		if len(items) != 1 || items[0].Body != "hello +390001" {
			t.Errorf("outbox: %+v", items)
		}
		events, _ := st.Events(context.Background(), acc)
		sent, failed := 0, 0
		for _, e := range events {
			switch e.Kind {
			case model.EventMessageSent:
				sent++
			case model.EventMessageFailed:
				failed++
			}
		}
		if sent != 3 || failed != 3 {
			t.Errorf("timeline: %d sent, %d failed events; want 3 and 3", sent, failed)
		}
	})
}

// TestWorkerPicksUpWhatADeadWorkerLeft: a worker stopped mid-send leaves its
// message leased; once the lease runs out another worker delivers it.
func TestWorkerPicksUpWhatADeadWorkerLeft(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := seedAccount(t, st)
		gw := &scripted{calls: map[string]int{}, script: map[string][]error{}, blockOn: "slow", release: make(chan struct{})}
		reg := messaging.NewRegistry(nil, gw)
		cfg := messaging.WorkerConfig{PollInterval: 20 * time.Millisecond, Lease: 300 * time.Millisecond}
		first := messaging.NewWorker(st, reg, cfg, slog.New(slog.DiscardHandler))
		ctx1, kill := context.WithCancel(context.Background())
		done1 := make(chan struct{})
		go func() { first.Run(ctx1); close(done1) }()
		id := enqueue(t, st, acc, "scripted", "slow", 5)
		first.Notify()
		waitState(t, st, id, model.MessageSending)
		kill() // the first worker dies mid-send
		<-done1
		if m, _ := st.MessageByID(context.Background(), id); m.State != model.MessageSending {
			t.Fatalf("a send cut short must stay leased, not be marked: %s", m.State)
		}
		second := messaging.NewWorker(st, reg, cfg, slog.New(slog.DiscardHandler))
		ctx2, stop := context.WithCancel(context.Background())
		done2 := make(chan struct{})
		go func() { second.Run(ctx2); close(done2) }()
		defer func() { stop(); <-done2 }()
		m := waitState(t, st, id, model.MessageSent)
		if m.Attempts != 2 {
			t.Fatalf("redelivered after the lease: want 2 attempts, got %d", m.Attempts)
		}
	})
}
