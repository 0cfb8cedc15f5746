package e2e_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
	"github.com/activator-voip/activator/internal/testnet"
)

// killMessages is how many messages the kill test sends.
const killMessages = 1000

// smsStandIn is a Twilio Messages API that records every message it
// accepts, by recipient. It takes delay over each (2ms when zero) and,
// when holdNth is set, holds the request with that number until its client
// hangs up: a message it never accepted.
type smsStandIn struct {
	mu       sync.Mutex
	got      map[string]int
	n        atomic.Int64 // messages accepted
	delay    time.Duration
	holdNth  int64
	held     chan struct{} // closed when the held request arrives
	heldTo   atomic.Value  // the held request's recipient
	requests atomic.Int64
}

func (s *smsStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
		http.Error(w, "unexpected request", 400)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("To") == "" || r.PostForm.Get("Body") == "" {
		http.Error(w, "bad form", 400)
		return
	}
	to := r.PostForm.Get("To")
	if s.holdNth > 0 && s.requests.Add(1) == s.holdNth {
		s.heldTo.Store(to)
		close(s.held)
		<-r.Context().Done()
		return
	}
	select { // a provider takes a moment
	case <-time.After(cmp.Or(s.delay, 2*time.Millisecond)):
	case <-r.Context().Done():
		return
	}
	s.mu.Lock()
	s.got[to]++
	s.mu.Unlock()
	n := s.n.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(201)
	fmt.Fprintf(w, `{"sid":"SM%030d","status":"queued"}`, n)
}

func (s *smsStandIn) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.got))
	for k, v := range s.got {
		out[k] = v
	}
	return out
}

// TestDeliverySurvivesSIGKILL queues 1,000 messages to a stand-in gateway,
// kills the server with SIGKILL midway through sending them, starts it
// again on the same database, and checks that every message arrives, the
// ones in flight at the kill included, before their lease (3 minutes, long
// on purpose) would have run out: the restarted instance takes its own
// claims back at once. Only messages in flight at the kill arrive twice.
func TestDeliverySurvivesSIGKILL(t *testing.T) {
	onEachEngine(t, killRun)
}

// onEachEngine builds activator and runs test, side by side, on a fresh
// SQLite data folder (database "") and on a fresh PostgreSQL database.
func onEachEngine(t *testing.T, test func(t *testing.T, bin, database string)) {
	backends := storetest.Backends(t)
	bin := buildBinary(t, t.TempDir())
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			i := slices.IndexFunc(backends, func(b storetest.Backend) bool { return b.Name == name })
			if i < 0 {
				t.Skipf("%s: %s is not set", name, storetest.EnvPostgres)
			}
			database := ""
			if name != "sqlite" {
				database = backends[i].DSN(t)
			}
			test(t, bin, database)
		})
	}
}

// api calls the admin API with the server's first admin token.
type api struct {
	base, token string
	hc          *http.Client
}

func (a *api) do(t *testing.T, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, body)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, raw)
	} else if out != nil {
		if err := decodeFresh(raw, out); err != nil {
			t.Errorf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func killRun(t *testing.T, bin, database string) {
	stand := &smsStandIn{got: map[string]int{}}
	provider := httptest.NewServer(stand)
	defer provider.Close()
	// While the batch is queued, the gateway points at a refusing port: every
	// first attempt fails at once (connection refused, a temporary error) and
	// is retried after the worker's backoff (10 s ±20 %), by which time the
	// gateway points at the provider.
	closedURL := "http://" + testnet.RefusingAddr(t)

	dir := t.TempDir()
	// A lease far longer than the test may take: the restarted server must
	// not wait for it to send what the killed one had in flight. The
	// embedded SIP registrar is not under test: off, so the two engines can
	// run side by side.
	env := []string{"ACTIVATOR_DELIVERY_LEASE=3m", "ACTIVATOR_SIP_UDP=off", "ACTIVATOR_SIP_TCP=off", "ACTIVATOR_SIP_TLS=off"}
	srv := startServe(t, bin, serveOptions{database: database, dir: dir, httpOnly: true, logLevel: "warn", env: env})
	token := strings.TrimSpace(readFile(t, filepath.Join(srv.dataDir, "admin.token")))
	a := &api{base: srv.url + "/api/v1", token: token, hc: &http.Client{Timeout: 30 * time.Second}}

	a.do(t, "POST", "/groups", model.GroupInput{Name: strp("field")}, nil)
	a.do(t, "POST", "/gateways", model.GatewayInput{Name: strp("sms"), KindName: strp("twilio"), DefaultFor: strp("sms"),
		Settings: map[string]string{"account_sid": "AC1", "auth_token": "tok", "from": "+15005550006", "base_url": closedURL}}, nil)
	if t.Failed() {
		t.FailNow()
	}

	// Queue every message while the provider holds its answers.
	start := time.Now()
	usernames := make([]string, killMessages)
	recipients := make([]string, killMessages)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				var acc model.Account
				recipients[i] = fmt.Sprintf("+39333%07d", i)
				a.do(t, "POST", "/accounts", model.AccountInput{Group: strp("field"), Name: strp(fmt.Sprintf("User %d", i)), Mobile: strp(recipients[i])}, &acc)
				usernames[i] = acc.Username
				a.do(t, "POST", "/accounts/"+acc.Username+"/send", model.SendRequest{Channel: "sms"}, nil)
			}
		}()
	}
	for i := range killMessages {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("queued %d messages in %v", killMessages, time.Since(start).Round(time.Millisecond))

	// Let sending start, and kill the server midway.
	a.do(t, "PATCH", "/gateways/sms", model.GatewayInput{Settings: map[string]string{"base_url": provider.URL}}, nil)
	deadline := time.Now().Add(60 * time.Second)
	for stand.n.Load() < killMessages*2/5 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d messages reached the provider in 60s", stand.n.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if err := srv.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	atKill := stand.n.Load()
	t.Logf("SIGKILL after %d of %d messages reached the provider", atKill, killMessages)

	// What was being sent at the kill: the messages its worker had claimed
	// and not yet recorded, read straight from the database.
	inFlight := map[string]bool{}
	dsn := database
	if dsn == "" {
		dsn = filepath.Join(srv.dataDir, "activator.db")
	}
	st := storetest.Open(t, dsn)
	sending, err := st.Messages(context.Background(), model.DefaultOrgID, store.MessageFilter{State: model.MessageSending, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// The earliest the killed server's leases would have run out.
	leaseEnd := time.Now().Add(3 * time.Minute)
	for _, m := range sending {
		inFlight[m.Recipient] = true
		row, err := st.MessageByID(context.Background(), m.ID)
		if err != nil || row.LockedUntil == nil {
			t.Fatalf("message %d in flight at the kill: %+v, %v", m.ID, row, err)
		}
		if row.LockedUntil.Before(leaseEnd) {
			leaseEnd = *row.LockedUntil
		}
	}
	st.Close()

	// Start again on the same database and data folder.
	srv2 := startServe(t, bin, serveOptions{database: database, dir: dir, httpOnly: true, logLevel: "warn", env: env})
	restarted := time.Now()
	a.base = srv2.url + "/api/v1"

	// Every message arrives, before the killed server's leases would have
	// run out.
	deadline = leaseEnd
	for {
		var sent struct {
			Messages []model.Message `json:"messages"`
		}
		a.do(t, "GET", "/messages?state=sent&limit=1000", nil, &sent)
		if len(sent.Messages) == killMessages {
			break
		}
		if time.Now().After(deadline) || t.Failed() {
			t.Fatalf("%d of %d messages sent %v after the restart, when the killed server's leases ran out: its messages in flight waited for their lease",
				len(sent.Messages), killMessages, time.Since(restarted).Round(time.Second))
		}
		time.Sleep(200 * time.Millisecond)
	}
	got := stand.counts()
	var missing, dups []string
	for _, r := range recipients {
		switch n := got[r]; {
		case n == 0:
			missing = append(missing, r)
		case n > 1:
			dups = append(dups, r)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d messages never reached the provider: %v", len(missing), missing)
	}
	for _, r := range dups {
		if !inFlight[r] {
			t.Errorf("the message to %s arrived %d times but was not in flight at the kill", r, got[r])
		}
	}
	t.Logf("all %d messages arrived %v after the restart (the leases ran until %v after it); %d were in flight at the kill; %d arrived twice (%v)",
		killMessages, time.Since(restarted).Round(time.Millisecond), leaseEnd.Sub(restarted).Round(time.Second), len(inFlight), len(dups), dups)
	if len(inFlight) > messaging.DefaultConcurrency {
		t.Errorf("%d messages in flight at the kill: the worker sends at most %d at once", len(inFlight), messaging.DefaultConcurrency)
	}
	srv2.stop(t)
}

func strp(s string) *string { return &s }
