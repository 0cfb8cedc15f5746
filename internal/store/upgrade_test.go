package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/md5"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/activator-voip/activator/client"
	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// upgradeFixtures is where the databases earlier releases made are kept,
// one folder per release and engine (RELEASE-sqlite, RELEASE-postgres),
// each made by testdata/upgrade/make.sh through that release's own
// command line.
const upgradeFixtures = "testdata/upgrade"

// The gateway make.sh adds keeps this token sealed in its settings.
const fixtureAuthToken = "0123456789abcdef0123456789abcdef"

// sealedColumns are the columns that hold values sealed with the secret
// key, by table; every non-NULL value in them must open after an upgrade.
var sealedColumns = map[string][]string{
	"accounts":       {"sip_password"},
	"gateways":       {"settings", "receipt_key"},
	"server_secrets": {"value"},
	"messages":       {"sealed_text"},
	"outbox":         {"sealed_text"},
}

// TestUpgradeFromAnEarlierRelease opens each database an earlier release
// made with this release's store, which migrates it, and checks that no
// row is lost, that every sealed secret still opens with the secret key it
// was sealed with, that the whole server starts on it, and that the device
// that release activated still receives its configuration, the same SIP
// password included, from a server whose signing key is the one it pinned.
func TestUpgradeFromAnEarlierRelease(t *testing.T) {
	releases, err := filepath.Glob(filepath.Join(upgradeFixtures, "*-sqlite"))
	if err != nil || len(releases) == 0 {
		t.Fatalf("no upgrade fixture in %s (err %v)", upgradeFixtures, err)
	}
	for _, b := range storetest.Backends(t) {
		for _, r := range releases {
			release := strings.TrimSuffix(filepath.Base(r), "-sqlite")
			t.Run(b.Name+"/"+release, func(t *testing.T) {
				upgradeFrom(t, b.Name, filepath.Join(upgradeFixtures, release+"-"+b.Name))
			})
		}
	}
}

// checkRealms fails unless every account with a SIP password has the
// digest hashes of its organisation's SIP domain, recorded as of it.
func checkRealms(t *testing.T, a *app.App, box *secret.Box, db *sql.DB, when string) {
	t.Helper()
	ctx := context.Background()
	st, err := a.Domain.Settings.Current(ctx, model.DefaultOrgID)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT username, sip_password, ha1_md5, ha1_realm FROM accounts WHERE org_id = 1 AND sip_password IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			user, ha1, realm string
			sealed           []byte
		)
		if err := rows.Scan(&user, &sealed, &ha1, &realm); err != nil {
			t.Fatal(err)
		}
		pw, err := box.Open(sealed)
		if err != nil {
			t.Fatal(err)
		}
		want := md5.Sum([]byte(user + ":" + st.SIPDomain + ":" + string(pw)))
		if realm != st.SIPDomain || ha1 != hex.EncodeToString(want[:]) {
			t.Errorf("%s: account %s's digest is of realm %q (hash of %s: %v)", when, user, realm, st.SIPDomain, ha1 == hex.EncodeToString(want[:]))
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("%s: no account with a SIP password to check", when)
	}
}

func upgradeFrom(t *testing.T, engine, fixture string) {
	ctx := context.Background()
	dataDir := t.TempDir()
	copyFile(t, filepath.Join(fixture, "secret.key"), filepath.Join(dataDir, "secret.key"))
	var dsn, database, driver string
	switch engine {
	case "sqlite":
		dsn, driver = filepath.Join(dataDir, "activator.db"), "sqlite"
		copyFile(t, filepath.Join(fixture, "activator.db"), dsn)
	default:
		dsn, driver = storetest.PostgresDSN(t), "pgx"
		database = dsn
		restore := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", filepath.Join(fixture, "postgres.sql"))
		if out, err := restore.CombinedOutput(); err != nil {
			t.Fatalf("restoring %s: %v\n%s", fixture, err, out)
		}
	}
	box := fixtureBox(t, filepath.Join(fixture, "secret.key"))

	before := rowCounts(t, driver, dsn)
	if before["accounts"] == 0 || before["messages"] == 0 || before["devices"] == 0 {
		t.Fatalf("the fixture holds too little to test an upgrade: %v", before)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("upgrading the database %s made: %v", fixture, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	after := rowCounts(t, driver, dsn)
	for table, n := range before {
		if table == "schema_migrations" {
			if after[table] <= n {
				t.Errorf("schema_migrations: %d rows before and %d after: no migration ran", n, after[table])
			}
			continue
		}
		// A migration may add rows (a setting that keeps an old default,
		// say), never lose one.
		if after[table] < n {
			t.Errorf("%s: %d rows before the upgrade, %d after", table, n, after[table])
		}
	}

	db := rawDB(t, driver, dsn)
	// The first start's token, the most an earlier release had, is the
	// provider admin's now: the installation's owner makes organisations.
	var role string
	if err := db.QueryRowContext(ctx, `SELECT role FROM api_tokens WHERE org_id = 1 AND operator_id IS NULL AND name = 'admin (first start)'`).Scan(&role); err != nil || role != string(model.RoleProvider) {
		t.Errorf("the first start's token after the upgrade: role %q, %v; want provider", role, err)
	}
	opened := 0
	for table, cols := range sealedColumns {
		for _, col := range cols {
			rows, err := db.QueryContext(ctx, "SELECT "+col+" FROM "+table+" WHERE "+col+" IS NOT NULL")
			if err != nil {
				t.Fatalf("%s.%s: %v", table, col, err)
			}
			for rows.Next() {
				var sealed []byte
				if err := rows.Scan(&sealed); err != nil {
					t.Fatal(err)
				}
				plain, err := box.Open(sealed)
				if err != nil {
					t.Errorf("a sealed %s.%s no longer opens after the upgrade: %v", table, col, err)
				}
				if table == "gateways" && col == "settings" && !strings.Contains(string(plain), fixtureAuthToken) {
					t.Errorf("the gateway's sealed settings lost their auth token: %d bytes", len(plain))
				}
				opened++
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if opened < before["accounts"] {
		t.Errorf("only %d sealed values found", opened)
	}

	// The signing key the device pinned is the one the server signs with.
	var pinned struct {
		PublicKey string `json:"public_key"`
		KeyID     string `json:"key_id"`
	}
	readJSON(t, filepath.Join(fixture, "phone", client.FileServer), &pinned)
	var sealedSeed []byte
	if err := db.QueryRowContext(ctx, "SELECT value FROM server_secrets WHERE name = 'activation_signing_key'").Scan(&sealedSeed); err != nil {
		t.Fatalf("the signing key: %v", err)
	}
	seed, err := box.Open(sealedSeed)
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("the signing key does not open: %v (%d bytes)", err, len(seed))
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	if got := provisioning.KeyID(pub); got != pinned.KeyID {
		t.Errorf("the signing key is %s after the upgrade; the device pinned %s", got, pinned.KeyID)
	}
	if got := base64.RawURLEncoding.EncodeToString(pub); got != pinned.PublicKey {
		t.Errorf("the signing key's public half changed: %s, pinned %s", got, pinned.PublicKey)
	}

	// The whole server starts on the upgraded database.
	srv := apptest.Start(t, apptest.Options{Database: database, DataDir: dataDir})
	admin := activation.Caller{Name: "upgrade test", Role: model.RoleAdmin, OrgID: model.DefaultOrgID}
	accounts, err := srv.App.Domain.Accounts.List(ctx, "", "", "", 100, 0, admin)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range accounts {
		names = append(names, a.DisplayName)
	}
	slices.Sort(names)
	want := []string{"Ada Lovelace", "Alan Turing", "Dorothy Vaughan", "Grace Hopper", "Katherine Johnson"}
	if !slices.Equal(names, want) {
		t.Errorf("accounts after the upgrade: %q, want %q", names, want)
	}
	// Hashes made before their realm was kept are checked at start and
	// their realm recorded; a change of the SIP domain re-hashes them.
	checkRealms(t, srv.App, box, db, "at start")
	if _, err := srv.App.Domain.Settings.Set(ctx, "public_base_url", srv.URL, admin); err != nil {
		t.Fatal(err)
	}
	checkRealms(t, srv.App, box, db, "after public_base_url changed")

	// The device the earlier release activated, its server moved to where
	// this one listens, receives its configuration with the same password.
	phone := t.TempDir()
	for _, name := range []string{client.FileCredential, client.FileDeviceID} {
		copyFile(t, filepath.Join(fixture, "phone", name), filepath.Join(phone, name))
	}
	var server map[string]any
	readJSON(t, filepath.Join(fixture, "phone", client.FileServer), &server)
	server["server"] = srv.URL
	writeJSON(t, filepath.Join(phone, client.FileServer), server)
	var old client.DeviceConfig
	readJSON(t, filepath.Join(fixture, "phone", client.FileConfig), &old)
	res, err := client.Refresh(ctx, client.Options{Dir: phone, AllowHTTP: true})
	if err != nil {
		t.Fatalf("the device activated before the upgrade cannot refresh: %v", err)
	}
	if res.Config.Account.Username != old.Account.Username || res.Config.Account.Password != old.Account.Password || old.Account.Password == "" {
		t.Errorf("after the upgrade the device got %s with another password than the %s it had", res.Config.Account.Username, old.Account.Username)
	}
}

func fixtureBox(t *testing.T, path string) *secret.Box {
	t.Helper()
	key, _, err := secret.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func rawDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rowCounts counts the rows of every table in the database.
func rowCounts(t *testing.T, driver, dsn string) map[string]int {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if driver == "pgx" {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, table := range tables {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
