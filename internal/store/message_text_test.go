package store_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestSealedMessageTextGoesWhenTheMessageIsDone checks migration 0009's
// trigger: a message keeps its sealed text while it may be sent (queued,
// sending, back in the queue for a retry) and loses it as it is sent,
// delivered or failed, whatever statement does that.
func TestSealedMessageTextGoesWhenTheMessageIsDone(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		sealed := []byte("sealed\x00bytes")
		queue := func() int64 {
			m := &store.MessageRow{OrgID: org, MaxAttempts: 3, Message: model.Message{AccountID: acc.ID, Channel: model.ChannelSMS,
				Kind: model.MessageActivation, Gateway: "outbox", Recipient: "+390000", Body: "masked"}}
			err := s.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.EnqueueMessage(ctx, m); err != nil {
					return err
				}
				return tx.SealMessageText(ctx, m.ID, sealed)
			})
			if err != nil {
				t.Fatal(err)
			}
			return m.ID
		}
		setState := func(id int64, state string) {
			t.Helper()
			if err := s.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecRaw(ctx, `UPDATE messages SET state = $1 WHERE id = $2`, state, id)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		sealedOf := func(id int64) []byte {
			t.Helper()
			b, err := s.MessageSealedText(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		for _, final := range []string{model.MessageSent, model.MessageDelivered, model.MessageFailed} {
			id := queue()
			for _, live := range []string{model.MessageQueued, model.MessageSending, model.MessageQueued, model.MessageSending} {
				setState(id, live)
				if got := sealedOf(id); !bytes.Equal(got, sealed) {
					t.Fatalf("%s: the sealed text is %q", live, got)
				}
			}
			setState(id, final)
			if got := sealedOf(id); got != nil {
				t.Errorf("%s: the sealed text is still kept", final)
			}
		}
		if clear, err := s.ClearMessageTexts(ctx, 10); err != nil || len(clear) != 0 {
			t.Errorf("messages written with their sealed text listed as clear: %v, %v", clear, err)
		}

		// The outbox keeps its copy sealed once the message is sent.
		id := queue()
		err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.PutOutbox(ctx, &model.OutboxItem{MessageID: id, Channel: model.ChannelSMS, Recipient: "+390000", Body: "masked"}); err != nil {
				return err
			}
			return tx.SealOutboxText(ctx, id, sealed)
		})
		if err != nil {
			t.Fatal(err)
		}
		setState(id, model.MessageSent)
		items, err := s.Outbox(ctx, org, 1)
		if err != nil || len(items) != 1 {
			t.Fatalf("outbox: %v, %v", items, err)
		}
		sec, err := s.OutboxSecretOf(ctx, org, items[0].ID)
		if err != nil || !bytes.Equal(sec.Sealed, sealed) || sec.HasLink {
			t.Fatalf("the outbox's secret: %+v, %v", sec, err)
		}
		if clear, err := s.ClearOutboxTexts(ctx, 10); err != nil || len(clear) != 0 {
			t.Errorf("outbox messages written with their sealed text listed as clear: %v, %v", clear, err)
		}
	})
}

// TestUpgradeFindsTextsInClearAndRedactsReceiptKeys opens a database as the
// schema before 0009 left it, writes rows the way that activator did, and
// opens it again with this one: the messages and outbox texts it wrote are
// listed as clear (activator masks them at start), a masked text is kept
// sealed only while its message may still be sent, and the receipt keys in
// its audit entries are gone.
func TestUpgradeFindsTextsInClearAndRedactsReceiptKeys(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.DSN(t)
			old, err := store.OpenAt(ctx, dsn, 8)
			if err != nil {
				t.Fatal(err)
			}
			acc := seed(t, old)
			const key = "avr_k3ykeykeykeykeykeykeykeykeykeyke"
			gw := `{"name":"sms1","kind":"vonage","receipt_url":"https://act.example.com/api/v1/receipts/sms1/` + key + `","settings":{"api_key":"***"}}`
			err = old.Tx(ctx, func(tx *store.Tx) error {
				for i, state := range []string{model.MessageQueued, model.MessageSending, model.MessageSent, model.MessageFailed} {
					if _, err := tx.ExecRaw(ctx, `INSERT INTO messages (org_id, account_id, username, channel, kind, gateway, recipient,
						subject, body, html, state, attempts, max_attempts, created_at, updated_at, next_attempt_at)
						VALUES ($1, $2, '1234567890', 'sms', 'activation', 'outbox', '+390000', '', $3, '', $4, 0, 8, 1, 1, 1)`,
						org, acc.ID, "link "+string(rune('a'+i)), state); err != nil {
						return err
					}
				}
				if _, err := tx.ExecRaw(ctx, `INSERT INTO outbox (org_id, message_id, channel, recipient, subject, body, html, created_at)
					VALUES ($1, 3, 'sms', '+390000', '', 'link c', '', 1)`, org); err != nil {
					return err
				}
				for _, e := range [][2]string{{gw, gw}, {"", gw}, {gw, `{"truncated":true}`}, {`{"name":"sales"}`, "not json"}} {
					if _, err := tx.ExecRaw(ctx, `INSERT INTO audit_log (org_id, at, actor, action, target, status, before_json, after_json)
						VALUES ($1, 1, 'admin', 'PATCH /gateways/{name}', 'gateway:sms1', 200, $2, $3)`, org, e[0], e[1]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			old.Close()

			s := storetest.Open(t, dsn)
			clear, err := s.ClearMessageTexts(ctx, 10)
			if err != nil || len(clear) != 4 || clear[0].Body != "link a" {
				t.Fatalf("messages in clear after the upgrade: %+v, %v", clear, err)
			}
			box := []byte("sealed")
			err = s.Tx(ctx, func(tx *store.Tx) error {
				for _, c := range clear {
					if err := tx.MaskMessageText(ctx, c.ID, "masked", "", box); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range clear {
				m, err := s.MessageByID(ctx, c.ID)
				if err != nil || m.Body != "masked" {
					t.Fatalf("message %d after masking: %+v, %v", c.ID, m, err)
				}
				sealed, err := s.MessageSealedText(ctx, c.ID)
				if live := m.State == model.MessageQueued || m.State == model.MessageSending; err != nil || (sealed != nil) != live {
					t.Errorf("message %d (%s): sealed text %q, %v", c.ID, m.State, sealed, err)
				}
			}
			if again, err := s.ClearMessageTexts(ctx, 10); err != nil || len(again) != 0 {
				t.Errorf("messages still in clear after masking: %+v, %v", again, err)
			}
			if oc, err := s.ClearOutboxTexts(ctx, 10); err != nil || len(oc) != 1 || oc[0].Body != "link c" {
				t.Errorf("outbox messages in clear after the upgrade: %+v, %v", oc, err)
			}

			entries, err := s.Audit(ctx, org, store.AuditFilter{Limit: 10})
			if err != nil || len(entries) != 4 {
				t.Fatalf("audit after the upgrade: %d entries, %v", len(entries), err)
			}
			for _, e := range entries {
				for _, j := range []string{e.Before, e.After} {
					if strings.Contains(j, key) {
						t.Errorf("entry %d still holds the receipt key: %s", e.ID, j)
					}
					if strings.Contains(j, `"sms1"`) && !strings.Contains(j, `"receipt_url":"***"`) {
						t.Errorf("entry %d lost more than the key: %s", e.ID, j)
					}
				}
			}
			if e := entries[0]; e.Before != `{"name":"sales"}` || e.After != "not json" {
				t.Errorf("an entry without a receipt URL changed: %+v", e)
			}
		})
	}
}

// TestCompactLeavesNoOverwrittenTextInTheFile: on SQLite, text an UPDATE
// replaced can linger in the file's free space; Compact rewrites the file
// and empties the write-ahead log, so it is gone from the bytes too.
func TestCompactLeavesNoOverwrittenTextInTheFile(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.SQLiteDSN(t)
	s := storetest.Open(t, dsn)
	acc := seed(t, s)
	const secretText = "the-old-clear-text-that-must-go-0123456789"
	m := &store.MessageRow{OrgID: org, MaxAttempts: 3, Message: model.Message{AccountID: acc.ID, Channel: model.ChannelSMS,
		Kind: model.MessageActivation, Gateway: "outbox", Recipient: "+390000", Body: strings.Repeat(secretText, 20)}}
	if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.MaskMessageText(ctx, m.ID, "masked", "", []byte("sealed")) }); err != nil {
		t.Fatal(err)
	}
	files := func() string {
		db, _ := os.ReadFile(dsn)
		wal, _ := os.ReadFile(dsn + "-wal")
		return string(db) + string(wal)
	}
	if !strings.Contains(files(), secretText) {
		t.Log("the overwritten text was already gone from the files before Compact")
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(files(), secretText) {
		t.Error("the overwritten text is still in the database files after Compact")
	}
	if got, err := s.MessageByID(ctx, m.ID); err != nil || got.Body != "masked" {
		t.Errorf("after Compact: %+v, %v", got, err)
	}
}
