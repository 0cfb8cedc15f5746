package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func TestRedeemDeviceMakesEveryWriteOfAnActivation(t *testing.T) {
	// Within a transaction of its own and in the shared commit (SharedTx),
	// as a redeem makes it.
	for _, shared := range []bool{false, true} {
		name := "tx"
		if shared {
			name = "shared"
		}
		t.Run(name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, s *store.Store) { testRedeemDevice(t, s, shared) })
		})
	}
}

func testRedeemDevice(t *testing.T, s *store.Store, shared bool) {
	{
		ctx := context.Background()
		acc := seed(t, s)
		now := time.Now().UTC().Truncate(time.Millisecond)
		link := func() (*model.Link, []byte) {
			_, hash := secret.NewToken(secret.PrefixLink)
			l := &model.Link{AccountID: acc.ID, Kind: model.LinkActivation, Channel: model.ChannelSMS,
				TokenPrefix: "avl_x", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateLink(ctx, l, hash) }); err != nil {
				t.Fatal(err)
			}
			return l, hash
		}
		first, firstHash := link()
		// Read in one query as apart.
		rd, err := s.LinkAndProfileByHash(ctx, firstHash)
		wantL, _ := s.LinkByHash(ctx, firstHash)
		wantA, _ := s.AccountByID(ctx, acc.ID)
		wantP, wantSource, _ := s.EffectiveProfileOf(ctx, acc.ID)
		if err != nil || !reflect.DeepEqual(rd.Link, wantL) || !reflect.DeepEqual(rd.Account, wantA) ||
			!reflect.DeepEqual(rd.Profile, wantP) || rd.ProfileSource != wantSource {
			t.Fatalf("link, account and profile in one query: %v\n%+v\nwant\n%+v\n%+v\n%+v %q", err, rd, wantL, wantA, wantP, wantSource)
		}
		if _, err := s.LinkAndProfileByHash(ctx, []byte("no such hash")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an unknown link: %v", err)
		}
		_, otherHash := link()
		old := &model.Device{AccountID: acc.ID, DeviceID: "old", Platform: "ios", CreatedAt: now}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateDevice(ctx, old, []byte("old-credential")) }); err != nil {
			t.Fatal(err)
		}
		redeem := func(l *model.Link, deviceID string) (*model.Device, int, error) {
			dev := &model.Device{AccountID: acc.ID, DeviceID: deviceID, Platform: "android", Model: `Pixel "8" <b>&`,
				AppVersion: "1.0", CredentialPrefix: "avd_" + deviceID, CreatedAt: now}
			w := store.DeviceRedeem{LinkID: l.ID, AccountID: acc.ID, OrgID: acc.OrgID,
				SealedPassword: []byte("sealed"), HA1MD5: "md5", HA1SHA256: "sha", Device: dev,
				CredentialHash: []byte(fmt.Sprintf("credential-%s-%d", deviceID, l.ID)), At: now}
			var revoked int
			fn := func(ctx context.Context, tx *store.Tx) (err error) {
				revoked, err = tx.RedeemDevice(ctx, w)
				return err
			}
			if shared {
				return dev, revoked, s.SharedTx(ctx, fn)
			}
			err := s.Tx(ctx, func(tx *store.Tx) error { return fn(ctx, tx) })
			return dev, revoked, err
		}

		dev, revoked, err := redeem(first, "new")
		if err != nil || revoked != 1 || dev.ID == 0 {
			t.Fatalf("redeem: device %d, %d revoked, %v", dev.ID, revoked, err)
		}
		a, _ := s.AccountByID(ctx, acc.ID)
		if a.Stage != model.StageActivated || string(a.SIPPassword) != "sealed" || a.HA1MD5 != "md5" || a.HA1SHA256 != "sha" || a.ActivatedAt == nil {
			t.Fatalf("account after redeem: %+v", a)
		}
		devs, _ := s.Devices(ctx, acc.ID)
		for _, d := range devs {
			if live := d.RevokedAt == nil; live != (d.ID == dev.ID) {
				t.Fatalf("device %s live %v after the redeem", d.DeviceID, live)
			}
		}
		if l, _ := s.LinkByHash(ctx, otherHash); l.RevokedAt == nil {
			t.Fatal("the account's other live link was left live")
		}
		links, _ := s.Links(ctx, acc.ID)
		for _, l := range links {
			if l.ID == first.ID && (l.RedeemedAt == nil || l.RevokedAt != nil) {
				t.Fatalf("the redeemed link: %+v", l)
			}
		}
		events, _ := s.Events(ctx, acc.ID)
		want := map[string]string{"device_id": "new", "platform": "android", "model": `Pixel "8" <b>&`, "app_version": "1.0", "devices_revoked": "1"}
		if len(events) == 0 || events[len(events)-1].Kind != model.EventActivated || !reflect.DeepEqual(events[len(events)-1].Detail, want) {
			t.Fatalf("events after the redeem: %+v", events)
		}

		// The same link again: lost, and nothing written.
		if _, _, err := redeem(first, "again"); !errors.Is(err, store.ErrLinkLost) {
			t.Fatalf("a used link redeemed again: %v", err)
		}
		// A second activation revokes nothing it need not: no count.
		second, _ := link()
		if _, revoked, err := redeem(second, "newer"); err != nil || revoked != 1 {
			t.Fatalf("second redeem: %d revoked, %v", revoked, err)
		}
		// A disabled account is not activated, and the rolled back
		// transaction leaves its link live.
		third, hash := link()
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.RevokeDevices(ctx, acc.ID, 0); err != nil {
				return err
			}
			return tx.SetAccountDisabled(ctx, acc.ID, true)
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := redeem(third, "disabled"); !errors.Is(err, store.ErrLinkLost) {
			t.Fatalf("redeem for a disabled account: %v", err)
		}
		if l, _ := s.LinkByHash(ctx, hash); l.RedeemedAt != nil || l.RevokedAt != nil {
			t.Fatalf("the refused redeem's link: %+v", l)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SetAccountDisabled(ctx, acc.ID, false) }); err != nil {
			t.Fatal(err)
		}
		// Bound to one device: another device's redeem is refused with
		// nothing written, the bound device's own goes through.
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecRaw(ctx, `UPDATE accounts SET one_device = $1 WHERE id = $2`, true, acc.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, revoked, err := redeem(third, "enabled"); err != nil || revoked != 0 {
			t.Fatalf("redeem once enabled: %d revoked, %v", revoked, err)
		}
		events, _ = s.Events(ctx, acc.ID)
		if d := events[len(events)-1].Detail; d["devices_revoked"] != "" || d["device_id"] != "enabled" {
			t.Fatalf("detail with nothing revoked: %v", d)
		}
		fourth, hash := link()
		if _, _, err := redeem(fourth, "another"); !errors.Is(err, store.ErrLinkLost) {
			t.Fatalf("redeem from another device of a bound account: %v", err)
		}
		if l, _ := s.LinkByHash(ctx, hash); l.RedeemedAt != nil || l.RevokedAt != nil {
			t.Fatalf("the refused redeem's link: %+v", l)
		}
		if _, revoked, err := redeem(fourth, "enabled"); err != nil || revoked != 1 {
			t.Fatalf("the bound device's own redeem: %d revoked, %v", revoked, err)
		}
	}
}

// On PostgreSQL a redeem's one statement may use the link up and then
// find the account disabled by a transaction that committed meanwhile: it
// must then fail whole, or the link would be used up with no activation.
func TestRedeemDeviceLeavesNothingWhenTheAccountIsDisabledMeanwhile(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	s := storetest.Open(t, dsn)
	ctx := context.Background()
	acc := seed(t, s)
	now := time.Now().UTC().Truncate(time.Millisecond)
	_, hash := secret.NewToken(secret.PrefixLink)
	l := &model.Link{AccountID: acc.ID, Kind: model.LinkActivation, Channel: model.ChannelSMS,
		TokenPrefix: "avl_x", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateLink(ctx, l, hash) }); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Another transaction disables the account and holds its row.
	disable, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer disable.Rollback()
	if _, err := disable.ExecContext(ctx, `UPDATE accounts SET disabled = true WHERE id = $1`, acc.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		dev := &model.Device{AccountID: acc.ID, DeviceID: "new", Platform: "android", CredentialPrefix: "avd_new", CreatedAt: now}
		done <- s.SharedTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.RedeemDevice(ctx, store.DeviceRedeem{LinkID: l.ID, AccountID: acc.ID, OrgID: acc.OrgID,
				SealedPassword: []byte("sealed"), HA1MD5: "md5", HA1SHA256: "sha", Device: dev, CredentialHash: []byte("credential"), At: now})
			return err
		})
	}()
	// The redeem has used the link up (its snapshot sees the account
	// enabled) and waits for the account's row.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the redeem never waited for the account's row")
		}
	}
	if err := disable.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("redeem of an account disabled meanwhile: %v, want ErrNotFound", err)
	}
	if got, err := s.LinkByHash(ctx, hash); err != nil || got.RedeemedAt != nil || got.RevokedAt != nil {
		t.Fatalf("the link after the failed redeem: %+v, %v", got, err)
	}
	if a, _ := s.AccountByID(ctx, acc.ID); a.Stage == model.StageActivated || len(a.SIPPassword) != 0 {
		t.Fatalf("the account after the failed redeem: %+v", a)
	}
	if devs, _ := s.Devices(ctx, acc.ID); len(devs) != 0 {
		t.Fatalf("devices after the failed redeem: %+v", devs)
	}
	if events, _ := s.Events(ctx, acc.ID); len(events) != 0 && events[len(events)-1].Kind == model.EventActivated {
		t.Fatalf("events after the failed redeem: %+v", events)
	}
}

func TestEffectiveProfileOfIsTheAccountsOrItsGroupsOrTheDefault(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		def, err := s.DefaultProfile(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		own := &model.Profile{Name: "own", Settings: model.DefaultProfileSettings()}
		own.Settings.Codecs = []string{"opus"}
		exec := func(q string, args ...any) {
			t.Helper()
			if err := s.Tx(ctx, func(tx *store.Tx) error { _, err := tx.ExecRaw(ctx, q, args...); return err }); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateProfile(ctx, org, own) }); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		_, hash := secret.NewToken(secret.PrefixLink)
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.CreateLink(ctx, &model.Link{AccountID: acc.ID, Kind: model.LinkActivation, Channel: model.ChannelSMS,
				TokenPrefix: "avl_x", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, hash)
		}); err != nil {
			t.Fatal(err)
		}
		check := func(want *model.Profile, source string) {
			t.Helper()
			p, src, err := s.EffectiveProfileOf(ctx, acc.ID)
			if err != nil || src != source || p.ID != want.ID || p.Name != want.Name || !reflect.DeepEqual(p.Settings, want.Settings) {
				t.Fatalf("effective profile: %+v from %q, %v; want %s from %q", p, src, err, want.Name, source)
			}
			// The redeem's read of the link finds the same, as it is now.
			rd, err := s.LinkAndProfileByHash(ctx, hash)
			if err != nil || rd.ProfileSource != source || rd.Profile == nil || rd.Profile.ID != want.ID || rd.Profile.Name != want.Name ||
				!reflect.DeepEqual(rd.Profile.Settings, want.Settings) {
				t.Fatalf("effective profile with the link: %+v, %v; want %s from %q", rd, err, want.Name, source)
			}
		}
		exec(`UPDATE account_groups SET profile_id = $1 WHERE id = $2`, own.ID, acc.GroupID)
		check(own, "group")
		exec(`UPDATE account_groups SET profile_id = NULL WHERE id = $1`, acc.GroupID)
		check(def, "default")
		exec(`UPDATE accounts SET profile_id = $1 WHERE id = $2`, own.ID, acc.ID)
		check(own, "account")
		if _, _, err := s.EffectiveProfileOf(ctx, acc.ID+1000); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no such account: %v", err)
		}
	})
}
