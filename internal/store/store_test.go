package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

const org = model.DefaultOrgID

// seed makes an organisation, the default profile, a group and one account.
func seed(t *testing.T, s *store.Store) *store.AccountRow {
	t.Helper()
	ctx := context.Background()
	var acc *store.AccountRow
	err := s.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.EnsureOrganisation(ctx, org, "default"); err != nil {
			return err
		}
		p := &model.Profile{Name: "default", IsDefault: true, Settings: model.DefaultProfileSettings()}
		if err := tx.CreateProfile(ctx, org, p); err != nil {
			return err
		}
		g := &store.GroupRow{Group: model.Group{Name: "sales", ITEmail: "it@example.com"}, ProfileID: &p.ID}
		if err := tx.CreateGroup(ctx, org, g); err != nil {
			return err
		}
		acc = &store.AccountRow{OrgID: org, Account: model.Account{
			GroupID: g.ID, Username: "1234567890", DisplayName: "Ada Lovelace", SecurityModel: model.EndToSite,
			VirtualNumber: "100001", Kind: "wizard", Stage: model.StageNew,
		}}
		return tx.CreateAccount(ctx, acc)
	})
	if err != nil {
		t.Fatalf("seeding: %v", err)
	}
	return acc
}

func TestMigrationsAreIdempotentAndRefuseNewerSchema(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.DSN(t)
			s := storetest.Open(t, dsn)
			seed(t, s)
			s.Close()
			s2 := storetest.Open(t, dsn) // second start: nothing to do, data kept
			if _, err := s2.AccountByUsername(ctx, org, "1234567890"); err != nil {
				t.Fatalf("account lost across restart: %v", err)
			}
			if err := s2.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecRaw(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			s2.Close()
			if _, err := store.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer than this activator") {
				t.Fatalf("want a refusal of the newer schema, got %v", err)
			}
		})
	}
}

func TestConflictsNameTheColumn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		err := s.Tx(ctx, func(tx *store.Tx) error {
			dup := *acc
			dup.Username = "999"
			return tx.CreateAccount(ctx, &dup)
		})
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Column != "virtual_number" {
			t.Fatalf("duplicate virtual number: want conflict on virtual_number, got %v", err)
		}
		err = s.Tx(ctx, func(tx *store.Tx) error {
			return tx.CreateGroup(ctx, org, &store.GroupRow{Group: model.Group{Name: "sales"}})
		})
		if !errors.As(err, &ce) || ce.Column != "name" {
			t.Fatalf("duplicate group: want conflict on name, got %v", err)
		}
		err = s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteGroup(ctx, acc.GroupID) })
		if !errors.Is(err, store.ErrInUse) {
			t.Fatalf("deleting a group with accounts: want ErrInUse, got %v", err)
		}
		if _, err := s.AccountByUsername(ctx, org, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown account: want ErrNotFound, got %v", err)
		}
	})
}

func TestAccountFilters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		check := func(f store.AccountFilter, want int) {
			t.Helper()
			got, err := s.Accounts(ctx, org, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != want {
				t.Fatalf("filter %+v: want %d accounts, got %d", f, want, len(got))
			}
		}
		check(store.AccountFilter{}, 1)
		check(store.AccountFilter{GroupID: &acc.GroupID}, 1)
		check(store.AccountFilter{Status: model.StageNew}, 1)
		check(store.AccountFilter{Status: model.StatusDisabled}, 0)
		check(store.AccountFilter{Search: "lovel"}, 1)
		check(store.AccountFilter{Search: "nobody"}, 0)
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SetAccountDisabled(ctx, acc.ID, true) }); err != nil {
			t.Fatal(err)
		}
		check(store.AccountFilter{Status: model.StatusDisabled}, 1)
		check(store.AccountFilter{Status: model.StageNew}, 0)
		// A stage only moves forward.
		err := s.Tx(ctx, func(tx *store.Tx) error {
			if moved, err := tx.AdvanceStage(ctx, acc.ID, model.StageInstalled); err != nil || !moved {
				t.Errorf("advance to installed: moved=%v err=%v", moved, err)
			}
			if moved, err := tx.AdvanceStage(ctx, acc.ID, model.StageOpened); err != nil || moved {
				t.Errorf("back to opened: moved=%v err=%v", moved, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.AccountByID(ctx, acc.ID)
		if got.Stage != model.StageInstalled {
			t.Fatalf("stage: want installed, got %s", got.Stage)
		}
	})
}

func TestRedeemHasOneWinner(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		_, hash := secret.NewToken(secret.PrefixLink)
		inv := &model.Link{AccountID: acc.ID, Kind: model.LinkActivation, Channel: model.ChannelSMS,
			TokenPrefix: "avl_x", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateLink(ctx, inv, hash) }); err != nil {
			t.Fatal(err)
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Tx(ctx, func(tx *store.Tx) error {
					ok, err := tx.RedeemLink(ctx, inv.ID, time.Now())
					if ok {
						mu.Lock()
						wins++
						mu.Unlock()
					}
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("want exactly one redeem, got %d", wins)
		}
		l, err := s.LinkByHash(ctx, hash)
		if err != nil || l.RedeemedAt == nil || l.Username != acc.Username || l.ITEmail != "it@example.com" {
			t.Fatalf("link after redeem: %+v, %v", l, err)
		}
	})
}

func TestQueueClaimsEachMessageOnceAndReclaimsExpiredLeases(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		for range 10 {
			m := &store.MessageRow{OrgID: org, MaxAttempts: 3, Message: model.Message{AccountID: acc.ID, Channel: model.ChannelSMS,
				Kind: model.MessageActivation, Gateway: "outbox", Recipient: "+390000", Body: "hello"}}
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
				t.Fatal(err)
			}
		}
		claim := func(now time.Time) []store.MessageRow {
			var got []store.MessageRow
			if err := s.Tx(ctx, func(tx *store.Tx) (err error) {
				got, err = tx.ClaimMessages(ctx, "a", now, time.Minute, 4)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return got
		}
		seen := map[int64]bool{}
		now := time.Now()
		for range 3 {
			for _, m := range claim(now) {
				if seen[m.ID] {
					t.Fatalf("message %d claimed twice", m.ID)
				}
				if m.State != model.MessageSending || m.Attempts != 1 {
					t.Fatalf("claimed message: state %s attempts %d", m.State, m.Attempts)
				}
				seen[m.ID] = true
			}
		}
		if len(seen) != 10 {
			t.Fatalf("want all 10 claimed, got %d", len(seen))
		}
		if got := claim(now); len(got) != 0 {
			t.Fatalf("nothing is due while leased, got %d", len(got))
		}
		// The sender died: after the lease, the messages come back, attempt counted.
		got := claim(now.Add(2 * time.Minute))
		if len(got) != 4 || got[0].Attempts != 2 {
			t.Fatalf("reclaim after lease: %d messages, attempts %d", len(got), got[0].Attempts)
		}
		id := got[0].ID
		err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.MarkMessageSent(ctx, store.Claim{ID: id, Owner: "a", Attempt: 1}, "outbox-1", time.Now()); !errors.Is(err, store.ErrClaimLost) {
				return fmt.Errorf("the outcome of a lapsed claim was recorded over the claim that took its message over: %v", err)
			}
			it := &model.OutboxItem{MessageID: id, Channel: model.ChannelSMS, Recipient: "+390000", Body: "hello"}
			if err := tx.PutOutbox(ctx, it); err != nil {
				return err
			}
			if err := tx.PutOutbox(ctx, it); err != nil { // redelivery keeps one copy
				return err
			}
			return tx.MarkMessageSent(ctx, got[0].Claim(), "outbox-1", time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		items, _ := s.Outbox(ctx, org, 0)
		if len(items) != 1 {
			t.Fatalf("outbox: want 1 item, got %d", len(items))
		}
		sent, _ := s.Messages(ctx, org, store.MessageFilter{State: model.MessageSent})
		if len(sent) != 1 || sent[0].ProviderID != "outbox-1" {
			t.Fatalf("sent messages: %+v", sent)
		}
	})
}

// TestInstancesStartingTogetherMigrateOnce opens one fresh database from
// several stores at once, as instances started together do: every open
// succeeds and each migration is recorded once. On SQLite the race is run
// several times, on fresh files: the first connections' switch to WAL is
// where it can lose, and it loses only some of the time.
func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		rounds := 1
		if b.Name == "sqlite" {
			rounds = 10
		}
		for round := range rounds {
			t.Run(fmt.Sprintf("%s/%d", b.Name, round), func(t *testing.T) {
				instancesStartTogether(t, b.DSN(t))
			})
		}
	}
}

func instancesStartTogether(t *testing.T, dsn string) {
	ctx := context.Background()
	const instances = 6
	errs := make([]error, instances)
	stores := make([]*store.Store, instances)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = store.Open(ctx, dsn)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		} else {
			defer stores[i].Close()
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	var n int
	err := stores[0].Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecRaw(ctx, `UPDATE schema_migrations SET name = name`)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		n = int(k)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := store.MigrationCount(stores[0].Dialect()); n != want {
		t.Fatalf("schema_migrations has %d rows, want one for each of the %d migrations", n, want)
	}
}
