package registrar

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// testCall is a call alice made to carol through the proxy, as alice sees
// it, with what carol got.
type testCall struct {
	callID, from, to string        // alice's From (her tag) and To (carol's tag)
	rr               []string      // the Record-Route carol got, in order: the first names carol's flow
	routes           []string      // alice's route set: the 200's Record-Route reversed
	carolTarget      string        // carol's Contact
	invite           *sip.Request  // as carol got it
	answer           *sip.Response // carol's 200 as alice got it
	cseq             int
}

// call makes alice call carol's number with an authenticated INVITE, carol
// answer (claiming to be a bank), and alice ACK; extra headers go in
// alice's INVITE.
func call(t *testing.T, alice, carol *phone, extra ...string) *testCall {
	t.Helper()
	c := &testCall{callID: randHex(8), from: "<sip:alice@example.com>;tag=" + randHex(4), cseq: 2}
	if res := alice.sendAuthed(outgoing{method: "INVITE", ruri: "sip:1carol@example.com", from: c.from, callID: c.callID, extra: extra}); res != nil {
		t.Fatalf("alice's first INVITE: %d, want 407", res.StatusCode)
	}
	inv, proxy := carol.request(2 * time.Second)
	if inv == nil || !inv.IsInvite() {
		t.Fatalf("carol's phone got %v, want alice's INVITE", inv)
	}
	c.invite = inv
	for _, h := range inv.GetHeaders("Record-Route") {
		c.rr = append(c.rr, h.Value())
	}
	if len(c.rr) != 2 {
		t.Fatalf("carol got Record-Route %q, want the proxy's two entries", c.rr)
	}
	carol.answer(inv, proxy, 200, "OK", randHex(4), "P-Asserted-Identity: <sip:bank@example.com>", "Remote-Party-ID: <sip:bank@example.com>;party=called")
	ok := alice.final("INVITE")
	if ok == nil || ok.StatusCode != 200 {
		t.Fatalf("alice's INVITE: %v, want carol's 200", ok)
	}
	c.answer = ok
	c.to = ok.To().Value()
	c.carolTarget = ok.Contact().Address.String()
	rrs := ok.GetHeaders("Record-Route")
	for i := len(rrs) - 1; i >= 0; i-- {
		c.routes = append(c.routes, rrs[i].Value())
	}
	alice.inDialogRequest("ACK", c.carolTarget, c.routes, c.from, c.to, c.callID, c.cseq)
	if ack, _ := carol.request(2 * time.Second); ack == nil || ack.Method != sip.ACK {
		t.Fatalf("carol's phone got %v, want alice's ACK", ack)
	}
	return c
}

// inDialog has alice send method within c; it returns the final response
// and, when carol's phone got the request, answers it with 200 first.
func (c *testCall) inDialog(t *testing.T, alice, carol *phone, method string) (res *sip.Response, reached bool) {
	t.Helper()
	c.cseq++
	alice.inDialogRequest(method, c.carolTarget, c.routes, c.from, c.to, c.callID, c.cseq)
	if req, proxy := carol.request(300 * time.Millisecond); req != nil {
		carol.answer(req, proxy, 200, "OK", "")
		reached = true
	}
	return alice.final(method), reached
}

func status(res *sip.Response) string {
	if res == nil {
		return "no answer"
	}
	return fmt.Sprint(res.StatusCode)
}

// callers starts a registrar with alice and carol registered from phones
// on 127.0.0.1.
func callers(t *testing.T) (r *testRegistrar, alice, carol *phone) {
	t.Helper()
	r = startRegistrar(t, nil)
	alice = newPhone(t, "alice", "127.0.0.1", r.addr)
	carol = newPhone(t, "carol", "127.0.0.1", r.addr)
	for _, p := range []*phone{alice, carol} {
		if code := p.register(p.user + "pw"); code != 200 {
			t.Fatalf("%s's REGISTER: %d, want 200", p.user, code)
		}
	}
	return r, alice, carol
}

// TestFlowTokensCannotForgeCalls: the Record-Route flow token of a real
// call lets nobody without credentials reach the callee: not with a new
// INVITE or MESSAGE under a forged caller ID, not with a request dressed as
// in-dialog, not after the call ended, not after its lifetime.
func TestFlowTokensCannotForgeCalls(t *testing.T) {
	t.Run("without credentials", func(t *testing.T) {
		r, alice, carol := callers(t)
		c := call(t, alice, carol)
		if h := c.invite.GetHeader("P-Asserted-Identity"); h == nil || h.Value() != "<sip:1alice@example.com>" {
			t.Errorf("carol's INVITE has P-Asserted-Identity %v, want alice's number", h)
		}
		carolsFlow := "Route: " + c.rr[0] // the entry whose token names carol's connection
		mallory := newPhone(t, "mallory", "127.0.0.1", r.addr)
		forged := func(method, toTag, callID string) {
			to := "<sip:carol@example.com>"
			if toTag != "" {
				to += ";tag=" + toTag
			}
			mallory.send(method+" "+c.carolTarget+" SIP/2.0", []string{mallory.via(), "Max-Forwards: 70", carolsFlow,
				`From: "Alice" <sip:alice@example.com>;tag=` + randHex(4), "To: " + to, "Call-ID: " + callID,
				"CSeq: 1 " + method, "Contact: <sip:mallory@" + mallory.addr() + ">",
				"P-Asserted-Identity: <sip:1alice@example.com>", "Content-Type: text/plain"}, "forged")
		}
		for _, method := range []string{"INVITE", "MESSAGE"} {
			forged(method, "", randHex(8))
			if res := mallory.final(method); res == nil || res.StatusCode != 407 && res.StatusCode != 403 {
				t.Errorf("a new %s with carol's flow token and no credentials: %s, want 407 or 403", method, status(res))
			}
			carol.nothing("a new "+method+" with carol's flow token and no credentials", 300*time.Millisecond)
		}
		// Dressed as in-dialog: a To-tag, but no dialog the proxy knows.
		for _, tc := range []struct{ what, callID, toTag string }{
			{"another Call-ID", randHex(8), randHex(4)},
			{"the call's Call-ID with a guessed To-tag", c.callID, randHex(4)},
		} {
			forged("MESSAGE", tc.toTag, tc.callID)
			if res := mallory.final("MESSAGE"); res == nil || res.StatusCode != 481 {
				t.Errorf("an in-dialog MESSAGE with carol's flow token, %s: %s, want 481", tc.what, status(res))
			}
			carol.nothing("an in-dialog MESSAGE with carol's flow token, "+tc.what, 300*time.Millisecond)
		}
	})
	t.Run("after the call", func(t *testing.T) {
		_, alice, carol := callers(t)
		c := call(t, alice, carol)
		if res, reached := c.inDialog(t, alice, carol, "INFO"); !reached || res == nil || res.StatusCode != 200 {
			t.Fatalf("alice's INFO in the call: reached carol %v, answer %s; want carol's 200", reached, status(res))
		}
		if res, reached := c.inDialog(t, alice, carol, "BYE"); !reached || res == nil || res.StatusCode != 200 {
			t.Fatalf("alice's BYE: reached carol %v, answer %s; want carol's 200", reached, status(res))
		}
		if res, reached := c.inDialog(t, alice, carol, "INFO"); reached || res == nil || res.StatusCode != 481 {
			t.Errorf("an INFO in the call after its BYE: reached carol %v, answer %s; want 481", reached, status(res))
		}
	})
	t.Run("after its lifetime", func(t *testing.T) {
		r, alice, carol := callers(t)
		c := call(t, alice, carol)
		r.clock.add(dialogLifetime + time.Minute)
		if res, reached := c.inDialog(t, alice, carol, "BYE"); reached || res == nil || res.StatusCode != 481 {
			t.Errorf("a BYE with an expired flow token: reached carol %v, answer %s; want 481", reached, status(res))
		}
	})
}

// TestCallerIDIsTheAccounts: the callee sees the caller ID the proxy
// asserts from the account that authenticated, never one the caller wrote,
// and a caller may not present another domain in its From.
func TestCallerIDIsTheAccounts(t *testing.T) {
	r := startRegistrar(t, nil)
	alice := newPhone(t, "alice", "127.0.0.1", r.addr)
	carol := newPhone(t, "carol", "127.0.0.1", r.addr)
	if code := carol.register("carolpw"); code != 200 {
		t.Fatalf("carol's REGISTER: %d", code)
	}
	forged := []string{
		`Remote-Party-ID: "Bank" <sip:bank@example.com>;party=calling;screen=yes;privacy=off`,
		"P-Preferred-Identity: <sip:bank@example.com>",
		"P-Asserted-Identity: <sip:bank@example.com>",
		"p-asserted-identity: <sip:1carol@example.com>",
		"Content-Type: text/plain",
	}
	check := func(what string, req *sip.Request) {
		t.Helper()
		for _, name := range []string{"Remote-Party-ID", "P-Preferred-Identity"} {
			if h := req.GetHeaders(name); len(h) != 0 {
				t.Errorf("%s: alice's %s reached carol: %v", what, name, h)
			}
		}
		if h := req.GetHeaders("P-Asserted-Identity"); len(h) != 1 || h[0].Value() != "<sip:1alice@example.com>" {
			t.Errorf("%s: carol got P-Asserted-Identity %v, want only <sip:1alice@example.com>", what, h)
		}
		if req.From().DisplayName != "1alice" {
			t.Errorf("%s: carol got From %q, want display name 1alice", what, req.From().Value())
		}
	}
	if res := alice.sendAuthed(outgoing{method: "MESSAGE", ruri: "sip:1carol@example.com", from: `"Bank" <sip:alice@example.com>;tag=` + randHex(4),
		extra: forged, body: "hello"}); res != nil {
		t.Fatalf("alice's MESSAGE: %d, want 407", res.StatusCode)
	}
	msg, proxy := carol.request(2 * time.Second)
	if msg == nil {
		t.Fatal("carol's phone never got alice's MESSAGE")
	}
	check("MESSAGE", msg)
	carol.answer(msg, proxy, 200, "OK", randHex(4))
	if res := alice.final("MESSAGE"); res == nil || res.StatusCode != 200 {
		t.Fatalf("alice's MESSAGE: %s, want 200", status(res))
	}
	c := call(t, alice, carol, forged...)
	check("INVITE", c.invite)
	if h := c.answer.GetHeaders("P-Asserted-Identity"); len(h) != 0 || len(c.answer.GetHeaders("Remote-Party-ID")) != 0 {
		t.Errorf("carol's own identity headers reached alice: %v", h)
	}
	c.inDialog(t, alice, carol, "BYE")

	// alice authenticates, but writes another domain in her From.
	for _, method := range []string{"MESSAGE", "INVITE"} {
		if res := alice.sendAuthed(outgoing{method: method, ruri: "sip:1carol@example.com", from: "<sip:alice@bank.example.net>;tag=" + randHex(4)}); res != nil {
			t.Fatalf("%s from another domain: %d before authentication, want 407", method, res.StatusCode)
		}
		if res := alice.final(method); res == nil || res.StatusCode != 403 {
			t.Errorf("%s from alice@bank.example.net: %s, want 403", method, status(res))
		}
		carol.nothing(method+" from alice@bank.example.net", 300*time.Millisecond)
	}
}

// TestPasswordGuesserBanned: an address that keeps answering digest
// challenges wrongly gets silence for the ban's length, while an account on
// another address keeps registering, and the log stays short.
func TestPasswordGuesserBanned(t *testing.T) {
	r := startRegistrar(t, func(c *Config) { c.BanFailures, c.BanWindow, c.BanTime = 3, time.Minute, 5*time.Minute })
	guesser := newPhone(t, "alice", "127.0.0.2", r.addr)
	legit := newPhone(t, "alice", "127.0.0.1", r.addr)
	for i := range 3 {
		if code := guesser.register(fmt.Sprintf("guess%d", i)); code != 403 {
			t.Fatalf("guess %d: %d, want 403", i, code)
		}
	}
	guesser.wait = 300 * time.Millisecond // how long silence is waited for
	for range 3 {
		if code := guesser.register("alicepw"); code != 0 {
			t.Fatalf("a banned address got an answer (%d), want silence", code)
		}
	}
	if code := legit.register("alicepw"); code != 200 {
		t.Fatalf("alice on 127.0.0.1 during 127.0.0.2's ban: %d, want 200", code)
	}
	if st := r.srv.Stats(); st.AuthFailures != 3 || st.Bans != 1 || st.Registers != 1 {
		t.Errorf("Stats() = %+v, want the 3 failures, the ban and alice's one REGISTER counted (the metrics read them)", st)
	}
	// A minute on, the next dropped request brings one summary line.
	r.clock.add(logEvery)
	if code := guesser.register("alicepw"); code != 0 {
		t.Fatalf("a banned address got an answer (%d), want silence", code)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "dropped=4") {
		t.Errorf("no summary of the 4 requests dropped:\n%s", logs)
	}
	lines := 0
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "127.0.0.2") {
			lines++
		}
	}
	if lines != 3 {
		t.Errorf("%d log lines about 127.0.0.2, want 3: its first failure, its ban and one summary of the requests dropped:\n%s", lines, logs)
	}
	if !strings.Contains(logs, "banned") {
		t.Errorf("the ban is not in the log:\n%s", logs)
	}
	for _, secret := range []string{"guess0", "guess1", "guess2", "response="} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	r.clock.add(5*time.Minute - logEvery + time.Second)
	guesser.wait = 2 * time.Second
	if code := guesser.register("alicepw"); code != 200 {
		t.Fatalf("127.0.0.2 after its ban with the right password: %d, want 200", code)
	}
}
