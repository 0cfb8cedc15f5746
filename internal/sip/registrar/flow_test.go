package registrar

import (
	"strconv"
	"testing"
	"time"
)

// fuzzKey and fuzzNow make the tokens of FuzzFlowToken's seed corpus
// (testdata/fuzz/FuzzFlowToken) valid ones.
var (
	fuzzKey    = []byte("activator-fuzz-flow-key-32-bytes")
	fuzzNow    = time.Unix(1_800_000_000, 0)
	fuzzDialog = dialogKey{callID: "a84b4c76e66710@198.51.100.7", tag: "1928301774"}
	fuzzFlow   = flow{transport: "udp", source: "127.0.0.1:5999"}
)

// FuzzFlowToken: whatever a client writes in the user part of a Route,
// reading it never panics; a token has one spelling only; and it routes a
// request only when this process made it for that very dialog (Call-ID and
// caller's tag) and its lifetime has not ended.
func FuzzFlowToken(f *testing.F) {
	s := &Server{flowKey: fuzzKey}
	good := s.newFlowToken(fuzzFlow, fuzzNow.Add(time.Hour), fuzzDialog)
	f.Add(good, fuzzDialog.callID, fuzzDialog.tag)
	f.Add(good, fuzzDialog.callID, "other-tag")
	f.Add(good, "another-call@198.51.100.7", fuzzDialog.tag)
	f.Add(s.newFlowToken(flow{"tls", "[2001:db8::7]:50123"}, fuzzNow.Add(-time.Second), fuzzDialog), fuzzDialog.callID, fuzzDialog.tag)
	f.Add("f-", "", "")
	f.Fuzz(func(t *testing.T, user, callID, tag string) {
		tok, ok := parseFlowToken(user)
		if !ok {
			return
		}
		raw := tok.transport + "|" + tok.source + "|" + strconv.FormatInt(tok.expires, 10)
		if again := flowPrefix + flowEncoding.EncodeToString([]byte(raw)) + "." + flowEncoding.EncodeToString(tok.mac); again != user {
			t.Errorf("token %q reads as %+v, which is spelt %q", user, tok, again)
		}
		d := dialogKey{callID: callID, tag: tag}
		if s.verify(tok, d, fuzzNow) && (d != fuzzDialog || user != good) {
			t.Errorf("token %q routes a request of dialog %+v", user, d)
		}
		if s.verify(tok, d, time.Unix(tok.expires, 0)) {
			t.Errorf("token %q routes after its expiry", user)
		}
	})
}

func TestFlowTokenBoundToItsDialog(t *testing.T) {
	s := &Server{flowKey: fuzzKey}
	exp := fuzzNow.Add(dialogLifetime)
	for _, f := range []flow{fuzzFlow, {"tcp", "192.0.2.1:40000"}, {"tls", "[2001:db8::1]:5061"}} {
		tok, ok := parseFlowToken(s.newFlowToken(f, exp, fuzzDialog))
		if !ok || tok.flow != f || tok.expires != exp.Unix() {
			t.Fatalf("the token of %+v reads back as %+v, %v", f, tok, ok)
		}
		if !s.verify(tok, fuzzDialog, fuzzNow) {
			t.Errorf("the token of %+v does not verify in its dialog", f)
		}
		if s.verify(tok, dialogKey{fuzzDialog.callID, "x"}, fuzzNow) || s.verify(tok, dialogKey{"x", fuzzDialog.tag}, fuzzNow) {
			t.Errorf("the token of %+v verifies in another dialog", f)
		}
		if s.verify(tok, fuzzDialog, exp) {
			t.Errorf("the token of %+v verifies at its expiry", f)
		}
		other := &Server{flowKey: []byte("another process's key, 32 bytes")}
		if other.verify(tok, fuzzDialog, fuzzNow) {
			t.Errorf("the token of %+v verifies under another key", f)
		}
	}
}

func TestDialogTableBounds(t *testing.T) {
	now := fuzzNow
	tb := newDialogs(func() time.Time { return now })
	caller, callee := flow{"udp", "127.0.0.1:1"}, flow{"udp", "127.0.0.1:2"}
	k := dialogKey{"c1", "t1"}
	d, err := tb.open(k, caller, callee, 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.open(k, caller, callee, 7); err != errDialogExists {
		t.Fatalf("the same Call-ID and tag again: %v, want errDialogExists", err)
	}
	tb.response(k, d, 180, "early")
	if _, _, _, ok := tb.find("c1", "t1", "early"); !ok {
		t.Error("a request of the early dialog is not found")
	}
	tb.response(k, d, 200, "callee")
	if _, _, to, ok := tb.find("c1", "t1", "callee"); !ok || to != callee {
		t.Errorf("the caller's request goes to %+v, %v; want the callee", to, ok)
	}
	if _, _, to, ok := tb.find("c1", "callee", "t1"); !ok || to != caller {
		t.Errorf("the callee's request goes to %+v, %v; want the caller", to, ok)
	}
	if _, _, _, ok := tb.find("c1", "t1", "early"); ok {
		t.Error("the early tag still matches once a 2xx chose another")
	}
	tb.abandon(k, d)
	if tb.len() != 1 {
		t.Error("abandon removed an answered call")
	}
	for i := 1; i < maxDialogsPerAccount; i++ {
		if _, err := tb.open(dialogKey{"c" + strconv.Itoa(i+1), "t"}, caller, callee, 7); err != nil {
			t.Fatalf("call %d of one account: %v", i+1, err)
		}
	}
	if _, err := tb.open(dialogKey{"one-more", "t"}, caller, callee, 7); err != errAccountDialogs {
		t.Fatalf("one call past the account's share: %v, want errAccountDialogs", err)
	}
	if _, err := tb.open(dialogKey{"another-account", "t"}, caller, callee, 8); err != nil {
		t.Fatalf("another account's call: %v", err)
	}
	tb.close(k, d)
	if _, _, _, ok := tb.find("c1", "t1", "callee"); ok {
		t.Error("a closed call is still found")
	}
	now = now.Add(dialogLifetime)
	if _, _, _, ok := tb.find("c2", "t", ""); ok {
		t.Error("a request without a To-tag found a call")
	}
	tb.sweep()
	if n := tb.len(); n != 0 {
		t.Errorf("%d calls left after their lifetime", n)
	}
	if _, err := tb.open(dialogKey{"one-more", "t"}, caller, callee, 7); err != nil {
		t.Errorf("after the sweep the account may call again: %v", err)
	}
}

func TestBans(t *testing.T) {
	now := fuzzNow
	b := newBans(3, time.Minute, 10*time.Minute, func() time.Time { return now })
	for _, tc := range []struct{ source, key string }{
		{"127.0.0.2:5060", "127.0.0.2"},
		{"[2001:db8:1:2:3:4:5:6]:5060", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:1", "2001:db8:1:2::/64"},
	} {
		if got := banKey(tc.source); got != tc.key {
			t.Errorf("banKey(%q) = %q, want %q", tc.source, got, tc.key)
		}
	}
	// Failures further apart than the window do not add up.
	b.fail("a")
	b.fail("a")
	now = now.Add(time.Minute)
	if _, until, _ := b.fail("a"); !until.IsZero() {
		t.Fatal("failures of two windows banned the address")
	}
	b.fail("a")
	if _, until, logIt := b.fail("a"); until.IsZero() || !logIt {
		t.Fatal("three failures in a window did not ban the address")
	}
	if drop, _ := b.check("a"); !drop {
		t.Error("a banned address is not dropped")
	}
	if drop, _ := b.check("b"); drop {
		t.Error("another address is dropped")
	}
	now = now.Add(10 * time.Minute)
	if drop, r := b.check("a"); drop || r == nil || !r.ended || r.dropped != 1 {
		t.Errorf("after the ban: drop %v, report %+v; want no drop and the ban's end with 1 request dropped", drop, r)
	}
	off := newBans(-1, time.Minute, time.Minute, func() time.Time { return now })
	for range 10 {
		off.fail("a")
	}
	if drop, _ := off.check("a"); drop {
		t.Error("bans switched off, and still an address was banned")
	}
}
