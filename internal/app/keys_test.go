package app_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/client"
	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
	"github.com/activator-voip/activator/internal/testnet"
)

// sealedValues reads every sealed column as a copy of the database would
// give it: column and row to the sealed bytes.
func sealedValues(t *testing.T, dir, dsn string) map[string][]byte {
	t.Helper()
	db := rawDB(t, dir, dsn)
	out := map[string][]byte{}
	for _, c := range store.SealedColumns {
		rows, err := db.Query(fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s IS NOT NULL`, c.Key, c.Column, c.Table, c.Column))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var key string
			var v []byte
			if err := rows.Scan(&key, &v); err != nil {
				t.Fatal(err)
			}
			out[c.Name()+":"+key] = v
		}
		rows.Close()
	}
	db.Close()
	return out
}

func boxOf(t *testing.T, path string) *secret.Box {
	t.Helper()
	key, err := secret.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// TestKeysRotateResealsEverySecret fills every sealed column (the signing
// key, a SIP password, a gateway's settings and receipt key, a queued
// message's text, the outbox's copy), rotates the secret key with the
// server stopped, and checks each value: it opens with the new key to what
// it was, not with the old key; the old key is kept; and the server,
// started again with the new key, gives the device its same SIP password.
func TestKeysRotateResealsEverySecret(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dir, dsn := t.TempDir(), ""
			if b.Name != "sqlite" {
				dsn = b.DSN(t)
			}
			a, stop := running(t, dir, dsn)
			// A SIP password: a link through the outbox, redeemed.
			ada := mustAccount(t, a, "ada@example.com")
			if _, err := a.Domain.Links.Send(ctx, ada.Username, model.SendRequest{Channel: model.ChannelEmail}, admin); err != nil {
				t.Fatal(err)
			}
			waitSent(t, a, ada.Username, 1)
			items, err := a.Domain.Messages.Outbox(ctx, 10, admin)
			if err != nil || len(items) != 1 {
				t.Fatalf("outbox: %v, %v", items, err)
			}
			whole, err := a.Domain.Messages.OutboxItem(ctx, items[0].ID, admin)
			if err != nil {
				t.Fatal(err)
			}
			red, err := a.Domain.Devices.Redeem(ctx, model.RedeemRequest{Token: liveTokenRe.FindString(whole.Body),
				Device: model.DeviceInfo{ID: "phone-1", Platform: "android"}})
			if err != nil {
				t.Fatal(err)
			}
			// A gateway that cannot reach its provider: its message stays
			// queued with its sealed text.
			if _, err := a.Domain.Gateways.Create(ctx, model.GatewayInput{Name: strp("sms"), KindName: strp("twilio"), DefaultFor: strp(model.ChannelSMS),
				Settings: map[string]string{"account_sid": "AC1", "auth_token": "tok-secret-1", "from": "+15005550006", "base_url": "http://" + testnet.RefusingAddr(t)}}, admin); err != nil {
				t.Fatal(err)
			}
			mail := "bob@example.com"
			bob, err := a.Domain.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Bob"), Email: &mail, Mobile: strp("+393331234568")}, admin)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Domain.Links.Send(ctx, bob.Username, model.SendRequest{Channel: model.ChannelSMS}, admin); err != nil {
				t.Fatal(err)
			}
			stop()

			keyFile := filepath.Join(dir, "secret.key")
			oldBox := boxOf(t, keyFile)
			oldKey, _ := secret.LoadKey(keyFile)
			before := sealedValues(t, dir, dsn)
			for _, c := range store.SealedColumns {
				found := false
				for k := range before {
					found = found || strings.HasPrefix(k, c.Name()+":")
				}
				if !found {
					t.Fatalf("the test left %s empty: it would not show that column is resealed", c.Name())
				}
			}
			var progress bytes.Buffer
			res, err := app.RotateSecretKey(ctx, app.KeyConfig{DataDir: dir, Database: dsn}, func(col string, done, total int) {
				fmt.Fprintf(&progress, "%s %d/%d\n", col, done, total)
			}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if res.Resealed != len(before) {
				t.Errorf("resealed %d values, the database holds %d", res.Resealed, len(before))
			}
			if !strings.Contains(progress.String(), "accounts.sip_password 1/1") {
				t.Errorf("progress does not show the SIP password done:\n%s", progress.String())
			}
			newBox := boxOf(t, keyFile)
			if backup, err := secret.LoadKey(res.Backup); err != nil || !bytes.Equal(backup, oldKey) {
				t.Errorf("the backup %s does not hold the old key: %v", res.Backup, err)
			}
			if newKey, _ := secret.LoadKey(keyFile); bytes.Equal(newKey, oldKey) {
				t.Fatal("the key file still holds the old key")
			}
			if _, err := os.Stat(secret.PendingKeyFile(keyFile)); !os.IsNotExist(err) {
				t.Errorf("the pending key file is still there: %v", err)
			}
			after := sealedValues(t, dir, dsn)
			if len(after) != len(before) {
				t.Fatalf("%d sealed values after the rotation, %d before", len(after), len(before))
			}
			for k, old := range before {
				plain, err := oldBox.Open(old)
				if err != nil {
					t.Fatalf("%s did not open with the old key before: %v", k, err)
				}
				got, err := newBox.Open(after[k])
				if err != nil {
					t.Errorf("%s does not open with the new key: %v", k, err)
					continue
				}
				if !bytes.Equal(got, plain) {
					t.Errorf("%s changed its content in the rotation", k)
				}
				if _, err := oldBox.Open(after[k]); err == nil {
					t.Errorf("%s still opens with the old key", k)
				}
			}

			a, _ = running(t, dir, dsn)
			cfg, err := a.Domain.Devices.Config(ctx, red.DeviceCredential)
			if err != nil {
				t.Fatalf("after the rotation, the device's configuration: %v", err)
			}
			if cfg.Account.Password != red.Config.Account.Password {
				t.Error("the SIP password read back after the rotation differs")
			}
			if _, err := a.Domain.Gateways.Get(ctx, "sms", admin); err != nil {
				t.Errorf("the gateway after the rotation: %v", err)
			}
		})
	}
}

// An interrupted rotation is finished or undone by the next run: one that
// committed but left the new key in secret.key.new installs it; one that
// never committed has its new key discarded and rotates afresh. A key
// that is not the database's is refused and changes nothing.
func TestKeysRotateRecoversFromAnInterruption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, stop := running(t, dir, "")
	stop()
	cfg := app.KeyConfig{DataDir: dir}
	keyFile := filepath.Join(dir, "secret.key")
	pending := secret.PendingKeyFile(keyFile)
	log := slog.New(slog.DiscardHandler)

	// Committed, key file not replaced.
	st, err := store.Open(ctx, filepath.Join(dir, "activator.db"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := secret.CreateKey(pending)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := secret.NewBox(key)
	if _, err := activation.RotateSecretKey(ctx, st, boxOf(t, keyFile), next, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	res, err := app.RotateSecretKey(ctx, cfg, nil, log)
	if err != nil || !res.Resumed {
		t.Fatalf("after a committed rotation: %+v, %v; want it finished", res, err)
	}
	if got, _ := secret.LoadKey(keyFile); !bytes.Equal(got, key) {
		t.Fatal("the key file does not hold the committed key")
	}

	// Never committed: a stray new key.
	stray, err := secret.CreateKey(pending)
	if err != nil {
		t.Fatal(err)
	}
	res, err = app.RotateSecretKey(ctx, cfg, nil, log)
	if err != nil || res.Resumed || res.Resealed == 0 {
		t.Fatalf("after an uncommitted rotation: %+v, %v; want a fresh rotation", res, err)
	}
	if got, _ := secret.LoadKey(keyFile); bytes.Equal(got, stray) || bytes.Equal(got, key) {
		t.Fatal("the key file holds the stray or the previous key")
	}

	// Someone else's key.
	other := filepath.Join(t.TempDir(), "other.key")
	if _, err := secret.CreateKey(other); err != nil {
		t.Fatal(err)
	}
	if _, err := app.RotateSecretKey(ctx, app.KeyConfig{DataDir: dir, SecretKeyFile: other}, nil, log); err == nil || !strings.Contains(err.Error(), "not the key of this database") {
		t.Fatalf("rotating with a key that is not the database's: %v", err)
	}
	a, _ := running(t, dir, "")
	if a == nil {
		t.Fatal("activator does not start after the rotations")
	}
}

// TestKeysRotateSigningKeepsPinnedDevices: a device activates and pins the
// server's signing key; the key is rotated with the server stopped; the
// device accepts the next link's file, signed by the new key, through the
// chain the file carries, and pins the new key.
func TestKeysRotateSigningKeepsPinnedDevices(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dir, dsn := t.TempDir(), ""
			if b.Name != "sqlite" {
				dsn = b.DSN(t)
			}
			phone := t.TempDir()
			activate := func(a *app.App, username string) *client.Result {
				t.Helper()
				res, err := a.Domain.Links.Send(ctx, username, model.SendRequest{Channel: model.ChannelEmail}, admin)
				if err != nil {
					t.Fatal(err)
				}
				link := liveLink(t, a, res.Message.ID)
				r, err := client.Activate(ctx, link, client.Options{Dir: phone, AllowHTTP: true})
				if err != nil {
					t.Fatalf("activating: %v", err)
				}
				return r
			}
			a, stop := running(t, dir, dsn)
			ada := mustAccount(t, a, "ada@example.com")
			first := activate(a, ada.Username)
			stop()

			rot, err := app.RotateSigningKey(ctx, app.KeyConfig{DataDir: dir, Database: dsn})
			if err != nil {
				t.Fatal(err)
			}
			if rot.OldKeyID != first.KeyID || rot.NewKeyID == first.KeyID || rot.ChainLength != 1 {
				t.Fatalf("rotation = %+v; the device pinned %s", rot, first.KeyID)
			}
			a, _ = running(t, dir, dsn)
			if got := provisioning.KeyID(a.Domain.Links.PublicKey()); got != rot.NewKeyID {
				t.Fatalf("the restarted server signs with %s, want %s", got, rot.NewKeyID)
			}
			again := activate(a, ada.Username)
			if again.KeyID != rot.NewKeyID || again.FirstUse {
				t.Errorf("after the rotation the device activated with key %s (first use %v), want %s", again.KeyID, again.FirstUse, rot.NewKeyID)
			}
		})
	}
}

// liveLink waits for the outbox to keep message id and returns the landing
// page URL it carries, as the admin sees it.
func liveLink(t *testing.T, a *app.App, id int64) string {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		items, err := a.Domain.Messages.Outbox(ctx, 100, admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.MessageID != id {
				continue
			}
			whole, err := a.Domain.Messages.OutboxItem(ctx, it.ID, admin)
			if err != nil {
				t.Fatal(err)
			}
			if l := secret.FindLink(whole.Body); l != "" {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d never reached the outbox with its link", id)
		}
	}
}
