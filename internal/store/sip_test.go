package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestSIPRegistrations: bindings are replaced per contact, listed only while
// live, removed one by one, all at once, when expired and with their account.
func TestSIPRegistrations(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		a, err := s.SIPAccountByUsername(ctx, model.DefaultOrgID, acc.Username)
		if err != nil || a.Enabled || a.VirtualNumber != "100001" {
			t.Fatalf("new account: want found, not enabled, number 100001; got %+v, %v", a, err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.ActivateAccount(ctx, acc.ID, []byte("sealed"), "md5hash", "sha256hash", "example.com", now)
		}); err != nil {
			t.Fatal(err)
		}
		if a, err = s.SIPAccountByNumber(ctx, org, "100001"); err != nil || !a.Enabled || a.HA1MD5 != "md5hash" || a.HA1SHA256 != "sha256hash" {
			t.Fatalf("activated account by number: %+v, %v", a, err)
		}
		if _, err := s.SIPAccountByNumber(ctx, org, "999"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown number: want ErrNotFound, got %v", err)
		}
		put := func(contact string, expires time.Time, source string) bool {
			t.Helper()
			var created bool
			err := s.Tx(ctx, func(tx *store.Tx) error {
				var err error
				created, err = tx.PutRegistration(ctx, &model.Registration{AccountID: acc.ID, Contact: contact, Transport: "tls",
					Source: source, UserAgent: "ua", UpdatedAt: now, ExpiresAt: expires})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return created
		}
		if !put("sip:a@1.2.3.4:5", now.Add(time.Hour), "1.2.3.4:5") {
			t.Fatal("first binding: want created")
		}
		if put("sip:a@1.2.3.4:5", now.Add(2*time.Hour), "1.2.3.4:6") {
			t.Fatal("refresh of the same contact: want an update, not a new binding")
		}
		put("sip:a@5.6.7.8:9", now.Add(-time.Second), "5.6.7.8:9") // already expired
		regs, err := s.Registrations(ctx, acc.ID, now)
		if err != nil || len(regs) != 1 || regs[0].Source != "1.2.3.4:6" || !regs[0].ExpiresAt.Equal(now.Add(2*time.Hour)) || regs[0].Username != acc.Username {
			t.Fatalf("live bindings: want the refreshed one only, got %+v, %v", regs, err)
		}
		// A REGISTER reads the account and the same live bindings at once.
		put("sip:a@9.9.9.9:9", now.Add(3*time.Hour), "9.9.9.9:9")
		regs, _ = s.Registrations(ctx, acc.ID, now)
		ra, rregs, err := s.SIPAccountRegistering(ctx, model.DefaultOrgID, acc.Username, now)
		if err != nil || ra.ID != acc.ID || !ra.Enabled || ra.HA1MD5 != "md5hash" || ra.HA1SHA256 != "sha256hash" || ra.VirtualNumber != "100001" {
			t.Fatalf("registering account: %+v, %v", ra, err)
		}
		if len(regs) != 2 || !reflect.DeepEqual(rregs, regs) {
			t.Fatalf("registering account's bindings: want %+v (as Registrations lists them), got %+v", regs, rregs)
		}
		if _, _, err := s.SIPAccountRegistering(ctx, model.DefaultOrgID, "nobody", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("registering an unknown username: want ErrNotFound, got %v", err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.DeleteRegistration(ctx, acc.ID, "sip:a@9.9.9.9:9")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			n, err := tx.DeleteExpiredRegistrations(ctx, now)
			if n != 1 {
				t.Errorf("expired: want 1 removed, got %d", n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			gone, err := tx.DeleteRegistration(ctx, acc.ID, "sip:a@1.2.3.4:5")
			if !gone {
				t.Error("unregister: want the binding gone")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		put("sip:a@1.2.3.4:5", now.Add(time.Hour), "x:1")
		put("sip:b@1.2.3.4:5", now.Add(time.Hour), "x:2")
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			n, err := tx.DeleteRegistrations(ctx, acc.ID)
			if n != 2 {
				t.Errorf("remove all: want 2, got %d", n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if ra, rregs, err := s.SIPAccountRegistering(ctx, model.DefaultOrgID, acc.Username, now); err != nil || ra.ID != acc.ID || rregs == nil || len(rregs) != 0 {
			t.Fatalf("registering account with no binding: want it with an empty list, got %+v, %+v, %v", ra, rregs, err)
		}
		put("sip:c@1.2.3.4:5", now.Add(time.Hour), "x:3")
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteAccount(ctx, acc.ID) }); err != nil {
			t.Fatalf("deleting an account with a binding: %v", err)
		}
		if regs, _ := s.Registrations(ctx, acc.ID, now); len(regs) != 0 {
			t.Fatalf("bindings outlived their account: %+v", regs)
		}
	})
}

// TestLinphoneDeviceFetchWindow: the first fetch must come in its window;
// once fetched, the URL keeps working after the window closes.
func TestLinphoneDeviceFetchWindow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		now := time.Now().UTC().Truncate(time.Millisecond)
		var early, late *model.Device
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			for i, d := range []**model.Device{&early, &late} {
				*d = &model.Device{AccountID: acc.ID, DeviceID: "lp", Platform: "android", CredentialPrefix: "avd_x", CreatedAt: now}
				if err := tx.CreateDevice(ctx, *d, []byte{byte(i), 1, 2}); err != nil {
					return err
				}
				if err := tx.CreateLinphoneDevice(ctx, (*d).ID, now.Add(time.Minute)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		fetch := func(id int64, at time.Time) error {
			return s.Tx(ctx, func(tx *store.Tx) error { return tx.FetchLinphoneDevice(ctx, id, at) })
		}
		if err := fetch(early.ID, now.Add(30*time.Second)); err != nil {
			t.Fatalf("first fetch in the window: %v", err)
		}
		if err := fetch(early.ID, now.Add(time.Hour)); err != nil {
			t.Fatalf("re-provisioning after the window: %v", err)
		}
		if err := fetch(late.ID, now.Add(2*time.Minute)); !errors.Is(err, store.ErrFetchWindowClosed) {
			t.Fatalf("first fetch after the window: want ErrFetchWindowClosed, got %v", err)
		}
		d, err := s.LinphoneDeviceByID(ctx, early.ID)
		if err != nil || d.FirstFetchedAt == nil || !d.FirstFetchedAt.Equal(now.Add(30*time.Second)) {
			t.Fatalf("first fetch time kept: %+v, %v", d, err)
		}
		if _, err := s.LinphoneDeviceByID(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown device: %v", err)
		}
	})
}

// TestPutRegistrationConcurrent: REGISTERs of the same contact arriving at
// once (a phone retrying, two instances sharing one PostgreSQL database)
// all succeed, exactly one of them creates the binding, and one row is
// left. An UPDATE followed by an INSERT failed here on PostgreSQL: both
// transactions found nothing to update and the second INSERT broke the
// unique (account_id, contact).
func TestPutRegistrationConcurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		const rounds, writers = 20, 8
		now := time.Now().UTC().Truncate(time.Millisecond)
		for round := range rounds {
			contact := fmt.Sprintf("sip:a@10.0.0.%d:5060", round)
			start := make(chan struct{})
			var (
				wg      sync.WaitGroup
				created atomic.Int32
				errs    = make(chan error, writers)
			)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs <- s.Tx(ctx, func(tx *store.Tx) error {
						c, err := tx.PutRegistration(ctx, &model.Registration{AccountID: acc.ID, Contact: contact, Transport: "udp",
							Source: fmt.Sprintf("10.0.0.%d:%d", round, 5060+w), UpdatedAt: now, ExpiresAt: now.Add(time.Hour)})
						if c {
							created.Add(1)
						}
						return err
					})
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("round %d: a concurrent REGISTER failed: %v", round, err)
				}
			}
			if n := created.Load(); n != 1 {
				t.Fatalf("round %d: %d of %d writers report the binding created, want exactly 1", round, n, writers)
			}
		}
		regs, err := s.Registrations(ctx, acc.ID, now)
		if err != nil || len(regs) != rounds {
			t.Fatalf("bindings: want %d (one per contact), got %d, %v", rounds, len(regs), err)
		}
	})
}

// TestPutBinding: a REGISTER's one binding is stored with its registered
// event when it is new, and the answer is the account's live bindings
// after it, as Registrations lists them.
func TestPutBinding(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		now := time.Now().UTC().Truncate(time.Millisecond)
		registered := func() int {
			t.Helper()
			evs, err := s.Events(ctx, acc.ID)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range evs {
				if e.Kind == model.EventRegistered {
					n++
					if e.Detail["contact"] == "" || e.Detail["source"] == "" {
						t.Errorf("registered event without its contact and source: %+v", e.Detail)
					}
				}
			}
			return n
		}
		put := func(contact, source string, at time.Time) (bool, []model.Registration) {
			t.Helper()
			reg := &model.Registration{AccountID: acc.ID, Username: acc.Username, Contact: contact, Transport: "udp", Source: source,
				UserAgent: "ua", UpdatedAt: at, ExpiresAt: at.Add(time.Hour)}
			created, live, err := s.PutBinding(ctx, store.Binding{OrgID: org, Registration: reg,
				Detail: map[string]string{"contact": contact, "source": source}})
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.Registrations(ctx, acc.ID, at)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(live, want) {
				t.Fatalf("live bindings after %s: got %+v, want %+v", contact, live, want)
			}
			if reg.ID == 0 || reg.ID != want[indexOf(want, contact)].ID {
				t.Fatalf("the stored binding's id: %d, want %+v", reg.ID, want)
			}
			return created, live
		}
		if created, live := put("sip:a@1.2.3.4:5", "1.2.3.4:5", now); !created || len(live) != 1 || registered() != 1 {
			t.Fatalf("first binding: created %v, %d live, %d events", created, len(live), registered())
		}
		if created, live := put("sip:a@1.2.3.4:5", "1.2.3.4:6", now.Add(time.Second)); created || len(live) != 1 || live[0].Source != "1.2.3.4:6" || registered() != 1 {
			t.Fatalf("refresh: created %v, live %+v, %d events", created, live, registered())
		}
		if created, live := put("sip:b@1.2.3.4:7", "1.2.3.4:7", now.Add(2*time.Second)); !created || len(live) != 2 || live[0].Contact != "sip:b@1.2.3.4:7" || registered() != 2 {
			t.Fatalf("second contact: created %v, live %+v, %d events", created, live, registered())
		}
	})
}

func indexOf(regs []model.Registration, contact string) int {
	for i, r := range regs {
		if r.Contact == contact {
			return i
		}
	}
	return 0
}
