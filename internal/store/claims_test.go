package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func queueMessages(t *testing.T, s *store.Store, acc int64, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for range n {
		m := &store.MessageRow{OrgID: org, MaxAttempts: 3, Message: model.Message{AccountID: acc, Channel: model.ChannelSMS,
			Kind: model.MessageActivation, Gateway: "outbox", Recipient: "+390000", Body: "hello"}}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	return ids
}

func claimAs(t *testing.T, s *store.Store, owner string, now time.Time, lease time.Duration, limit int) []store.MessageRow {
	t.Helper()
	ctx := context.Background()
	var got []store.MessageRow
	if err := s.Tx(ctx, func(tx *store.Tx) (err error) {
		got, err = tx.ClaimMessages(ctx, owner, now, lease, limit)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func message(t *testing.T, s *store.Store, id int64) *store.MessageRow {
	t.Helper()
	m, err := s.MessageByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// An instance that starts again takes back at once the messages it was
// sending when it stopped (it cannot be sending them any more), and
// leaves alone those another instance is sending.
func TestRestartedInstanceReleasesOnlyItsOwnClaims(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		queueMessages(t, s, acc.ID, 3)
		now := time.Now()
		mine := claimAs(t, s, "host-a", now, time.Hour, 2)
		theirs := claimAs(t, s, "host-b", now, time.Hour, 1)
		if len(mine) != 2 || len(theirs) != 1 || mine[0].ClaimedBy != "host-a" || mine[0].LockedUntil == nil {
			t.Fatalf("claims: %d for a, %d for b, %+v", len(mine), len(theirs), mine)
		}
		var n int64
		if err := s.Tx(ctx, func(tx *store.Tx) (err error) { n, err = tx.ReleaseStaleClaims(ctx, "host-a"); return err }); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("released %d of host-a's 2 claims", n)
		}
		for _, c := range mine {
			m := message(t, s, c.ID)
			// The send may have reached the provider before the stop: the attempt stays counted.
			if m.State != model.MessageQueued || m.Attempts != 1 || m.LockedUntil != nil || m.ClaimedBy != "" || m.NextAttemptAt.After(time.Now()) {
				t.Fatalf("a released stale claim: %+v, locked until %v, claimed by %q", m.Message, m.LockedUntil, m.ClaimedBy)
			}
		}
		if m := message(t, s, theirs[0].ID); m.State != model.MessageSending || m.ClaimedBy != "host-b" {
			t.Fatalf("another instance's live claim was touched: %s by %q", m.State, m.ClaimedBy)
		}
		// Due at once: the next claim takes them, and not b's.
		again := claimAs(t, s, "host-a", time.Now(), time.Hour, 10)
		if len(again) != 2 || again[0].Attempts != 2 {
			t.Fatalf("claimed again: %+v", again)
		}
	})
}

// A lease renewed by its claim holds; a claim that lapsed and was taken
// over can neither renew nor record; a hand-back puts the message back as
// it was before the claim.
func TestClaimsFenceTheirWrites(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		ids := queueMessages(t, s, acc.ID, 2)
		now := time.Now()
		first := claimAs(t, s, "a", now, time.Minute, 1)[0]
		tx := func(fn func(tx *store.Tx) error) error { return s.Tx(ctx, fn) }

		// Renewed past what the claim set, so a claim at the old expiry finds nothing.
		if err := tx(func(tx *store.Tx) error { return tx.RenewLease(ctx, first.Claim(), now.Add(10*time.Minute)) }); err != nil {
			t.Fatal(err)
		}
		if m := message(t, s, first.ID); m.LockedUntil == nil || !m.LockedUntil.After(now.Add(9*time.Minute)) {
			t.Fatalf("renewed lease: %v", m.LockedUntil)
		}
		if got := claimAs(t, s, "b", now.Add(2*time.Minute), time.Minute, 10); len(got) != 1 || got[0].ID != ids[1] {
			t.Fatalf("after a renewal only the other message is due: %+v", got)
		}
		// The lease lapses; b takes the message over; a's writes are refused.
		taken := claimAs(t, s, "b", now.Add(11*time.Minute), time.Minute, 10)
		if len(taken) != 2 {
			t.Fatalf("after the lease: %d claimed", len(taken))
		}
		for name, write := range map[string]func(tx *store.Tx) error{
			"renew":  func(tx *store.Tx) error { return tx.RenewLease(ctx, first.Claim(), now.Add(time.Hour)) },
			"sent":   func(tx *store.Tx) error { return tx.MarkMessageSent(ctx, first.Claim(), "late", now) },
			"retry":  func(tx *store.Tx) error { return tx.MarkMessageRetry(ctx, first.Claim(), "late", now) },
			"failed": func(tx *store.Tx) error { return tx.MarkMessageFailed(ctx, first.Claim(), "late") },
			"back":   func(tx *store.Tx) error { return tx.ReleaseMessage(ctx, first.Claim()) },
		} {
			if err := tx(write); !errors.Is(err, store.ErrClaimLost) {
				t.Errorf("%s by a lapsed claim: %v", name, err)
			}
		}
		if m := message(t, s, first.ID); m.State != model.MessageSending || m.ClaimedBy != "b" || m.Attempts != 2 || m.ProviderID != "" {
			t.Fatalf("the claim that took over: %+v by %q", m.Message, m.ClaimedBy)
		}

		// Recording "sent" again, as a worker does when it cannot tell
		// whether its first write committed, is harmless.
		var byB store.MessageRow
		for _, m := range taken {
			if m.ID == first.ID {
				byB = m
			}
		}
		for range 2 {
			if err := tx(func(tx *store.Tx) error { return tx.MarkMessageSent(ctx, byB.Claim(), "SM1", now) }); err != nil {
				t.Fatalf("recording sent twice: %v", err)
			}
		}
		if m := message(t, s, first.ID); m.State != model.MessageSent || m.ProviderID != "SM1" || m.LockedUntil != nil {
			t.Fatalf("sent: %+v, locked until %v", m.Message, m.LockedUntil)
		}

		// Handed back: queued, the attempt not counted, no lease, no claimer.
		other := taken[0]
		if other.ID == first.ID {
			other = taken[1]
		}
		if err := tx(func(tx *store.Tx) error { return tx.ReleaseMessage(ctx, other.Claim()) }); err != nil {
			t.Fatal(err)
		}
		if m := message(t, s, other.ID); m.State != model.MessageQueued || m.Attempts != other.Attempts-1 || m.LockedUntil != nil || m.ClaimedBy != "" {
			t.Fatalf("handed back: %+v, locked until %v, claimed by %q", m.Message, m.LockedUntil, m.ClaimedBy)
		}
	})
}

// NextMessageDue is the earliest of the queued messages' next attempts
// and the leases of the messages being sent.
func TestNextMessageDue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		due := func() (time.Time, bool) {
			t.Helper()
			at, ok, err := s.NextMessageDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return at, ok
		}
		if _, ok := due(); ok {
			t.Fatal("an empty queue has nothing due")
		}
		ids := queueMessages(t, s, acc.ID, 2)
		now := time.Now().Truncate(time.Millisecond)
		claimAs(t, s, "a", now, time.Hour, 2)
		if at, ok := due(); !ok || !at.Equal(now.Add(time.Hour)) {
			t.Fatalf("two messages being sent: due %v %v, want their lease %v", at, ok, now.Add(time.Hour))
		}
		err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.MarkMessageRetry(ctx, store.Claim{ID: ids[0], Owner: "a", Attempt: 1}, "busy", now.Add(10*time.Minute))
		})
		if err != nil {
			t.Fatal(err)
		}
		if at, ok := due(); !ok || !at.Equal(now.Add(10*time.Minute)) {
			t.Fatalf("a retry in 10 minutes: due %v %v", at, ok)
		}
		err = s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.MarkMessageSent(ctx, store.Claim{ID: ids[1], Owner: "a", Attempt: 1}, "SM1", now); err != nil {
				return err
			}
			return tx.MarkMessageFailed(ctx, store.Claim{ID: ids[0], Owner: "a", Attempt: 1}, "gone")
		})
		if err != nil {
			t.Fatal(err)
		}
		if at, ok := due(); ok {
			t.Fatalf("sent and failed messages are never due: %v", at)
		}
	})
}

// On PostgreSQL a message queued, put back for a retry or handed back is
// announced when its transaction commits, once per transaction; a claim, a
// lease renewal and a recorded outcome are not, and neither is what a
// transaction that rolls back did.
func TestQueueChangesAreAnnounced(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l, err := s.ListenMessages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.SQLite {
			if l != nil {
				t.Fatal("SQLite has one process: nothing to listen to")
			}
			return
		}
		defer l.Close()
		heard := func() bool {
			t.Helper()
			wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			err := l.Wait(wctx)
			if err != nil && wctx.Err() == nil {
				t.Fatal(err)
			}
			return err == nil
		}
		acc := seed(t, s)
		enqueueTwo := func(tx *store.Tx) error {
			for range 2 {
				m := &store.MessageRow{OrgID: org, MaxAttempts: 3, Message: model.Message{AccountID: acc.ID, Channel: model.ChannelSMS,
					Kind: model.MessageActivation, Gateway: "outbox", Recipient: "+390000", Body: "hello"}}
				if err := tx.EnqueueMessage(ctx, m); err != nil {
					return err
				}
			}
			return nil
		}
		rollback := errors.New("rolled back")
		if err := s.Tx(ctx, func(tx *store.Tx) error { enqueueTwo(tx); return rollback }); err != rollback {
			t.Fatal(err)
		}
		if heard() {
			t.Fatal("a rolled-back enqueue was announced")
		}
		if err := s.Tx(ctx, enqueueTwo); err != nil {
			t.Fatal(err)
		}
		if !heard() {
			t.Fatal("two messages queued: not announced")
		}
		if heard() {
			t.Fatal("a second notification for the same transaction")
		}
		got := claimAs(t, s, "host-a", time.Now(), time.Minute, 2)
		err = s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.RenewLease(ctx, got[0].Claim(), time.Now().Add(time.Hour)); err != nil {
				return err
			}
			return tx.MarkMessageSent(ctx, got[0].Claim(), "SM1", time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		if heard() {
			t.Fatal("a claim, a renewal or a recorded send was announced")
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.ReleaseMessage(ctx, got[1].Claim()) }); err != nil {
			t.Fatal(err)
		}
		if !heard() {
			t.Fatal("a message handed back: not announced")
		}
		got = claimAs(t, s, "host-a", time.Now(), time.Minute, 1)
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.MarkMessageRetry(ctx, got[0].Claim(), "busy", time.Now().Add(time.Minute))
		}); err != nil {
			t.Fatal(err)
		}
		if !heard() {
			t.Fatal("a retry put back in the queue: not announced")
		}
	})
}

// A claim returns each message's sealed text with it, so its send reads
// nothing more; a message written without one comes with none.
func TestClaimReturnsTheSealedText(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		ids := queueMessages(t, s, acc.ID, 2)
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SealMessageText(ctx, ids[0], []byte("sealed-0")) }); err != nil {
			t.Fatal(err)
		}
		got := claimAs(t, s, "a", time.Now(), time.Minute, 2)
		if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] {
			t.Fatalf("claimed %+v", got)
		}
		if string(got[0].SealedText) != "sealed-0" || got[1].SealedText != nil {
			t.Fatalf("sealed texts claimed: %q and %q", got[0].SealedText, got[1].SealedText)
		}
	})
}

// MarkMessagesSent records many sends in one statement as
// MarkMessageSent records each: the sealed text dropped, the lease
// cleared, a receipt that came first kept; a send whose claim was lost
// is left alone and named.
func TestMarkMessagesSentRecordsEachSendOfItsClaim(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		ids := queueMessages(t, s, acc.ID, 4)
		for _, id := range ids {
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SealMessageText(ctx, id, []byte("sealed")) }); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().Truncate(time.Millisecond)
		got := claimAs(t, s, "a", now, time.Minute, 4)
		if len(got) != 4 {
			t.Fatalf("claimed %d", len(got))
		}
		// The third message's receipt came before its send was recorded;
		// the fourth was taken over by another claim.
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.MarkMessageDelivered(ctx, got[2].ID, "delivered", now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		stale := got[3].Claim()
		stale.Attempt--
		sent := []store.SentMessage{
			{Claim: got[0].Claim(), ProviderID: "P0", At: now},
			{Claim: got[1].Claim(), ProviderID: "P1", At: now.Add(time.Millisecond)},
			{Claim: got[2].Claim(), ProviderID: "P2", At: now},
			{Claim: stale, ProviderID: "P3", At: now},
		}
		var lost map[int64]bool
		if err := s.Tx(ctx, func(tx *store.Tx) (err error) { lost, err = tx.MarkMessagesSent(ctx, sent); return err }); err != nil {
			t.Fatal(err)
		}
		if len(lost) != 1 || !lost[got[3].ID] {
			t.Fatalf("lost claims: %v, want only %d", lost, got[3].ID)
		}
		for i, want := range []string{model.MessageSent, model.MessageSent, model.MessageDelivered, model.MessageSending} {
			m := message(t, s, got[i].ID)
			sealed, err := s.MessageSealedText(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if m.State != want {
				t.Errorf("message %d: %s, want %s", i, m.State, want)
			}
			if i == 3 {
				if m.ProviderID != "" || m.LockedUntil == nil || sealed == nil {
					t.Errorf("the send of a lost claim was recorded: %+v, locked until %v", m.Message, m.LockedUntil)
				}
				continue
			}
			if m.ProviderID != sent[i].ProviderID || m.SentAt == nil || !m.SentAt.Equal(sent[i].At) || m.LockedUntil != nil || sealed != nil {
				t.Errorf("message %d recorded as %+v, locked until %v, sealed %q", i, m.Message, m.LockedUntil, sealed)
			}
		}
		// Again, as after a commit whose answer was lost: harmless.
		if err := s.Tx(ctx, func(tx *store.Tx) (err error) { lost, err = tx.MarkMessagesSent(ctx, sent[:2]); return err }); err != nil || len(lost) != 0 {
			t.Fatalf("recorded again: lost %v, %v", lost, err)
		}
	})
}

// AddEvents writes each event as AddEvent would, all in one statement.
func TestAddEventsWritesEveryEvent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		before, err := s.Events(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		evs := []store.NewEvent{
			{OrgID: org, AccountID: acc.ID, Kind: model.EventMessageSent, Detail: map[string]string{"provider_id": "P1", "message_id": "1"}},
			{OrgID: org, AccountID: acc.ID, Kind: model.EventMessageFailed, Actor: "worker", Detail: map[string]string{"error": `a "quoted" error`}},
			{OrgID: org, AccountID: acc.ID, Kind: model.EventMessageSent},
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.AddEvents(ctx, evs) }); err != nil {
			t.Fatal(err)
		}
		got, err := s.Events(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = got[len(before):]
		if len(got) != 3 {
			t.Fatalf("%d events written, want 3", len(got))
		}
		if got[0].Kind != model.EventMessageSent || got[0].Detail["provider_id"] != "P1" || got[0].Detail["message_id"] != "1" || got[0].At.IsZero() {
			t.Errorf("first event: %+v", got[0])
		}
		if got[1].Kind != model.EventMessageFailed || got[1].Actor != "worker" || got[1].Detail["error"] != `a "quoted" error` {
			t.Errorf("second event: %+v", got[1])
		}
		if got[2].Kind != model.EventMessageSent || len(got[2].Detail) != 0 {
			t.Errorf("third event: %+v", got[2])
		}
	})
}

// On PostgreSQL the claim finds the rows it updates by their primary key
// even in the generic plan of its prepared statement, which cannot know
// how many it claims: as a join, that plan read the whole table to claim
// a few.
func TestClaimPlanReadsNoWholeTable(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		if s.Dialect() != store.Postgres {
			t.Skip("SQLite plans each statement once, knowing nothing of its arguments either way")
		}
		ctx := context.Background()
		acc := seed(t, s)
		queueMessages(t, s, acc.ID, 200)
		if err := s.Tx(ctx, func(tx *store.Tx) error { _, err := tx.ExecRaw(ctx, "ANALYZE messages"); return err }); err != nil {
			t.Fatal(err)
		}
		plan, err := store.GenericPlan(ctx, s, store.ClaimQuery(s), "text, bigint, bigint, text, bigint, text")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan, "Join") || !strings.Contains(plan, "Index Scan using messages_pkey on messages") {
			t.Fatalf("the claim's generic plan:\n%s", plan)
		}
	})
}
