package cli

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
)

// backupSealed are the columns holding values sealed with the secret key.
var backupSealed = map[string]string{
	"accounts": "sip_password", "gateways": "settings", "server_secrets": "value", "outbox": "sealed_text",
}

// rowIDs is every table's rowids in the SQLite database at path.
func rowIDs(t *testing.T, path string) map[string]map[int64]bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The search index's own tables (FTS5's) are left out: some have no
	// rowid, and the index is made again from accounts.
	rows, err := db.Query(`SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
		AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' AND m.name LIKE v.name || '\_%' ESCAPE '\')`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string]map[int64]bool{}
	for _, tb := range tables {
		ids := map[int64]bool{}
		r, err := db.Query(`SELECT rowid FROM "` + tb + `"`)
		if err != nil {
			t.Fatalf("reading %s: %v", tb, err)
		}
		for r.Next() {
			var id int64
			r.Scan(&id)
			ids[id] = true
		}
		r.Close()
		out[tb] = ids
	}
	return out
}

// TestBackupWhileWritingRestoresEveryRowAndSecret backs up a running
// server's database while accounts are being created, restores it into a
// fresh data folder with the secret key, and finds there every row that
// existed when the backup began and none that did not exist at its end,
// every sealed secret opening, and the activated device's SIP password.
func TestBackupWhileWritingRestoresEveryRowAndSecret(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := apptest.Start(t, apptest.Options{DataDir: dir})
	dom := s.App.Domain
	by := activation.Caller{Name: "test", OrgID: model.DefaultOrgID}
	str := func(v string) *string { return &v }
	if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: str("sales"), ITEmail: str("it@example.com")}, by); err != nil {
		t.Fatal(err)
	}
	if _, err := dom.Gateways.Create(ctx, model.GatewayInput{Name: str("sms-main"), KindName: str("twilio"), Settings: map[string]string{
		"account_sid": "AC1", "auth_token": "tok-secret-1", "from": "+15005550006", "base_url": "https://api.twilio.com"}}, by); err != nil {
		t.Fatal(err)
	}
	create := func(i int) (*model.Account, error) {
		return dom.Accounts.Create(ctx, model.AccountInput{Group: str("sales"), Name: str(fmt.Sprintf("User %d", i)),
			Email: str(fmt.Sprintf("user%d@example.com", i))}, by)
	}
	a, err := create(0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: model.ChannelEmail}, by)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); s.App.Worker.Stats().Sent == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the message was not sent")
		}
	}
	redeemed, err := dom.Devices.Redeem(ctx, model.RedeemRequest{Token: secret.LinkTokens.FindString(res.Message.Body),
		Device: model.DeviceInfo{ID: "backup-test", Platform: "android", Model: "Pixel 8", AppVersion: "1.0.0"}})
	if err != nil {
		t.Fatal(err)
	}

	// Writes go on during the backup.
	var (
		wg        sync.WaitGroup
		stop      atomic.Bool
		created   atomic.Int64
		mu        sync.Mutex
		usernames = []string{a.Username}
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; !stop.Load(); i++ {
			acc, err := create(i)
			if err != nil {
				t.Errorf("creating an account during the backup: %v", err)
				return
			}
			mu.Lock()
			usernames = append(usernames, acc.Username)
			mu.Unlock()
			created.Add(1)
		}
	}()
	for created.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	db := filepath.Join(dir, "activator.db")
	mu.Lock()
	existing := append([]string(nil), usernames...)
	mu.Unlock()
	before := rowIDs(t, db)
	file := filepath.Join(t.TempDir(), "activator-backup.db")
	r := runCLI(t, map[string]string{"ACTIVATOR_DATA": dir}, "", "backup", file)
	for n := created.Load(); created.Load() < n+20; {
		time.Sleep(time.Millisecond) // writes went on after it too
	}
	stop.Store(true)
	wg.Wait()
	if r.err != nil {
		t.Fatalf("backup: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, "To restore") || !strings.Contains(r.stdout, "secret.key") {
		t.Errorf("the backup does not say how to restore, or to keep the secret key:\n%s", r.stdout)
	}
	after := rowIDs(t, db)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup's mode is %v, want 0600: it holds hashes and sealed secrets", fi.Mode().Perm())
	}
	if r := runCLI(t, map[string]string{"ACTIVATOR_DATA": dir}, "", "backup", file); r.err == nil || !strings.Contains(r.err.Error(), "already exists") {
		t.Errorf("a second backup to the same file: %v, want a refusal to overwrite it", r.err)
	}
	if r := runCLI(t, map[string]string{"ACTIVATOR_DATA": dir, "ACTIVATOR_DATABASE": "postgres://u@127.0.0.1/db"}, "", "backup", filepath.Join(t.TempDir(), "x")); r.err == nil || !strings.Contains(r.err.Error(), "pg_dump") {
		t.Errorf("backup with PostgreSQL: %v, want a failure pointing to pg_dump", r.err)
	}

	// Restore into a fresh data folder: the file and the secret key.
	dir2 := t.TempDir()
	copyTo := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyTo(file, filepath.Join(dir2, "activator.db"))
	copyTo(filepath.Join(dir, "secret.key"), filepath.Join(dir2, "secret.key"))
	restored := rowIDs(t, file)
	for table, ids := range before {
		for id := range ids {
			if !restored[table][id] {
				t.Errorf("%s row %d existed when the backup began and is not in it", table, id)
			}
		}
	}
	for table, ids := range restored {
		for id := range ids {
			if !after[table][id] {
				t.Errorf("%s row %d is in the backup but not in the database it copied", table, id)
			}
		}
	}
	t.Logf("accounts: %d when the backup began, %d in it, %d when the writes stopped", len(before["accounts"]), len(restored["accounts"]), len(after["accounts"]))

	s2 := apptest.Start(t, apptest.Options{DataDir: dir2})
	cfg, err := s2.App.Domain.Devices.Config(ctx, redeemed.DeviceCredential)
	if err != nil {
		t.Fatalf("the restored server does not know the device: %v", err)
	}
	if cfg.Account.Password == "" || cfg.Account.Password != redeemed.Config.Account.Password {
		t.Errorf("the restored server gives the device another SIP password")
	}
	key, _, err := secret.LoadOrCreateKey(filepath.Join(dir2, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := sql.Open("sqlite", "file:"+filepath.Join(dir2, "activator.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	for table, col := range backupSealed {
		rows, err := rdb.Query(`SELECT ` + col + ` FROM ` + table + ` WHERE ` + col + ` IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var sealed []byte
			rows.Scan(&sealed)
			if _, err := box.Open(sealed); err != nil {
				t.Errorf("a sealed %s.%s does not open after the restore: %v", table, col, err)
			}
			n++
		}
		rows.Close()
		if n == 0 {
			t.Errorf("no sealed %s.%s in the backup", table, col)
		}
	}
	for _, u := range existing {
		want, err := dom.Accounts.Get(ctx, u, by)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s2.App.Domain.Accounts.Get(ctx, u, by)
		if err != nil {
			t.Errorf("account %s, made before the backup, is not in the restored server: %v", u, err)
			continue
		}
		if fmt.Sprint(got.Account) != fmt.Sprint(want.Account) {
			t.Errorf("account %s restored as %+v, want %+v", u, got.Account, want.Account)
		}
	}
}
