package app_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// realmAccount is an activated account written as an earlier state left
// it: its password hashed with hashedWith, recorded as of realm.
type realmAccount struct {
	user, password, hashedWith, realm string
	disabled                          bool
}

// digest is H(user:realm:password) with MD5 and SHA-256.
func digest(user, realm, password string) (string, string) {
	m := md5.Sum([]byte(user + ":" + realm + ":" + password))
	s := sha256.Sum256([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

// writeAccounts writes accounts of the default organisation into the
// stopped server's database in dir (or at dsn).
func writeAccounts(t *testing.T, dir, dsn string, accounts []realmAccount) {
	t.Helper()
	ctx := context.Background()
	box := boxOf(t, filepath.Join(dir, "secret.key"))
	if dsn == "" {
		dsn = filepath.Join(dir, "activator.db")
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Tx(ctx, func(tx *store.Tx) error {
		g := &store.GroupRow{Group: model.Group{Name: "realm"}}
		if err := tx.CreateGroup(ctx, model.DefaultOrgID, g); err != nil {
			return err
		}
		for i, a := range accounts {
			acc := &store.AccountRow{OrgID: model.DefaultOrgID, Account: model.Account{GroupID: g.ID, Username: a.user, DisplayName: a.user,
				SecurityModel: model.EndToEnd, VirtualNumber: "70000" + string(rune('0'+i)), Kind: model.AccountWizard, Stage: model.StageNew}}
			if err := tx.CreateAccount(ctx, acc); err != nil {
				return err
			}
			m, s := digest(a.user, a.hashedWith, a.password)
			if err := tx.ActivateAccount(ctx, acc.ID, box.Seal([]byte(a.password)), m, s, a.realm, time.Now()); err != nil {
				return err
			}
			if a.disabled {
				if err := tx.SetAccountDisabled(ctx, acc.ID, true); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkDigests fails unless each account's stored hashes are those of
// realm, recorded as of realm.
func checkDigests(t *testing.T, st *store.Store, realm string, accounts []realmAccount) {
	t.Helper()
	for _, a := range accounts {
		row, err := st.AccountByUsername(context.Background(), model.DefaultOrgID, a.user)
		if err != nil {
			t.Fatal(err)
		}
		m, s := digest(a.user, realm, a.password)
		if row.HA1MD5 != m || row.HA1SHA256 != s || row.HA1Realm != realm {
			t.Errorf("%s (hashed with %s, realm %q): realm %q, hashes of %s: %v", a.user, a.hashedWith, a.realm, row.HA1Realm, realm,
				row.HA1MD5 == m && row.HA1SHA256 == s)
		}
	}
}

// A start re-hashes the digests of the accounts whose hashes are not of
// their organisation's SIP domain: of a domain it had before (here the
// sip_domain changed while the server was stopped) or of one not known
// (made before the realm was kept).
func TestStartRehashesDigestsOfAnotherRealm(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dir, dsn := t.TempDir(), ""
			if b.Name != "sqlite" {
				dsn = b.DSN(t)
			}
			opts := apptest.Options{DataDir: dir, Database: dsn}
			s := apptest.Start(t, opts)
			provider := activation.Caller{Name: "test", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
			if _, err := s.App.Domain.Settings.Set(ctx, model.SettingSIPDomain, "new.example", provider); err != nil {
				t.Fatal(err)
			}
			s.Stop()
			accounts := []realmAccount{
				{user: "1000000001", password: "pw1", hashedWith: "old.example", realm: "old.example"},
				{user: "1000000002", password: "pw2", hashedWith: "old.example", realm: ""},
				{user: "1000000003", password: "pw3", hashedWith: "new.example", realm: ""},
				{user: "1000000004", password: "pw4", hashedWith: "old.example", realm: "old.example", disabled: true},
			}
			writeAccounts(t, dir, dsn, accounts)
			s = apptest.Start(t, opts)
			defer s.Stop()
			checkDigests(t, s.App.Store, "new.example", accounts)
		})
	}
}

// With the Kamailio backend, a change of the SIP domain moves the
// subscriber rows of the organisation's accounts to the new domain, with
// the new realm's hashes, and leaves none under the old one.
func TestSIPDomainChangeMovesKamailioSubscribers(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dir, dsn := t.TempDir(), ""
			if b.Name != "sqlite" {
				dsn = b.DSN(t)
			}
			kdb, db := kamailioDB(t, dir)
			subscribers := func() []string {
				t.Helper()
				rows, err := db.Query(`SELECT username, domain, ha1 FROM subscriber`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var got []string
				for rows.Next() {
					var u, d, ha1 string
					if err := rows.Scan(&u, &d, &ha1); err != nil {
						t.Fatal(err)
					}
					got = append(got, u+"@"+d+" "+ha1)
				}
				slices.Sort(got)
				return got
			}
			want := func(domain string, accounts ...realmAccount) []string {
				var out []string
				for _, a := range accounts {
					m, _ := digest(a.user, domain, a.password)
					out = append(out, a.user+"@"+domain+" "+m)
				}
				slices.Sort(out)
				return out
			}
			opts := apptest.Options{DataDir: dir, Database: dsn, SIP: app.SIPConfig{AccountsBackend: model.BackendKamailio, KamailioDB: kdb}}
			s := apptest.Start(t, opts)
			provider := activation.Caller{Name: "test", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
			if _, err := s.App.Domain.Settings.Set(ctx, model.SettingSIPDomain, "a.example", provider); err != nil {
				t.Fatal(err)
			}
			s.Stop()
			ann := realmAccount{user: "1000000001", password: "pw1", hashedWith: "a.example", realm: "a.example"}
			ben := realmAccount{user: "1000000002", password: "pw2", hashedWith: "a.example", realm: "a.example"}
			off := realmAccount{user: "1000000003", password: "pw3", hashedWith: "a.example", realm: "a.example", disabled: true}
			writeAccounts(t, dir, dsn, []realmAccount{ann, ben, off})
			s = apptest.Start(t, opts)
			defer s.Stop()
			if got, w := subscribers(), want("a.example", ann, ben); !slices.Equal(got, w) {
				t.Fatalf("subscribers at start: %v, want %v", got, w)
			}
			if _, err := s.App.Domain.Settings.Set(ctx, model.SettingSIPDomain, "b.example", provider); err != nil {
				t.Fatal(err)
			}
			got := subscribers()
			if w := want("b.example", ann, ben); !slices.Equal(got, w) {
				t.Errorf("subscribers after the SIP domain became b.example: %v, want %v", got, w)
			}
			for _, r := range got {
				if strings.Contains(r, "@a.example") {
					t.Errorf("a subscriber left under the old domain: %s", r)
				}
			}
			checkDigests(t, s.App.Store, "b.example", []realmAccount{ann, ben, off})
		})
	}
}
