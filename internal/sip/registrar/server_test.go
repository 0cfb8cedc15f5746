package registrar

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// registrar starts the embedded registrar on a loopback UDP port with two
// activated accounts (alice and carol, passwords "alicepw" and "carolpw",
// virtual numbers "1alice" and "1carol") and one never activated (bob).
func registrar(t *testing.T, algorithms []string) (addr string, st *store.Store) {
	t.Helper()
	r := startRegistrar(t, func(c *Config) { c.Algorithms = algorithms })
	return r.addr, r.st
}

// testRegistrar is a running registrar of registrar's accounts, on a clock
// the test moves, logging into logs.
type testRegistrar struct {
	addr  string // UDP
	st    *store.Store
	srv   *Server
	clock *testClock
	logs  *syncBuffer
}

// startRegistrar is registrar with a configuration the test adjusts.
func startRegistrar(t testing.TB, adjust func(*Config)) *testRegistrar {
	t.Helper()
	return startRegistrarOn(t, storetest.SQLiteDSN(t), adjust)
}

// startRegistrarOn is startRegistrar on the database dsn names.
func startRegistrarOn(t testing.TB, dsn string, adjust func(*Config)) *testRegistrar {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, dsn)
	box, err := secret.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := activation.Bootstrap(ctx, st, box, t.TempDir(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	settings := activation.NewSettings(st, "http://127.0.0.1:1", nil)
	if _, err := settings.Set(ctx, model.SettingSIPDomain, "example.com", activation.Caller{Name: "test", OrgID: model.DefaultOrgID}); err != nil {
		t.Fatal(err)
	}
	err = st.Tx(ctx, func(tx *store.Tx) error {
		g := &store.GroupRow{Group: model.Group{Name: "g"}}
		if err := tx.CreateGroup(ctx, model.DefaultOrgID, g); err != nil {
			return err
		}
		for _, u := range []string{"alice", "bob", "carol"} {
			a := &store.AccountRow{OrgID: model.DefaultOrgID, Account: model.Account{GroupID: g.ID, Username: u, DisplayName: u,
				SecurityModel: model.EndToEnd, VirtualNumber: "1" + u, Kind: "wizard", Stage: model.StageNew}}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			if u != "bob" {
				in := []byte(u + ":example.com:" + u + "pw")
				m, s := md5.Sum(in), sha256.Sum256(in)
				if err := tx.ActivateAccount(ctx, a.ID, box.Seal([]byte(u+"pw")), hex.EncodeToString(m[:]), hex.EncodeToString(s[:]), "example.com", time.Now()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg := Config{UDP: "127.0.0.1:0", Store: st, Settings: settings, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if adjust != nil {
		adjust(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Now()}
	srv.now = clock.now // before Run: no request is served yet
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Run(rctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the registrar did not stop on context cancel")
		}
	})
	return &testRegistrar{addr: "127.0.0.1:" + strconv.Itoa(srv.Ports()["udp"]), st: st, srv: srv, clock: clock, logs: logs}
}

// testClock is a clock the test moves forward.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log destination the test reads while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func register(t *testing.T, addr, user string) (*sipgo.Client, *sip.Request, *sip.Response) {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	var to sip.Uri
	if err := sip.ParseUri("sip:"+user+"@example.com", &to); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "example.com"})
	req.SetDestination(addr)
	req.AppendHeader(&sip.ToHeader{Address: to})
	req.AppendHeader(&sip.FromHeader{Address: to, Params: sip.HeaderParams{{K: "tag", V: sip.GenerateTagN(8)}}})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: 5999}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return c, req, res
}

func TestRegisterDigest(t *testing.T) {
	for _, tc := range []struct {
		name       string
		algorithms []string
		want       string
	}{
		{"MD5", nil, "MD5"},
		{"SHA-256", []string{"SHA-256"}, "SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, st := registrar(t, tc.algorithms)
			c, req, res := register(t, addr, "alice")
			if res.StatusCode != 401 {
				t.Fatalf("first REGISTER: want 401, got %d", res.StatusCode)
			}
			h := res.GetHeader("WWW-Authenticate")
			if h == nil || !strings.Contains(h.Value(), "algorithm="+tc.want) || !strings.Contains(h.Value(), `qop="auth"`) {
				t.Fatalf("challenge %v: want algorithm %s with qop=auth", h, tc.want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "alicepw"})
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("answered REGISTER: want 200, got %v %v", res, err)
			}
			a, _ := st.SIPAccountByUsername(ctx, model.DefaultOrgID, "alice")
			if regs, _ := st.Registrations(ctx, a.ID, time.Now()); len(regs) != 1 || regs[0].Transport != "udp" {
				t.Fatalf("want one udp binding stored, got %+v", regs)
			}
			// The same answer again: its nonce is used up, so a replay is challenged afresh.
			req.RemoveHeader("Via")
			req.CSeq().SeqNo++
			res, err = c.Do(ctx, req, sipgo.ClientRequestAddVia)
			if err != nil || res.StatusCode != 401 {
				t.Fatalf("replayed answer: want 401, got %v %v", res, err)
			}
			if h := res.GetHeader("WWW-Authenticate"); h == nil || !strings.Contains(h.Value(), "stale=true") {
				t.Fatalf("replayed answer: want a stale challenge, got %v", h)
			}
		})
	}
}

func TestRegisterRefused(t *testing.T) {
	addr, _ := registrar(t, nil)
	for _, tc := range []struct{ user, password string }{{"alice", "wrong"}, {"bob", "anything"}, {"nobody", "x"}} {
		c, req, res := register(t, addr, tc.user)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: tc.user, Password: tc.password})
		cancel()
		if err != nil || res.StatusCode != 403 {
			t.Errorf("%s/%s: want 403, got %v %v", tc.user, tc.password, res, err)
		}
	}
}

func TestNoncesExpireAndAreSingleUse(t *testing.T) {
	n := newNonces(time.Minute, 3)
	now := time.Now()
	n.now = func() time.Time { return now }
	a := n.issue()
	if !n.take(a) || n.take(a) {
		t.Fatal("a nonce must be usable exactly once")
	}
	b := n.issue()
	now = now.Add(2 * time.Minute)
	if n.take(b) {
		t.Fatal("an expired nonce was accepted")
	}
	for i := 0; i < 10; i++ {
		n.issue()
	}
	if len(n.items) > 3 {
		t.Fatalf("the nonce table grew past its bound: %d", len(n.items))
	}
}

// TestMessageRoutedByVirtualNumber: alice's MESSAGE to carol's virtual
// number is challenged (407), then reaches carol's registered client with
// alice's virtual number as caller ID, and carol's answer comes back.
func TestMessageRoutedByVirtualNumber(t *testing.T) {
	addr, _ := registrar(t, nil)
	// carol's phone: one user agent that registers and receives.
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	phone, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *sip.Request, 1)
	phone.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		got <- req
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	send := func(c *sipgo.Client, req *sip.Request, user string) *sip.Response {
		t.Helper()
		res, err := c.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode == 401 || res.StatusCode == 407 {
			if res, err = c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: user + "pw"}); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	newReq := func(method sip.RequestMethod, ruri, from string) *sip.Request {
		var r, f sip.Uri
		sip.ParseUri(ruri, &r)
		sip.ParseUri(from, &f)
		req := sip.NewRequest(method, r)
		req.SetDestination(addr)
		to := r
		if method == sip.REGISTER {
			to = f
		}
		req.AppendHeader(&sip.ToHeader{Address: to})
		req.AppendHeader(&sip.FromHeader{Address: f, Params: sip.HeaderParams{{K: "tag", V: sip.GenerateTagN(8)}}})
		return req
	}
	reg := newReq(sip.REGISTER, "sip:example.com", "sip:carol@example.com")
	reg.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "carol", Host: "127.0.0.1", Port: 5998}})
	if res := send(cl, reg, "carol"); res.StatusCode != 200 {
		t.Fatalf("carol's REGISTER: %d", res.StatusCode)
	}

	aua, _ := sipgo.NewUA()
	defer aua.Close()
	alice, _ := sipgo.NewClient(aua, sipgo.WithClientHostname("127.0.0.1"))
	msg := newReq(sip.MESSAGE, "sip:1carol@example.com", "sip:alice@example.com")
	msg.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	msg.SetBody([]byte("hello"))
	first, err := alice.Do(ctx, msg)
	if err != nil || first.StatusCode != 407 {
		t.Fatalf("unauthenticated MESSAGE: want 407, got %v %v", first, err)
	}
	res, err := alice.DoDigestAuth(ctx, msg, first, sipgo.DigestAuth{Username: "alice", Password: "alicepw"})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("MESSAGE to carol's number: want carol's 200, got %v %v", res, err)
	}
	select {
	case r := <-got:
		if string(r.Body()) != "hello" || r.From().DisplayName != "1alice" {
			t.Errorf("carol got body %q from %q, want hello from 1alice", r.Body(), r.From().DisplayName)
		}
		if h := r.GetHeader("P-Asserted-Identity"); h == nil || h.Value() != "<sip:1alice@example.com>" {
			t.Errorf("P-Asserted-Identity %v, want <sip:1alice@example.com>", h)
		}
		if r.GetHeader("Proxy-Authorization") != nil {
			t.Error("alice's credentials were passed on to carol")
		}
	case <-ctx.Done():
		t.Fatal("carol's phone never got the MESSAGE")
	}
	// An unknown number and a number without a registration.
	for _, tc := range []struct {
		to   string
		want int
	}{{"sip:999@example.com", 404}, {"sip:1bob@example.com", 480}} {
		m := newReq(sip.MESSAGE, tc.to, "sip:alice@example.com")
		if res := send(alice, m, "alice"); res.StatusCode != tc.want {
			t.Errorf("MESSAGE to %s: want %d, got %d", tc.to, tc.want, res.StatusCode)
		}
	}
}
