package app_test

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestKamailioStartSyncsEveryOrganisation: at start, activator brings
// Kamailio's subscriber table in step with the accounts of every
// organisation, each under its own organisation's SIP domain, not only
// the default organisation's.
func TestKamailioStartSyncsEveryOrganisation(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dir, dsn := t.TempDir(), ""
			if b.Name != "sqlite" {
				dsn = b.DSN(t)
			}
			kdb, db := kamailioDB(t, dir)
			opts := apptest.Options{DataDir: dir, Database: dsn, SIP: app.SIPConfig{AccountsBackend: model.BackendKamailio, KamailioDB: kdb}}
			s := apptest.Start(t, opts)
			a := s.App
			provider := activation.Caller{Name: "test", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
			if _, err := a.Domain.Settings.Set(ctx, model.SettingSIPDomain, "example.com", provider); err != nil {
				t.Fatal(err)
			}
			name, slug, domain := "B", "b", "b.example"
			orgB, err := a.Domain.Organisations.Create(ctx, model.OrganisationInput{Name: &name, Slug: &slug, SIPDomain: &domain}, provider)
			if err != nil {
				t.Fatal(err)
			}
			s.Stop()

			// Accounts activated while Kamailio's database was out of
			// reach: only the next start puts them in.
			box := boxOf(t, filepath.Join(dir, "secret.key"))
			db0 := dsn
			if db0 == "" {
				db0 = filepath.Join(dir, "activator.db")
			}
			st, err := store.Open(ctx, db0)
			if err != nil {
				t.Fatal(err)
			}
			err = st.Tx(ctx, func(tx *store.Tx) error {
				for _, c := range []struct {
					org          int64
					user, domain string
				}{{model.DefaultOrgID, "1000000001", "example.com"}, {orgB.ID, "2000000001", "b.example"}} {
					g := &store.GroupRow{Group: model.Group{Name: "sip-" + c.user}}
					if err := tx.CreateGroup(ctx, c.org, g); err != nil {
						return err
					}
					acc := &store.AccountRow{OrgID: c.org, Account: model.Account{GroupID: g.ID, Username: c.user, DisplayName: c.user,
						SecurityModel: model.EndToEnd, VirtualNumber: c.user[:6], Kind: "wizard", Stage: model.StageNew}}
					if err := tx.CreateAccount(ctx, acc); err != nil {
						return err
					}
					ha1 := md5.Sum([]byte(c.user + ":" + c.domain + ":pw"))
					if err := tx.ActivateAccount(ctx, acc.ID, box.Seal([]byte("pw")), hex.EncodeToString(ha1[:]), "", c.domain, time.Now()); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			st.Close()

			apptest.Start(t, opts).Stop()
			rows, err := db.Query(`SELECT username, domain FROM subscriber`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var u, d string
				if err := rows.Scan(&u, &d); err != nil {
					t.Fatal(err)
				}
				got = append(got, u+"@"+d)
			}
			sort.Strings(got)
			if len(got) != 2 || got[0] != "1000000001@example.com" || got[1] != "2000000001@b.example" {
				t.Fatalf("subscribers after the start: %v, want 1000000001@example.com and 2000000001@b.example", got)
			}
		})
	}
}

// kamailioDB makes, in dir, a Kamailio SQLite database holding its
// subscriber table (auth_db's, version 7), and returns its path and a
// connection to it, closed when the test ends.
func kamailioDB(t *testing.T, dir string) (string, *sql.DB) {
	t.Helper()
	kdb := filepath.Join(dir, "kamailio.sqlite")
	db, err := sql.Open("sqlite", kdb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE subscriber (id INTEGER PRIMARY KEY NOT NULL,
		username VARCHAR(64) DEFAULT '' NOT NULL, domain VARCHAR(64) DEFAULT '' NOT NULL,
		password VARCHAR(64) DEFAULT '' NOT NULL, ha1 VARCHAR(128) DEFAULT '' NOT NULL,
		ha1b VARCHAR(128) DEFAULT '' NOT NULL, CONSTRAINT subscriber_account_idx UNIQUE (username, domain))`); err != nil {
		t.Fatal(err)
	}
	return kdb, db
}
