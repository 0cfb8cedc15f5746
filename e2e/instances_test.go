package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
	"github.com/activator-voip/activator/internal/testnet"
)

// instanceMessages is how many messages the two-instance test sends.
const instanceMessages = 2000

// TestTwoInstancesOnePostgres starts two instances at once on one fresh
// PostgreSQL database (they migrate and make the first start's rows once
// between them), sends 2,000 messages through a stand-in gateway with the
// requests spread over both, and SIGKILLs one instance midway. The other
// sends everything: every message arrives, only those the killed instance
// had in flight may arrive twice, and they go out once its lease runs out.
func TestTwoInstancesOnePostgres(t *testing.T) {
	t.Parallel() // long: it runs beside the other end-to-end tests
	backends := storetest.Backends(t)
	if len(backends) < 2 {
		t.Skipf("postgres: %s is not set", storetest.EnvPostgres)
	}
	database := backends[1].DSN(t)
	bin := buildBinary(t, t.TempDir())
	stand := &smsStandIn{got: map[string]int{}}
	provider := httptest.NewServer(stand)
	defer provider.Close()
	closedURL := "http://" + testnet.RefusingAddr(t)

	// Every instance has the same secret key; each its own data folder.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keyFile := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A short lease (renewed every third of it while a send runs): the
	// killed instance's claims return to the queue 5 s after its last renewal.
	env := []string{"ACTIVATOR_SECRET_KEY_FILE=" + keyFile, "ACTIVATOR_DELIVERY_LEASE=5s", "ACTIVATOR_SIP_UDP=off", "ACTIVATOR_SIP_TCP=off", "ACTIVATOR_SIP_TLS=off"}
	srvs := make([]*server, 2)
	var wg sync.WaitGroup
	for i := range srvs {
		wg.Add(1)
		go func() { // startServe fails the test from here; FailNow below stops it
			defer wg.Done()
			srvs[i] = startServe(t, bin, serveOptions{database: database, httpOnly: true, logLevel: "warn", env: env})
		}()
	}
	wg.Wait()
	if t.Failed() || srvs[0] == nil || srvs[1] == nil {
		t.FailNow()
	}
	var token string
	for _, s := range srvs {
		if b, err := os.ReadFile(filepath.Join(s.dataDir, "admin.token")); err == nil {
			if token != "" {
				t.Fatal("both instances made a first admin token: both made the first start's rows")
			}
			token = strings.TrimSpace(string(b))
		}
	}
	if token == "" {
		t.Fatal("neither instance wrote the first admin token")
	}
	apis := []*api{
		{base: srvs[0].url + "/api/v1", token: token, hc: &http.Client{Timeout: 30 * time.Second}},
		{base: srvs[1].url + "/api/v1", token: token, hc: &http.Client{Timeout: 30 * time.Second}},
	}
	apis[0].do(t, "POST", "/groups", model.GroupInput{Name: strp("field")}, nil)
	// Made through one instance, used by the other at once.
	apis[1].do(t, "POST", "/gateways", model.GatewayInput{Name: strp("sms"), KindName: strp("twilio"), DefaultFor: strp("sms"),
		Settings: map[string]string{"account_sid": "AC1", "auth_token": "tok", "from": "+15005550006", "base_url": closedURL}}, nil)
	if t.Failed() {
		t.FailNow()
	}

	// Queue every message, the requests spread over both instances, while
	// the gateway refuses: each first attempt fails and is retried after the
	// backoff, when the gateway reaches the provider.
	start := time.Now()
	recipients := make([]string, instanceMessages)
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				a := apis[i%2]
				var acc model.Account
				recipients[i] = fmt.Sprintf("+39334%07d", i)
				a.do(t, "POST", "/accounts", model.AccountInput{Group: strp("field"), Name: strp(fmt.Sprintf("User %d", i)), Mobile: strp(recipients[i])}, &acc)
				apis[(i+1)%2].do(t, "POST", "/accounts/"+acc.Username+"/send", model.SendRequest{Channel: "sms"}, nil)
			}
		}()
	}
	for i := range instanceMessages {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("queued %d messages through two instances in %v", instanceMessages, time.Since(start).Round(time.Millisecond))

	apis[1].do(t, "PATCH", "/gateways/sms", model.GatewayInput{Settings: map[string]string{"base_url": provider.URL}}, nil)
	deadline := time.Now().Add(90 * time.Second)
	for stand.n.Load() < instanceMessages*2/5 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d messages reached the provider in 90s", stand.n.Load())
		}
		time.Sleep(time.Millisecond)
	}
	killed := srvs[0]
	if err := killed.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-killed.exited
	killedAt := time.Now()
	t.Logf("SIGKILL of one instance after %d of %d messages reached the provider", stand.n.Load(), instanceMessages)

	// What the killed instance had in flight: claimed by it, not recorded.
	instance := strings.TrimSpace(readFile(t, filepath.Join(killed.dataDir, "instance.id")))
	st := storetest.Open(t, database)
	sending, err := st.Messages(context.Background(), model.DefaultOrgID, store.MessageFilter{State: model.MessageSending, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	inFlight := map[int64]string{} // message id: recipient
	for _, m := range sending {
		row, err := st.MessageByID(context.Background(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(row.ClaimedBy, instance) {
			inFlight[m.ID] = m.Recipient
		}
	}

	// The survivor sends the rest, and the killed one's claims once their
	// lease (5 s) runs out: wait until every message is
	// recorded sent.
	deadline = time.Now().Add(2 * time.Minute)
	var inFlightOut time.Duration
	for {
		all, err := st.Messages(context.Background(), model.DefaultOrgID, store.MessageFilter{Limit: 2 * instanceMessages})
		if err != nil {
			t.Fatal(err)
		}
		sent, waiting := 0, 0
		for _, m := range all {
			if m.State == model.MessageSent {
				sent++
			} else if _, ok := inFlight[m.ID]; ok {
				waiting++
			}
		}
		if waiting == 0 && inFlightOut == 0 {
			inFlightOut = time.Since(killedAt)
		}
		if sent == instanceMessages {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages sent 2 minutes after the kill (%d of the %d in flight at the kill still waiting)", sent, instanceMessages, waiting, len(inFlight))
		}
		time.Sleep(100 * time.Millisecond)
	}
	allSent := time.Since(killedAt)
	got := stand.counts()
	var dups []string
	for _, r := range recipients {
		switch n := got[r]; {
		case n == 0:
			t.Errorf("the message to %s never reached the provider", r)
		case n > 1:
			dups = append(dups, r)
			if !slices.Contains(slices.Collect(maps.Values(inFlight)), r) {
				t.Errorf("the message to %s arrived %d times but the killed instance did not have it in flight", r, n)
			}
		}
	}
	t.Logf("every one of %d messages arrived; the killed instance had %d in flight, all recorded sent by the survivor %v after the kill; the last message %v after it; %d arrived twice",
		instanceMessages, len(inFlight), inFlightOut.Round(time.Millisecond), allSent.Round(time.Millisecond), len(dups))
	srvs[1].stop(t)
}
