package app_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// admin is the operator the tests act as where the role matters.
var admin = activation.Caller{Name: "test", Role: "admin", OrgID: model.DefaultOrgID}

var liveTokenRe = regexp.MustCompile(`avl_[a-z2-7]{32}`)

// running starts activator on dir and the database dsn ("" for SQLite in
// dir) and serves until the test ends or stop is called.
func running(t *testing.T, dir, dsn string) (a *app.App, stop func()) {
	t.Helper()
	s := apptest.Start(t, apptest.Options{DataDir: dir, Database: dsn})
	return s.App, s.Stop
}

// rawDB opens activator's database the way someone holding a copy of it
// would: with no key.
func rawDB(t *testing.T, dir, dsn string) *sql.DB {
	t.Helper()
	driver, src := "pgx", dsn
	if dsn == "" {
		driver, src = "sqlite", filepath.Join(dir, "activator.db")
	}
	db, err := sql.Open(driver, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// linksInTheClear lists the whole link tokens a copy of the database gives
// away: in every text column of messages and outbox, and, on SQLite,
// anywhere in its files.
func linksInTheClear(t *testing.T, dir, dsn string) []string {
	t.Helper()
	db := rawDB(t, dir, dsn)
	var found []string
	for _, table := range []string{"messages", "outbox"} {
		rows, err := db.Query(`SELECT subject, body, html FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var subject, body, html string
			if err := rows.Scan(&subject, &body, &html); err != nil {
				t.Fatal(err)
			}
			found = append(found, liveTokenRe.FindAllString(subject+body+html, -1)...)
		}
		rows.Close()
	}
	if dsn == "" {
		for _, f := range []string{"activator.db", "activator.db-wal"} {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			found = append(found, liveTokenRe.FindAllString(string(b), -1)...)
		}
	}
	return found
}

func waitSent(t *testing.T, a *app.App, username string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ms, err := a.Domain.Messages.List(context.Background(), model.MessageSent, username, 0, admin)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d messages sent, want %d", username, len(ms), n)
		}
	}
}

func mustAccount(t *testing.T, a *app.App, mail string) *model.Account {
	t.Helper()
	ctx := context.Background()
	if _, err := a.Domain.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, admin); err != nil && !strings.Contains(err.Error(), "exists") {
		t.Fatal(err)
	}
	acc, err := a.Domain.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Ada"), Email: &mail, Mobile: strp("+393331234567")}, admin)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func strp(s string) *string { return &s }

// TestACopyOfTheDatabaseHoldsNoLiveLink sends a link by e-mail and SMS
// through the outbox and reads the database as a thief would, with no key:
// no text column, and no byte of an SQLite file, holds a whole link token,
// while an admin still reads the message whole.
func TestACopyOfTheDatabaseHoldsNoLiveLink(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dir, dsn := t.TempDir(), ""
			if b.Name != "sqlite" {
				dsn = b.DSN(t)
			}
			a, stop := running(t, dir, dsn)
			acc := mustAccount(t, a, "ada@example.com")
			for _, ch := range []string{model.ChannelEmail, model.ChannelSMS} {
				if _, err := a.Domain.Links.Send(ctx, acc.Username, model.SendRequest{Channel: ch}, admin); err != nil {
					t.Fatal(err)
				}
			}
			waitSent(t, a, acc.Username, 2)
			items, err := a.Domain.Messages.Outbox(ctx, 10, admin)
			if err != nil || len(items) != 2 {
				t.Fatalf("outbox: %+v, %v", items, err)
			}
			// The second send revoked the first link; which message the
			// worker sent first is not fixed, so look at both: the admin sees
			// exactly one live link, the second send's.
			var live []string
			for _, it := range items {
				whole, err := a.Domain.Messages.OutboxItem(ctx, it.ID, admin)
				if err != nil {
					t.Fatal(err)
				}
				if tok := liveTokenRe.FindString(whole.Body); tok != "" {
					live = append(live, tok)
				}
			}
			if len(live) != 1 {
				t.Fatalf("the admin's view of the outbox shows %d live links, want the second send's only", len(live))
			}
			stop()
			if found := linksInTheClear(t, dir, dsn); len(found) > 0 {
				t.Errorf("a copy of the database holds %d whole link tokens (%s…)", len(found), found[0][:10])
			}
		})
	}
}

// TestStartSealsWhatAnEarlierVersionKeptInClear writes messages and an
// outbox copy as an earlier version did, texts and links in clear, and
// starts activator: the texts are masked, the queued message is still sent
// whole, and no whole token is left in the database.
func TestStartSealsWhatAnEarlierVersionKeptInClear(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dir, dsn := t.TempDir(), ""
			if b.Name != "sqlite" {
				dsn = b.DSN(t)
			}
			a, stop := running(t, dir, dsn)
			acc := mustAccount(t, a, "ada@example.com")
			stop()

			db := rawDB(t, dir, dsn)
			var accountID int64
			if err := db.QueryRow(`SELECT id FROM accounts WHERE username = $1`, acc.Username).Scan(&accountID); err != nil {
				t.Fatal(err)
			}
			queued, hash := secret.NewToken(secret.PrefixLink)
			now := time.Now().UnixMilli()
			var inv int64
			if err := db.QueryRow(`INSERT INTO invitations (account_id, kind, channel, token_hash, token_prefix, created_at, expires_at)
				VALUES ($1, 'activation', 'email', $2, $3, $4, $5) RETURNING id`, accountID, hash, secret.Display(queued), now, now+86400000).Scan(&inv); err != nil {
				t.Fatal(err)
			}
			sent, _ := secret.NewToken(secret.PrefixLink)
			insert := `INSERT INTO messages (org_id, account_id, invitation_id, username, channel, kind, gateway, recipient,
				subject, body, html, state, attempts, max_attempts, created_at, updated_at, next_attempt_at)
				VALUES (1, $1, $2, $3, 'email', 'activation', 'outbox', 'ada@example.com', 'Set up your phone', $4, $5, $6, 0, 8, $7, $7, $7)`
			base := a.URL
			link := func(tok string) string { return base + "/a/" + tok }
			if _, err := db.Exec(insert, accountID, inv, acc.Username, "Open "+link(queued), `<a href="`+link(queued)+`">Open</a>`, model.MessageQueued, now); err != nil {
				t.Fatal(err)
			}
			var sentID int64
			if err := db.QueryRow(insert+" RETURNING id", accountID, nil, acc.Username,
				"Open "+link(sent), "", model.MessageSent, now).Scan(&sentID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO outbox (org_id, message_id, channel, recipient, subject, body, html, created_at)
				VALUES (1, $1, 'email', 'ada@example.com', 'Set up your phone', $2, '', $3)`, sentID, "Open "+link(sent), now); err != nil {
				t.Fatal(err)
			}
			db.Close()

			a, stop = running(t, dir, dsn)
			waitSent(t, a, acc.Username, 2)
			items, err := a.Domain.Messages.Outbox(ctx, 10, admin)
			if err != nil || len(items) != 2 {
				t.Fatalf("outbox: %+v, %v", items, err)
			}
			whole, err := a.Domain.Messages.OutboxItem(ctx, items[0].ID, admin)
			if err != nil || !strings.Contains(whole.Body, link(queued)) || !strings.Contains(whole.HTML, link(queued)) {
				t.Fatalf("the queued message was not sent whole: %+v, %v", whole, err)
			}
			stop()
			if found := linksInTheClear(t, dir, dsn); len(found) > 0 {
				t.Errorf("after the start, the database still holds %d whole link tokens (%s…)", len(found), found[0][:10])
			}
		})
	}
}
