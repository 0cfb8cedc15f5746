package e2e_test

import (
	"bytes"
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

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
	"github.com/activator-voip/activator/internal/testnet"
)

// killMessages is how many messages the kill test sends.
const killMessages = 1000

// smsStandIn is a Twilio Messages API that records every message it
// accepts, by recipient.
type smsStandIn struct {
	mu  sync.Mutex
	got map[string]int
	n   atomic.Int64
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
	time.Sleep(2 * time.Millisecond) // a provider takes a moment
	to := r.PostForm.Get("To")
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
// again on the same database, and checks that every message arrives and
// that only messages in flight at the kill arrived twice.
func TestDeliverySurvivesSIGKILL(t *testing.T) {
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
			killRun(t, bin, database)
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
		if err := json.Unmarshal(raw, out); err != nil {
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
	// A lease shorter than the default 2 minutes, so the restarted server
	// takes over the killed one's messages within seconds. The embedded SIP
	// registrar is not under test: off, so the two engines can run side by side.
	env := []string{"ACTIVATOR_DELIVERY_LEASE=4s", "ACTIVATOR_SIP_UDP=off", "ACTIVATOR_SIP_TCP=off", "ACTIVATOR_SIP_TLS=off"}
	srv := startKillable(t, bin, dir, database, env)
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
	for _, m := range sending {
		inFlight[m.Recipient] = true
	}
	st.Close()

	// Start again on the same database.
	srv2 := startKillable(t, bin, dir, database, env)
	a.base = srv2.url + "/api/v1"

	// Every message arrives.
	deadline = time.Now().Add(120 * time.Second)
	for {
		var sent struct {
			Messages []model.Message `json:"messages"`
		}
		a.do(t, "GET", "/messages?state=sent&limit=1000", nil, &sent)
		if len(sent.Messages) == killMessages {
			break
		}
		if time.Now().After(deadline) || t.Failed() {
			t.Fatalf("%d of %d messages sent 120s after the restart", len(sent.Messages), killMessages)
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
	t.Logf("all %d messages arrived; %d were in flight at the kill; %d arrived twice (%v)", killMessages, len(inFlight), len(dups), dups)
	if len(inFlight) > 4 {
		t.Errorf("%d messages in flight at the kill: the worker sends at most 4 at once", len(inFlight))
	}
	srv2.stop(t)
}

func strp(s string) *string { return &s }

// startKillable runs `activator serve` on the data folder in dir (kept
// across restarts) with extra environment, and waits for /healthz. Each
// start gets a port of its own.
func startKillable(t *testing.T, bin, dir, database string, extraEnv []string) *server {
	t.Helper()
	dataDir := filepath.Join(dir, "data")
	args := []string{"--listen", "127.0.0.1:0", "--data", dataDir, "--log-format", "json", "--log-level", "warn"}
	if database != "" {
		args = append(args, "--database", database)
	}
	s, l := startServe(t, bin, dir, extraEnv, args)
	s.url, s.dataDir = l.URL, dataDir
	s.waitHealthy(t, &http.Client{Timeout: time.Second})
	return s
}
