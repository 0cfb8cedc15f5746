package messaging_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/twilio"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// BenchmarkQueueThroughput reports messages per second from enqueue (one
// transaction each, as a CSR's send makes them) to "sent" through the
// durable queue and the Twilio adapter to a local stand-in that answers at
// once, on each database and at two worker sizes.
func BenchmarkQueueThroughput(b *testing.B) {
	for _, be := range storetest.Backends(b) {
		for _, conc := range []int{4, 16} {
			b.Run(fmt.Sprintf("%s/workers=%d", be.Name, conc), func(b *testing.B) {
				st := storetest.Open(b, be.DSN(b))
				acc := messaging.SeedAccount(b, st)
				var got atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					r.ParseForm()
					n := got.Add(1)
					w.WriteHeader(201)
					fmt.Fprintf(w, `{"sid":"SM%030d","status":"queued"}`, n)
				}))
				defer srv.Close()
				srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 64
				gw, _ := twilio.New("tw", map[string]string{"account_sid": "AC1", "auth_token": "t", "from": "+15005550006", "base_url": srv.URL},
					messaging.Options{HTTPClient: srv.Client()})
				reg := messaging.NewRegistry(nil, gw)
				w := messaging.NewWorker(st, reg, messaging.WorkerConfig{Concurrency: conc, PollInterval: 5 * time.Millisecond},
					slog.New(slog.NewTextHandler(io.Discard, nil)))
				ctx, stop := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { w.Run(ctx); close(done) }()
				defer func() { stop(); <-done }()

				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					m := &store.MessageRow{OrgID: model.DefaultOrgID, MaxAttempts: 3, Message: model.Message{AccountID: acc,
						Channel: model.ChannelSMS, Kind: model.MessageActivation, Gateway: "tw", Recipient: fmt.Sprintf("+39333%07d", i), Body: "hello"}}
					if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
						b.Fatal(err)
					}
					w.Notify()
				}
				deadline := time.Now().Add(5 * time.Minute)
				for {
					sending, _ := st.Messages(ctx, model.DefaultOrgID, store.MessageFilter{State: model.MessageSending, Limit: 1})
					queued, _ := st.Messages(ctx, model.DefaultOrgID, store.MessageFilter{State: model.MessageQueued, Limit: 1})
					if got.Load() >= int64(b.N) && len(sending) == 0 && len(queued) == 0 {
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d sent after 5 minutes", got.Load(), b.N)
					}
					time.Sleep(time.Millisecond)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				if got.Load() != int64(b.N) {
					b.Fatalf("the provider got %d messages for %d queued", got.Load(), b.N)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			})
		}
	}
}
