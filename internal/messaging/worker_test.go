package messaging_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/outbox"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// scripted is a gateway whose answers the test dictates, per recipient:
// a list of errors to return in turn, then success.
type scripted struct {
	mu     sync.Mutex
	script map[string][]error
	calls  map[string]int
	at     map[string][]time.Time // when each send to a recipient began
	// hold makes the first send to a recipient block until its channel
	// closes (or the send's context ends).
	hold map[string]chan struct{}
}

func newScripted(script map[string][]error, hold ...string) *scripted {
	g := &scripted{script: script, calls: map[string]int{}, at: map[string][]time.Time{}, hold: map[string]chan struct{}{}}
	if g.script == nil {
		g.script = map[string][]error{}
	}
	for _, r := range hold {
		g.hold[r] = make(chan struct{})
	}
	return g
}

func (g *scripted) Name() string { return "scripted" }

func (g *scripted) Send(ctx context.Context, m *model.Message) (string, error) {
	g.mu.Lock()
	g.calls[m.Recipient]++
	g.at[m.Recipient] = append(g.at[m.Recipient], time.Now())
	n := g.calls[m.Recipient]
	var err error
	if s := g.script[m.Recipient]; n <= len(s) {
		err = s[n-1]
	}
	release, block := g.hold[m.Recipient]
	block = block && n == 1
	g.mu.Unlock()
	if block {
		select {
		case <-release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if err != nil {
		return "", err
	}
	return "id-" + m.Recipient, nil
}

// sends is how many times the gateway was asked to send to recipient.
func (g *scripted) sends(recipient string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[recipient]
}

// run starts w until the test ends; stop ends it sooner and waits for it.
func run(t *testing.T, w *messaging.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func enqueue(t *testing.T, st *store.Store, account int64, gateway, recipient string, maxAttempts int) int64 {
	t.Helper()
	m := &store.MessageRow{OrgID: model.DefaultOrgID, MaxAttempts: maxAttempts, Message: model.Message{AccountID: account,
		Channel: model.ChannelSMS, Kind: model.MessageActivation, Gateway: gateway, Recipient: recipient, Body: "hello " + recipient}}
	if err := st.Tx(context.Background(), func(tx *store.Tx) error { return tx.EnqueueMessage(context.Background(), m) }); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func waitState(t *testing.T, st *store.Store, id int64, state string) *store.MessageRow {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := st.MessageByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.State == state {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d: want state %s, still %s after %d attempts (%s)", id, state, m.State, m.Attempts, m.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWorkerRetriesTemporaryFailuresAndFailsPermanentOnes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		gw := newScripted(map[string][]error{
			"flaky":     {errors.New("connection reset"), messaging.Temporary(errors.New("429 slow down"), 0)},
			"bad":       {messaging.Permanent(errors.New("invalid destination number"))},
			"hopeless":  {errors.New("down"), errors.New("down"), errors.New("down"), errors.New("down")},
			"retryafer": {messaging.Temporary(errors.New("throttled"), 300*time.Millisecond)},
		})
		reg := messaging.NewRegistry(nil, gw, outbox.New(st, testBox(t)))
		w := messaging.NewWorker(st, reg, messaging.WorkerConfig{PollInterval: 20 * time.Millisecond, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		flaky := enqueue(t, st, acc, "scripted", "flaky", 5)
		bad := enqueue(t, st, acc, "scripted", "bad", 5)
		hopeless := enqueue(t, st, acc, "scripted", "hopeless", 3)
		ra := enqueue(t, st, acc, "scripted", "retryafer", 5)
		missing := enqueue(t, st, acc, "nowhere", "x", 5)
		kept := enqueue(t, st, acc, "outbox", "+390001", 5)
		w.Notify()

		if m := waitState(t, st, flaky, model.MessageSent); m.Attempts != 3 || m.ProviderID != "id-flaky" {
			t.Errorf("flaky: sent after %d attempts, provider id %q", m.Attempts, m.ProviderID)
		}
		if m := waitState(t, st, bad, model.MessageFailed); m.Attempts != 1 || m.LastError != "invalid destination number" {
			t.Errorf("permanent failure: %d attempts, error %q", m.Attempts, m.LastError)
		}
		if m := waitState(t, st, hopeless, model.MessageFailed); m.Attempts != 3 || m.LastError != "down" {
			t.Errorf("max attempts: %d attempts, error %q", m.Attempts, m.LastError)
		}
		waitState(t, st, ra, model.MessageSent)
		// The retry is due 300 ms after the failure was recorded, which is
		// after the first send began; the database keeps milliseconds, so
		// the due time may be up to one earlier than the clock's.
		gw.mu.Lock()
		at := gw.at["retryafer"]
		gw.mu.Unlock()
		if len(at) != 2 {
			t.Errorf("Retry-After: want 2 sends, got %d", len(at))
		} else if gap := at[1].Sub(at[0]); gap < 299*time.Millisecond {
			t.Errorf("Retry-After of 300ms not honoured: sent again %v after the first try", gap)
		}
		if m := waitState(t, st, missing, model.MessageFailed); m.LastError == "" {
			t.Error("a message for an unknown gateway must fail with a reason")
		}
		waitState(t, st, kept, model.MessageSent)
		items, _ := st.Outbox(context.Background(), model.DefaultOrgID, 0)
		if len(items) != 1 || items[0].Body != "hello +390001" {
			t.Errorf("outbox: %+v", items)
		}
		events, _ := st.Events(context.Background(), acc)
		sent, failed := 0, 0
		for _, e := range events {
			switch e.Kind {
			case model.EventMessageSent:
				sent++
			case model.EventMessageFailed:
				failed++
			}
		}
		if sent != 3 || failed != 3 {
			t.Errorf("timeline: %d sent, %d failed events; want 3 and 3", sent, failed)
		}
	})
}

// claimAs claims every due message for instance owner, as a worker of
// that instance would, with the given lease.
func claimAs(t *testing.T, st *store.Store, owner string, lease time.Duration) []store.MessageRow {
	t.Helper()
	var got []store.MessageRow
	err := st.Tx(context.Background(), func(tx *store.Tx) (err error) {
		got, err = tx.ClaimMessages(context.Background(), owner, time.Now(), lease, 100)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestWorkerPicksUpWhatADeadInstanceLeft: a message claimed by an
// instance that died mid-send stays leased; once the lease runs out
// another instance's worker delivers it.
func TestWorkerPicksUpWhatADeadInstanceLeft(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		id := enqueue(t, st, acc, "scripted", "orphan", 5)
		if got := claimAs(t, st, "dead", 300*time.Millisecond); len(got) != 1 {
			t.Fatalf("claimed %d", len(got))
		}
		gw := newScripted(nil)
		cfg := messaging.WorkerConfig{Instance: "alive", PollInterval: 20 * time.Millisecond}
		run(t, messaging.NewWorker(st, messaging.NewRegistry(nil, gw), cfg, slog.New(slog.DiscardHandler)))
		m := waitState(t, st, id, model.MessageSent)
		if m.Attempts != 2 || gw.sends("orphan") != 1 {
			t.Fatalf("redelivered after the lease: want 2 attempts and 1 send, got %d and %d", m.Attempts, gw.sends("orphan"))
		}
	})
}

// TestRestartedWorkerTakesBackItsOwnClaimsAtOnce: an instance that
// starts again sends at once the messages it was sending when it died,
// without waiting out their lease, and leaves another live instance's
// claim alone.
func TestRestartedWorkerTakesBackItsOwnClaimsAtOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		mine := enqueue(t, st, acc, "scripted", "mine", 5)
		if got := claimAs(t, st, "host-a", time.Hour); len(got) != 1 { // host-a dies with its message claimed
			t.Fatalf("claimed %d", len(got))
		}
		theirs := enqueue(t, st, acc, "scripted", "theirs", 5)
		if got := claimAs(t, st, "host-b", time.Hour); len(got) != 1 { // host-b is alive, sending its message
			t.Fatalf("claimed %d", len(got))
		}
		gw := newScripted(nil)
		cfg := messaging.WorkerConfig{Instance: "host-a", Lease: time.Hour, PollInterval: 20 * time.Millisecond}
		run(t, messaging.NewWorker(st, messaging.NewRegistry(nil, gw), cfg, slog.New(slog.DiscardHandler)))
		if m := waitState(t, st, mine, model.MessageSent); m.Attempts != 2 {
			t.Errorf("the restarted instance's own message: %d attempts, want 2 (the one cut by the death counts)", m.Attempts)
		}
		m, err := st.MessageByID(context.Background(), theirs)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != model.MessageSending || m.ClaimedBy != "host-b" || gw.sends("theirs") != 0 {
			t.Errorf("another instance's live claim: %s by %q, %d sends", m.State, m.ClaimedBy, gw.sends("theirs"))
		}
	})
}

// TestWorkerDrainsOnStop: a stop claims nothing more, lets the sends in
// flight finish within the grace period and records them; a send still
// running when the grace period ends is cut short and its message handed
// back: queued, its attempt not counted, its lease cleared. Nothing is
// left claimed.
func TestWorkerDrainsOnStop(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		gw := newScripted(nil, "finishing", "stuck")
		cfg := messaging.WorkerConfig{Instance: "a", Concurrency: 2, PollInterval: 20 * time.Millisecond, Grace: 500 * time.Millisecond}
		w := messaging.NewWorker(st, messaging.NewRegistry(nil, gw), cfg, slog.New(slog.DiscardHandler))
		finishing := enqueue(t, st, acc, "scripted", "finishing", 5)
		stuck := enqueue(t, st, acc, "scripted", "stuck", 5)
		waiting := enqueue(t, st, acc, "scripted", "waiting", 5)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		defer func() { stop(); <-done }()
		waitFor(t, "both sends to start", func() bool { return gw.sends("finishing") == 1 && gw.sends("stuck") == 1 })

		stop()                      // SIGTERM
		close(gw.hold["finishing"]) // its provider answers after the stop, within the grace period
		<-done

		if m := waitState(t, st, finishing, model.MessageSent); m.Attempts != 1 || m.ProviderID != "id-finishing" {
			t.Errorf("the send that finished in the grace period: %+v", m.Message)
		}
		for name, id := range map[string]int64{"stuck": stuck, "waiting": waiting} {
			m, err := st.MessageByID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if m.State != model.MessageQueued || m.Attempts != 0 || m.LockedUntil != nil || m.ClaimedBy != "" {
				t.Errorf("%s after the stop: %s, %d attempts, locked until %v, claimed by %q; want queued as it was", name, m.State, m.Attempts, m.LockedUntil, m.ClaimedBy)
			}
		}
		if n := gw.sends("waiting"); n != 0 {
			t.Errorf("a message was claimed after the stop: %d sends", n)
		}
	})
}

// TestWorkerRenewsTheLeaseOfASlowSend: a send that takes many times the
// lease keeps its message, because the lease is renewed while it runs; a
// second instance watching the queue does not send the message too.
func TestWorkerRenewsTheLeaseOfASlowSend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		gw := newScripted(nil, "slow")
		reg := messaging.NewRegistry(nil, gw)
		// The lease is renewed every third of it; a lease of a few
		// hundred milliseconds let a renewal stalled behind other writes
		// on a loaded machine (the race detector, other packages' tests)
		// run out, which is the machine's doing, not the worker's. Two
		// seconds leave a renewal more than a second to be late.
		const lease = 2 * time.Second
		for _, name := range []string{"a", "b"} {
			cfg := messaging.WorkerConfig{Instance: name, PollInterval: 20 * time.Millisecond, Lease: lease}
			run(t, messaging.NewWorker(st, reg, cfg, slog.New(slog.DiscardHandler)))
		}
		id := enqueue(t, st, acc, "scripted", "slow", 5)
		waitFor(t, "the send to start", func() bool { return gw.sends("slow") == 1 })
		time.Sleep(3 * lease) // the lease as claimed has long run out
		if n := gw.sends("slow"); n != 1 {
			t.Fatalf("a message whose send is still running was sent %d times", n)
		}
		close(gw.hold["slow"])
		if m := waitState(t, st, id, model.MessageSent); m.Attempts != 1 {
			t.Fatalf("sent after %d attempts, want 1", m.Attempts)
		}
		if n := gw.sends("slow"); n != 1 {
			t.Fatalf("sent %d times", n)
		}
	})
}

// failSentWrites makes the database refuse, while on, every write that
// marks a message sent, as a full disk or a database gone away would: a
// trigger of the test's own. Other writes (claims, lease renewals) go on.
func failSentWrites(t *testing.T, st *store.Store) (set func(on bool)) {
	t.Helper()
	ctx := context.Background()
	ddl := []string{`CREATE TABLE test_faults (on_sent INTEGER NOT NULL)`, `INSERT INTO test_faults VALUES (0)`}
	if st.Dialect() == store.Postgres {
		ddl = append(ddl, `CREATE FUNCTION test_fail_sent() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF (SELECT on_sent FROM test_faults) = 1 THEN RAISE EXCEPTION 'could not extend file: No space left on device (test)'; END IF;
				RETURN NEW;
			END $$`,
			`CREATE TRIGGER test_fail_sent BEFORE UPDATE ON messages FOR EACH ROW WHEN (NEW.state = 'sent') EXECUTE FUNCTION test_fail_sent()`)
	} else {
		ddl = append(ddl, `CREATE TRIGGER test_fail_sent BEFORE UPDATE ON messages FOR EACH ROW
			WHEN NEW.state = 'sent' AND (SELECT on_sent FROM test_faults) = 1
			BEGIN SELECT RAISE(ABORT, 'database or disk is full (test)'); END`)
	}
	err := st.Tx(ctx, func(tx *store.Tx) error {
		for _, q := range ddl {
			if _, err := tx.ExecRaw(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return func(on bool) {
		v := 0
		if on {
			v = 1
		}
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecRaw(ctx, `UPDATE test_faults SET on_sent = $1`, v)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func sum(ws []*messaging.Worker, f func(messaging.Stats) uint64) uint64 {
	var n uint64
	for _, w := range ws {
		n += f(w.Stats())
	}
	return n
}

// TestWorkerRetriesTheRecordOfASend: when the database refuses to record
// a send, the worker tries again, keeping the message's lease meanwhile,
// so a second instance does not send it again and, once the database
// takes the write, the message is sent once and recorded once.
func TestWorkerRetriesTheRecordOfASend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		fault := failSentWrites(t, st)
		gw := newScripted(nil, "x")
		reg := messaging.NewRegistry(nil, gw)
		const lease = 2 * time.Second
		var workers []*messaging.Worker
		for _, name := range []string{"a", "b"} {
			cfg := messaging.WorkerConfig{Instance: name, PollInterval: 20 * time.Millisecond, Lease: lease}
			w := messaging.NewWorker(st, reg, cfg, slog.New(slog.DiscardHandler))
			workers = append(workers, w)
			run(t, w)
		}
		fault(true)
		id := enqueue(t, st, acc, "scripted", "x", 5)
		waitFor(t, "the send to start", func() bool { return gw.sends("x") == 1 })
		claimed, err := st.MessageByID(context.Background(), id)
		if err != nil || claimed.LockedUntil == nil {
			t.Fatalf("claimed message: %+v %v", claimed, err)
		}
		time.Sleep(lease / 2)
		close(gw.hold["x"]) // the provider takes the message; recording it fails
		waitFor(t, "the record to be retried", func() bool { return sum(workers, func(s messaging.Stats) uint64 { return s.WriteRetries }) >= 2 })
		// The database stays away past the lease the message was claimed
		// with; the lease is renewed meanwhile.
		waitFor(t, "the lease as claimed to run out", func() bool { return time.Now().After(claimed.LockedUntil.Add(100 * time.Millisecond)) })
		if m, _ := st.MessageByID(context.Background(), id); m.State != model.MessageSending || m.LockedUntil == nil || !m.LockedUntil.After(time.Now()) {
			t.Fatalf("while its record is retried the message must stay leased: %s until %v", m.State, m.LockedUntil)
		}
		fault(false)
		m := waitState(t, st, id, model.MessageSent)
		if n := gw.sends("x"); n != 1 || m.Attempts != 1 || m.ProviderID != "id-x" {
			t.Fatalf("sent %d times, %d attempts, provider id %q; want once", n, m.Attempts, m.ProviderID)
		}
		if d := sum(workers, func(s messaging.Stats) uint64 { return s.Duplicates }); d != 0 {
			t.Fatalf("%d duplicates counted for a message sent once", d)
		}
		waitFor(t, "the send to be counted", func() bool { return sum(workers, func(s messaging.Stats) uint64 { return s.Sent }) == 1 })
	})
}

// warnings collects the messages of the WARN records a logger writes.
type warnings struct {
	mu  sync.Mutex
	got []string
}

func (h *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *warnings) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, r.Message)
	return nil
}
func (h *warnings) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *warnings) WithGroup(string) slog.Handler      { return h }

func (h *warnings) count(substr string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.got {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

// TestWorkerCountsTheDuplicatesItCannotAvoid: when the send cannot be
// recorded within the lease, the worker gives it up and the message is
// sent again; each such duplicate is counted, and logged once as a warning.
func TestWorkerCountsTheDuplicatesItCannotAvoid(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		fault := failSentWrites(t, st)
		gw := newScripted(nil)
		logs := &warnings{}
		cfg := messaging.WorkerConfig{Instance: "a", PollInterval: 20 * time.Millisecond, Lease: 400 * time.Millisecond}
		w := messaging.NewWorker(st, messaging.NewRegistry(nil, gw), cfg, slog.New(logs))
		run(t, w)
		fault(true)
		id := enqueue(t, st, acc, "scripted", "y", 5)
		waitFor(t, "the record to be given up", func() bool { return w.Stats().Duplicates >= 1 })
		fault(false)
		m := waitState(t, st, id, model.MessageSent)
		// The worker counts a send once its record has committed, so the
		// row can say sent a moment before the count does.
		waitFor(t, "the send to be counted", func() bool { return w.Stats().Sent >= 1 })
		stats := w.Stats()
		if n := gw.sends("y"); uint64(n) != 1+stats.Duplicates || m.Attempts != n {
			t.Fatalf("%d sends, %d attempts, %d duplicates counted: every send past the first must be counted", n, m.Attempts, stats.Duplicates)
		}
		if stats.WriteRetries == 0 || stats.Sent != 1 {
			t.Fatalf("stats: %+v", stats)
		}
		if n := logs.count("could not be recorded"); uint64(n) != stats.Duplicates {
			t.Fatalf("%d warnings for %d duplicates: %q", n, stats.Duplicates, logs.got)
		}
	})
}

// sleepClock stands in for the clock of a worker's sleeps between rounds:
// each sleep the worker asks for comes out of asks, and the worker wakes
// when the test sends on fire (or something else wakes it).
type sleepClock struct {
	asks chan time.Duration
	fire chan time.Time
	quit chan struct{}
}

func fakeSleeps(t *testing.T, w *messaging.Worker) *sleepClock {
	c := &sleepClock{asks: make(chan time.Duration), fire: make(chan time.Time, 1), quit: make(chan struct{})}
	messaging.SetSleepClock(w, func(d time.Duration) <-chan time.Time {
		select {
		case c.asks <- d:
		case <-c.quit:
		}
		return c.fire
	})
	return c
}

// wake ends the worker's current sleep, unless a wake-up is already pending.
func (c *sleepClock) wake() {
	select {
	case c.fire <- time.Now():
	default:
	}
}

// TestWorkerSleepsWhenIdle: an idle worker runs one claim query per
// safety poll (30s), not one a second; with a retry due in five minutes
// it sleeps until then; a message queued wakes it at once.
func TestWorkerSleepsWhenIdle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		gw := newScripted(map[string][]error{"later": {messaging.Temporary(errors.New("throttled"), 5*time.Minute)}})
		w := messaging.NewWorker(st, messaging.NewRegistry(nil, gw), messaging.WorkerConfig{Instance: "a"}, slog.New(slog.DiscardHandler))
		clock := fakeSleeps(t, w)
		run(t, w)
		t.Cleanup(func() { close(clock.quit) }) // before the worker stops

		// Ten minutes of idle time: twenty safety polls.
		asked := 0
		for polls := 0; polls < 20; {
			d := <-clock.asks
			asked++
			if d != 30*time.Second {
				t.Fatalf("sleep %d of an idle worker: %v, want the 30s safety poll", asked, d)
			}
			polls++
			clock.wake()
		}
		<-clock.asks // asleep again
		asked++
		// One claim query a round (a round woken by something else than
		// the clock may have begun since the last sleep).
		if n := w.Stats().Claims; n < uint64(asked) || n > uint64(asked)+1 || n > 23 {
			t.Fatalf("%d claim queries for %d rounds over ten idle minutes; want one a round, about 21 (not 600)", n, asked)
		}

		// A message queued wakes it; its retry in five minutes is the next thing due.
		id := enqueue(t, st, acc, "scripted", "later", 5)
		w.Notify()
		for {
			d := <-clock.asks
			if d > 30*time.Second {
				t.Fatalf("slept %v: never longer than the safety poll", d)
			}
			m, err := st.MessageByID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			clock.wake()
			if m.State == model.MessageQueued && m.Attempts == 1 {
				break
			}
		}
		// The retry is recorded: the worker sleeps until it is due, or
		// until the safety poll, whichever comes first. (A round woken
		// before the record, by the send's end or the database's
		// notification, may still sleep on what it read then.)
		for round := 0; ; round++ {
			d := <-clock.asks
			if d == 30*time.Second {
				break
			}
			if round == 3 {
				t.Fatalf("a retry due in 5 minutes, the safety poll in 30s: slept %v", d)
			}
			clock.wake()
		}
		if gw.sends("later") != 1 {
			t.Fatalf("%d sends", gw.sends("later"))
		}
	})
}

// TestWorkerSleepsUntilTheNextMessageIsDue: with a safety poll longer than
// the wait, the worker sleeps exactly until the next retry is due.
func TestWorkerSleepsUntilTheNextMessageIsDue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		id := enqueue(t, st, acc, "scripted", "later", 5)
		due := time.Now().Add(5 * time.Minute)
		err := st.Tx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.ExecRaw(context.Background(), `UPDATE messages SET next_attempt_at = $1 WHERE id = $2`, due.UnixMilli(), id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg := messaging.WorkerConfig{Instance: "a", PollInterval: time.Hour}
		w := messaging.NewWorker(st, messaging.NewRegistry(nil, newScripted(nil)), cfg, slog.New(slog.DiscardHandler))
		clock := fakeSleeps(t, w)
		run(t, w)
		t.Cleanup(func() { close(clock.quit) })
		d := <-clock.asks
		if want := time.Until(due); d > want+time.Second || d < want-time.Second {
			t.Fatalf("a message due in 5 minutes, the safety poll in an hour: slept %v", d)
		}
	})
}

// TestWorkerHearsAnotherInstancesQueue: on PostgreSQL a message queued by
// another instance (whose doorbell this worker cannot hear) wakes the
// worker through the database's notification, long before its safety
// poll, also after the listening connection was lost.
func TestWorkerHearsAnotherInstancesQueue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		if st.Dialect() != store.Postgres {
			t.Skip("SQLite has one process: its worker is woken in process")
		}
		acc := messaging.SeedAccount(t, st)
		w := messaging.NewWorker(st, messaging.NewRegistry(nil, newScripted(nil)), messaging.WorkerConfig{Instance: "a"}, slog.New(slog.DiscardHandler))
		clock := fakeSleeps(t, w) // its safety poll never fires
		go func() {
			for {
				select {
				case <-clock.asks:
				case <-clock.quit:
					return
				}
			}
		}()
		run(t, w)
		t.Cleanup(func() { close(clock.quit) })
		time.Sleep(200 * time.Millisecond) // listening
		id := enqueue(t, st, acc, "scripted", "elsewhere", 5)
		waitState(t, st, id, model.MessageSent)

		// The listening connection dies (a database restart, a proxy's
		// idle timeout): the worker listens again, and misses nothing.
		var killed int64
		err := st.Tx(context.Background(), func(tx *store.Tx) error {
			res, err := tx.ExecRaw(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`)
			if err == nil {
				killed, err = res.RowsAffected()
			}
			return err
		})
		if err != nil || killed != 1 {
			t.Fatalf("ending the listening connection: %d ended, %v", killed, err)
		}
		id = enqueue(t, st, acc, "scripted", "after the reconnection", 5)
		waitState(t, st, id, model.MessageSent)
	})
}

// TestWorkerWakesWhenADeadInstancesLeaseRunsOut: a message another
// instance claimed and never finished is due when its lease runs out, and
// the worker sleeps until exactly then, not until its safety poll. On
// PostgreSQL it learns of such a claim from the notification of the
// message's queueing, even when the claim commits with it.
func TestWorkerWakesWhenADeadInstancesLeaseRunsOut(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		ctx := context.Background()
		enqueueClaimed := func(recipient string, lease time.Duration) time.Time {
			t.Helper()
			var until time.Time
			err := st.Tx(ctx, func(tx *store.Tx) error {
				m := &store.MessageRow{OrgID: model.DefaultOrgID, MaxAttempts: 5, Message: model.Message{AccountID: acc,
					Channel: model.ChannelSMS, Kind: model.MessageActivation, Gateway: "scripted", Recipient: recipient, Body: "hello"}}
				if err := tx.EnqueueMessage(ctx, m); err != nil {
					return err
				}
				got, err := tx.ClaimMessages(ctx, "dead", time.Now(), lease, 1)
				if err == nil && len(got) == 1 {
					until = *got[0].LockedUntil
				}
				return err
			})
			if err != nil || until.IsZero() {
				t.Fatalf("queueing and claiming as a dead instance: %v", err)
			}
			return until
		}
		first := enqueueClaimed("first", 2*time.Minute)
		gw := newScripted(nil)
		w := messaging.NewWorker(st, messaging.NewRegistry(nil, gw), messaging.WorkerConfig{Instance: "alive", PollInterval: time.Hour}, slog.New(slog.DiscardHandler))
		clock := fakeSleeps(t, w)
		run(t, w)
		t.Cleanup(func() { close(clock.quit) })
		near := func(d time.Duration, at time.Time) bool {
			want := time.Until(at)
			return d > want-5*time.Second && d <= want+time.Second
		}
		if d := <-clock.asks; !near(d, first) {
			t.Fatalf("a dead instance's lease runs out in %v, the safety poll in an hour: slept %v", time.Until(first), d)
		}
		if st.Dialect() == store.Postgres {
			// The worker's clock never fires: only the notification wakes it.
			// (A round woken when the listener connected may come first.)
			second := enqueueClaimed("second", time.Minute)
			for round := 0; ; round++ {
				d := <-clock.asks
				if near(d, second) {
					break
				}
				if round == 2 || !near(d, first) {
					t.Fatalf("woken by the notification, the next due is the second claim's lease, in %v: slept %v", time.Until(second), d)
				}
			}
		}
		go func() { // from here on, the worker sleeps as it likes
			for {
				select {
				case <-clock.asks:
				case <-clock.quit:
					return
				}
			}
		}()
		// The lease runs out (the test moves the rows' leases into the past).
		err := st.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecRaw(ctx, `UPDATE messages SET locked_until = $1 WHERE claimed_by = 'dead'`, time.Now().Add(-time.Second).UnixMilli())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		clock.wake()
		waitFor(t, "the dead instance's message to be sent", func() bool { return gw.sends("first") == 1 })
	})
}

// infoLog keeps the INFO and higher records a logger writes, with their
// attributes.
type infoLog struct {
	mu  sync.Mutex
	got []slog.Record
}

func (h *infoLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *infoLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, r.Clone())
	return nil
}
func (h *infoLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *infoLog) WithGroup(string) slog.Handler      { return h }

// A busy queue logs a summary of its sends, not a line for each: each
// send is logged at debug level only, each failure as it happens.
func TestWorkerSumsUpItsSendsAndLogsEachFailure(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		acc := messaging.SeedAccount(t, st)
		gw := newScripted(map[string][]error{"bad": {messaging.Permanent(errors.New("invalid destination number"))}})
		logs := &infoLog{}
		w := messaging.NewWorker(st, messaging.NewRegistry(nil, gw), messaging.WorkerConfig{PollInterval: 20 * time.Millisecond}, slog.New(logs))
		stop := run(t, w)
		var ids []int64
		for _, r := range []string{"a", "b", "c", "d"} {
			ids = append(ids, enqueue(t, st, acc, "scripted", r, 3))
		}
		bad := enqueue(t, st, acc, "scripted", "bad", 3)
		w.Notify()
		for _, id := range ids {
			waitState(t, st, id, model.MessageSent)
		}
		waitState(t, st, bad, model.MessageFailed)
		stop()

		logs.mu.Lock()
		defer logs.mu.Unlock()
		var (
			sent, failed int
			summed       uint64
		)
		for _, r := range logs.got {
			switch r.Message {
			case "message sent":
				sent++
			case "message failed":
				failed++
			case "messages delivered":
				r.Attrs(func(a slog.Attr) bool {
					if a.Key == "sent" {
						summed += a.Value.Uint64()
					}
					return true
				})
			}
		}
		if sent != 0 || failed != 1 || summed != 4 {
			t.Fatalf("logged %d sends and %d failures at info level or above, and summed up %d sends; want 0, 1 and 4", sent, failed, summed)
		}
	})
}
