package messaging_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/outbox"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func testBox(t testing.TB) *secret.Box {
	t.Helper()
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// recording is a gateway that keeps what it was handed.
type recording struct {
	mu   sync.Mutex
	sent []model.Message
}

func (g *recording) Name() string { return "recording" }

func (g *recording) Send(_ context.Context, m *model.Message) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, *m)
	return "id", nil
}

// TestWorkerSendsTheOpenedText: a message is queued with its text masked
// and its whole text sealed; the gateway gets the whole text, the row keeps
// the masked one and loses the sealed one once sent, and the outbox keeps
// its copy masked with the whole text sealed.
func TestWorkerSendsTheOpenedText(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		acc := messaging.SeedAccount(t, st)
		box := testBox(t)
		token, _ := secret.NewToken(secret.PrefixLink)
		whole := messaging.Text{Body: "Set up your phone: https://act.example.com/a/" + token, HTML: `<a href="https://act.example.com/a/` + token + `">Set up</a>`}
		queue := func(gateway string) int64 {
			shown := whole.Masked()
			m := &store.MessageRow{OrgID: model.DefaultOrgID, MaxAttempts: 3, Message: model.Message{AccountID: acc, Channel: model.ChannelEmail,
				Kind: model.MessageActivation, Gateway: gateway, Recipient: "ada@example.com", Body: shown.Body, HTML: shown.HTML}}
			err := st.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.EnqueueMessage(ctx, m); err != nil {
					return err
				}
				return tx.SealMessageText(ctx, m.ID, whole.Seal(box))
			})
			if err != nil {
				t.Fatal(err)
			}
			return m.ID
		}
		gw := &recording{}
		reg := messaging.NewRegistry(nil, gw, outbox.New(st, box))
		w := messaging.NewWorker(st, reg, messaging.WorkerConfig{PollInterval: 20 * time.Millisecond, Secrets: box}, slog.New(slog.DiscardHandler))
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { w.Run(wctx); close(done) }()
		defer func() { cancel(); <-done }()
		sent, kept := queue("recording"), queue("outbox")
		w.Notify()
		for _, id := range []int64{sent, kept} {
			m := waitState(t, st, id, model.MessageSent)
			if strings.Contains(m.Body, token) || strings.Contains(m.HTML, token) || !strings.Contains(m.Body, token[:10]+"…") {
				t.Errorf("message %d keeps %q / %q", id, m.Body, m.HTML)
			}
			if sealed, err := st.MessageSealedText(ctx, id); err != nil || sealed != nil {
				t.Errorf("message %d keeps its sealed text once sent: %v", id, err)
			}
		}
		gw.mu.Lock()
		got := gw.sent
		gw.mu.Unlock()
		if len(got) != 1 || got[0].Body != whole.Body || got[0].HTML != whole.HTML {
			t.Fatalf("the gateway was handed %+v, want the whole text", got)
		}
		items, err := st.Outbox(ctx, model.DefaultOrgID, 10)
		if err != nil || len(items) != 1 || strings.Contains(items[0].Body+items[0].HTML, token) {
			t.Fatalf("the outbox keeps %+v, %v", items, err)
		}
		sec, err := st.OutboxSecretOf(ctx, model.DefaultOrgID, items[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if opened, err := messaging.OpenText(box, sec.Sealed); err != nil || opened != whole {
			t.Errorf("the outbox's sealed copy opens to %+v, %v", opened, err)
		}
	})
}

// TestWorkerWithoutTheKeyKeepsTheMessage: a worker that cannot open a
// sealed text does not send the masked one; the message waits for a retry.
func TestWorkerWithoutTheKeyKeepsTheMessage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		acc := messaging.SeedAccount(t, st)
		other, _ := secret.NewBox(bytes.Repeat([]byte{8}, 32))
		m := &store.MessageRow{OrgID: model.DefaultOrgID, MaxAttempts: 3, Message: model.Message{AccountID: acc, Channel: model.ChannelSMS,
			Kind: model.MessageActivation, Gateway: "recording", Recipient: "+390001", Body: "masked"}}
		err := st.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.EnqueueMessage(ctx, m); err != nil {
				return err
			}
			return tx.SealMessageText(ctx, m.ID, messaging.Text{Body: "whole"}.Seal(testBox(t)))
		})
		if err != nil {
			t.Fatal(err)
		}
		gw := &recording{}
		w := messaging.NewWorker(st, messaging.NewRegistry(nil, gw), messaging.WorkerConfig{PollInterval: 20 * time.Millisecond, BaseBackoff: time.Hour, Secrets: other}, slog.New(slog.DiscardHandler))
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { w.Run(wctx); close(done) }()
		defer func() { cancel(); <-done }()
		var got *store.MessageRow
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got, err = st.MessageByID(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State == model.MessageQueued && got.Attempts > 0 || time.Now().After(deadline) {
				break
			}
		}
		if !strings.Contains(got.LastError, "secret key") || len(gw.sent) != 0 {
			t.Errorf("a text the worker cannot open: %d sent, last error %q", len(gw.sent), got.LastError)
		}
		if sealed, _ := st.MessageSealedText(ctx, m.ID); sealed == nil {
			t.Error("the sealed text is lost")
		}
	})
}
