package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// drainMessages is how many messages the SIGTERM test sends.
const drainMessages = 40

// TestDeliveryDrainsOnSIGTERM stops the server with SIGTERM while it sends:
// the sends in flight finish and are recorded, the one still running when
// the grace period ends is cut short and its message handed back, and
// nothing is left 'sending'. Started again, the server sends the rest at
// once (the lease is 3 minutes, long on purpose), and every message
// arrives exactly once.
func TestDeliveryDrainsOnSIGTERM(t *testing.T) {
	onEachEngine(t, drainRun)
}

func drainRun(t *testing.T, bin, database string) {
	provider := &smsStandIn{delay: 300 * time.Millisecond, holdNth: 10, held: make(chan struct{}), got: map[string]int{}}
	ps := httptest.NewServer(provider)
	defer ps.Close()

	dir := t.TempDir()
	env := []string{"ACTIVATOR_DELIVERY_LEASE=3m", "ACTIVATOR_DELIVERY_GRACE=2s",
		"ACTIVATOR_SIP_UDP=off", "ACTIVATOR_SIP_TCP=off", "ACTIVATOR_SIP_TLS=off"}
	srv := startServe(t, bin, serveOptions{database: database, dir: dir, httpOnly: true, logLevel: "warn", env: env})
	token := strings.TrimSpace(readFile(t, filepath.Join(srv.dataDir, "admin.token")))
	a := &api{base: srv.url + "/api/v1", token: token, hc: &http.Client{Timeout: 30 * time.Second}}
	a.do(t, "POST", "/groups", model.GroupInput{Name: strp("field")}, nil)
	a.do(t, "POST", "/gateways", model.GatewayInput{Name: strp("sms"), KindName: strp("twilio"), DefaultFor: strp("sms"),
		Settings: map[string]string{"account_sid": "AC1", "auth_token": "tok", "from": "+15005550006", "base_url": ps.URL}}, nil)
	recipients := make([]string, drainMessages)
	for i := range drainMessages {
		var acc model.Account
		recipients[i] = fmt.Sprintf("+39334%07d", i)
		a.do(t, "POST", "/accounts", model.AccountInput{Group: strp("field"), Name: strp(fmt.Sprintf("User %d", i)), Mobile: strp(recipients[i])}, &acc)
		a.do(t, "POST", "/accounts/"+acc.Username+"/send", model.SendRequest{Channel: "sms"}, nil)
	}
	if t.Failed() {
		t.FailNow()
	}

	// SIGTERM while the held message and others are being sent.
	select {
	case <-provider.held:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d requests reached the provider in 60s", provider.requests.Load())
	}
	srv.stop(t) // SIGTERM, and a clean exit
	before := provider.counts()

	dsn := database
	if dsn == "" {
		dsn = filepath.Join(srv.dataDir, "activator.db")
	}
	st := storetest.Open(t, dsn)
	ctx := context.Background()
	states := map[string]int{}
	var held *model.Message
	for _, state := range []string{model.MessageQueued, model.MessageSending, model.MessageSent} {
		ms, err := st.Messages(ctx, model.DefaultOrgID, store.MessageFilter{State: state, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		states[state] = len(ms)
		for i := range ms {
			if ms[i].Recipient == provider.heldTo.Load() {
				held = &ms[i]
			}
		}
	}
	st.Close()
	t.Logf("after SIGTERM: %v; the provider had accepted %d messages", states, len(before))
	if states[model.MessageSending] != 0 {
		t.Fatalf("%d messages left 'sending' after SIGTERM", states[model.MessageSending])
	}
	if states[model.MessageSent] != len(before) || states[model.MessageQueued]+states[model.MessageSent] != drainMessages {
		t.Fatalf("after SIGTERM: %v, but the provider accepted %d: every send that finished must be recorded", states, len(before))
	}
	if held == nil || held.State != model.MessageQueued || held.Attempts != 0 {
		t.Fatalf("the message whose send outlived the grace period: %+v; want it queued again, its attempt not counted", held)
	}

	// Started again: the rest goes out at once, nothing twice.
	srv2 := startServe(t, bin, serveOptions{database: database, dir: dir, httpOnly: true, logLevel: "warn", env: env})
	a.base = srv2.url + "/api/v1"
	deadline := time.Now().Add(2 * time.Minute) // within the 3-minute lease
	for {
		var sent struct {
			Messages []model.Message `json:"messages"`
		}
		a.do(t, "GET", "/messages?state=sent&limit=1000", nil, &sent)
		if len(sent.Messages) == drainMessages {
			break
		}
		if time.Now().After(deadline) || t.Failed() {
			t.Fatalf("%d of %d messages sent 2 minutes after the restart", len(sent.Messages), drainMessages)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := provider.counts()
	for _, r := range recipients {
		if got[r] != 1 {
			t.Errorf("the message to %s reached the provider %d times", r, got[r])
		}
	}
	srv2.stop(t)
}
