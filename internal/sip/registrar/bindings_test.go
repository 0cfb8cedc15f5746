package registrar

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// A refresh of a binding written less than a minute ago, unchanged, is
// answered from the stored binding without a write, with what is left of
// its stored expiry; a change, a removal in the database or an older
// binding is written as before.
func TestRegisterRefreshOfAFreshBindingIsAnsweredFromTheStoredOne(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { refreshOfAFreshBinding(t, startRegistrarOn(t, b.DSN(t), nil)) })
	}
}

func refreshOfAFreshBinding(t *testing.T, r *testRegistrar) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, req, res := register(t, r.addr, "alice")
	again := func(agent string) *sip.Response {
		t.Helper()
		req.RemoveHeader("Via")
		req.RemoveHeader("Authorization")
		req.RemoveHeader("User-Agent")
		if agent != "" {
			req.AppendHeader(sip.NewHeader("User-Agent", agent))
		}
		req.CSeq().SeqNo++
		res, err := c.Do(ctx, req, sipgo.ClientRequestAddVia)
		if err != nil || res.StatusCode != 401 {
			t.Fatalf("REGISTER: want 401, got %v %v", res, err)
		}
		return res
	}
	answer := func(res *sip.Response) *sip.Response {
		t.Helper()
		res, err := c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "alicepw"})
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("answered REGISTER: want 200, got %v %v", res, err)
		}
		return res
	}
	stored := func() (updated, expires time.Time, n int) {
		t.Helper()
		a, err := r.st.SIPAccountByUsername(ctx, model.DefaultOrgID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		regs, err := r.st.Registrations(ctx, a.ID, r.clock.now())
		if err != nil || len(regs) == 0 {
			return time.Time{}, time.Time{}, 0
		}
		return regs[0].UpdatedAt, regs[0].ExpiresAt, len(regs)
	}
	contactExpires := func(res *sip.Response) string {
		t.Helper()
		h := res.GetHeader("Contact")
		if h == nil {
			t.Fatal("no Contact in the 200")
		}
		_, v, _ := strings.Cut(h.Value(), "expires=")
		return v
	}

	answer(res)
	t0, e0, n := stored()
	if n != 1 {
		t.Fatalf("first REGISTER: %d bindings stored", n)
	}
	// 10 s later, the same binding: nothing written, the stored expiry told.
	r.clock.add(10 * time.Second)
	ok := answer(again(""))
	if t1, e1, n := stored(); n != 1 || !t1.Equal(t0) || !e1.Equal(e0) {
		t.Fatalf("a refresh within the window wrote the binding: updated %v -> %v, expires %v -> %v", t0, t1, e0, e1)
	}
	if got := contactExpires(ok); got != "3590" {
		t.Fatalf("the refresh's answer: expires=%s, want the stored binding's 3590 s left", got)
	}
	// Another user agent is a change: written.
	r.clock.add(time.Second)
	answer(again("Phone/2"))
	t2, e2, _ := stored()
	if !t2.After(t0) || !e2.After(e0) {
		t.Fatalf("a changed binding was not written: updated %v, expires %v", t2, e2)
	}
	// A binding removed from the database meanwhile is written again.
	if err := r.st.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.DeleteRegistrations(ctx, mustAccount(t, r, "alice"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r.clock.add(time.Second)
	answer(again("Phone/2"))
	if _, _, n := stored(); n != 1 {
		t.Fatalf("a binding removed in the database was not written again: %d bindings", n)
	}
	t3, _, _ := stored()
	// Past the window, the same refresh is written.
	r.clock.add(refreshWindow)
	answer(again("Phone/2"))
	if t4, _, _ := stored(); !t4.After(t3) {
		t.Fatalf("a refresh past the window was not written: updated %v -> %v", t3, t4)
	}
}

func mustAccount(t *testing.T, r *testRegistrar, username string) int64 {
	t.Helper()
	a, err := r.st.SIPAccountByUsername(context.Background(), model.DefaultOrgID, username)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// REGISTERs arriving together are written together (on SQLite in one
// commit, store.SharedCommit; on PostgreSQL one statement each, store.PutBinding):
// each is answered for its own bindings, and each new binding is stored
// with its event.
func TestRegistersArrivingTogetherAreEachStored(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { registersArrivingTogether(t, startRegistrarOn(t, b.DSN(t), nil)) })
	}
}

func registersArrivingTogether(t *testing.T, r *testRegistrar) {
	const each = 12
	var phones []*phone
	for range each {
		for _, u := range []string{"alice", "carol"} {
			p := newPhone(t, u, "127.0.0.1", r.addr)
			p.wait = 10 * time.Second
			phones = append(phones, p)
		}
	}
	codes := make([]int, len(phones))
	var wg sync.WaitGroup
	for i, p := range phones {
		wg.Go(func() { codes[i] = p.register(p.user + "pw") })
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("phone %d (%s): REGISTER answered %d, want 200", i, phones[i].user, c)
		}
	}
	ctx := context.Background()
	for _, u := range []string{"alice", "carol"} {
		id := mustAccount(t, r, u)
		regs, err := r.st.Registrations(ctx, id, r.clock.now())
		if err != nil || len(regs) != each {
			t.Errorf("%s: %d bindings stored (%v), want %d", u, len(regs), err, each)
		}
		events, err := r.st.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Kind == model.EventRegistered {
				n++
			}
		}
		if n != each {
			t.Errorf("%s: %d registered events, want one for each of the %d bindings", u, n, each)
		}
	}
}
