package kamailio_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/sip/kamailio"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// subscriberTable is Kamailio 5.6's auth_db subscriber table (version 7),
// as its auth_db-create.sql makes it on both engines.
const subscriberTable = `CREATE TABLE subscriber (
    id %s PRIMARY KEY NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT '' NOT NULL,
    password VARCHAR(64) DEFAULT '' NOT NULL,
    ha1 VARCHAR(128) DEFAULT '' NOT NULL,
    ha1b VARCHAR(128) DEFAULT '' NOT NULL,
    CONSTRAINT subscriber_account_idx UNIQUE (username, domain)
)`

// kamailioDB makes an empty Kamailio database on the backend and returns
// the URL the backend opens it by, and a connection of the test's own.
func kamailioDB(t *testing.T, b storetest.Backend) (string, *sql.DB) {
	t.Helper()
	var dsn, driver, id string
	if b.Name == "sqlite" {
		dsn = filepath.Join(t.TempDir(), "kamailio.sqlite")
		driver, id = "sqlite", "INTEGER"
	} else {
		dsn = b.DSN(t)
		driver, id = "pgx", "SERIAL"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(fmt.Sprintf(subscriberTable, id)); err != nil {
		t.Fatalf("creating the subscriber table: %v", err)
	}
	return dsn, db
}

// TestPutConcurrent: writes of one account's subscriber row at once (two
// activator instances, a redeem beside a re-provisioning) all succeed and
// leave one row with one of the written hashes; a later write replaces
// it. An UPDATE followed by an INSERT failed here on PostgreSQL: both
// writers found no row and the second INSERT broke subscriber_account_idx.
func TestPutConcurrent(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn, db := kamailioDB(t, b)
			k, err := kamailio.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			const rounds, writers = 20, 8
			for round := range rounds {
				user := fmt.Sprintf("10000%02d", round)
				start := make(chan struct{})
				errs := make(chan error, writers)
				var wg sync.WaitGroup
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						errs <- k.Put(ctx, activation.SIPSubscriber{Username: user, Domain: "sip.example.com",
							HA1: fmt.Sprintf("ha1-%d", w), HA1B: fmt.Sprintf("ha1b-%d", w)})
					}()
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatalf("round %d: a concurrent Put failed: %v", round, err)
					}
				}
			}
			if err := k.Put(ctx, activation.SIPSubscriber{Username: "1000000", Domain: "sip.example.com", HA1: "new", HA1B: "newb"}); err != nil {
				t.Fatal(err)
			}
			var rows int
			if err := db.QueryRow(`SELECT COUNT(*) FROM subscriber`).Scan(&rows); err != nil || rows != rounds {
				t.Fatalf("subscriber rows: want %d (one per account), got %d, %v", rounds, rows, err)
			}
			var ha1, ha1b, password string
			if err := db.QueryRow(`SELECT ha1, ha1b, password FROM subscriber WHERE username = '1000000'`).Scan(&ha1, &ha1b, &password); err != nil ||
				ha1 != "new" || ha1b != "newb" || password != "" {
				t.Fatalf("after a later Put: want ha1 new, ha1b newb, no password; got %q, %q, %q, %v", ha1, ha1b, password, err)
			}
		})
	}
}

// TestOneUsernameInTwoDomains: usernames are unique per SIP domain, so two
// organisations' accounts 1001 are two subscriber rows, one per domain,
// each written and removed without touching the other.
func TestOneUsernameInTwoDomains(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn, db := kamailioDB(t, b)
			k, err := kamailio.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			for _, d := range []string{"a.example", "b.example"} {
				if err := k.Put(ctx, activation.SIPSubscriber{Username: "1001", Domain: d, HA1: "ha1-" + d, HA1B: "ha1b-" + d}); err != nil {
					t.Fatal(err)
				}
			}
			if err := k.Remove(ctx, "1001", "a.example"); err != nil {
				t.Fatal(err)
			}
			var domain, ha1 string
			var n int
			if err := db.QueryRow(`SELECT COUNT(*), MIN(domain), MIN(ha1) FROM subscriber WHERE username = '1001'`).Scan(&n, &domain, &ha1); err != nil ||
				n != 1 || domain != "b.example" || ha1 != "ha1-b.example" {
				t.Fatalf("after removing a.example's 1001: want b.example's row alone, got %d rows, %q %q, %v", n, domain, ha1, err)
			}
		})
	}
}
