package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func TestGatewaysCRUDDefaultsAndGroupOverrides(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		mk := func(name, channel, def string) (*store.GatewayRow, error) {
			g := &store.GatewayRow{OrgID: org, Name: name, KindName: "twilio", Channel: channel, Settings: []byte("sealed"), ReceiptKey: []byte("k"), DefaultFor: def}
			return g, s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateGateway(ctx, g) })
		}
		a, err := mk("a", "sms", "sms")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mk("a", "sms", ""); !errors.As(err, new(*store.ConflictError)) {
			t.Fatalf("same name twice: want a conflict, got %v", err)
		}
		if _, err := mk("b", "sms", "sms"); !errors.As(err, new(*store.ConflictError)) {
			t.Fatalf("two sms defaults: want a conflict, got %v", err)
		}
		b, err := mk("b", "sms", "")
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.DefaultGateway(ctx, org, "sms")
		if err != nil || d.Name != "a" || string(d.Settings) != "sealed" {
			t.Fatalf("default sms gateway: %+v %v", d, err)
		}
		if _, err := s.DefaultGateway(ctx, org, "email"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no email default: want ErrNotFound, got %v", err)
		}
		// Moving the default: clear, then set, in one transaction.
		before := b.UpdatedAt
		err = s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.ClearDefaultGateway(ctx, org, "sms"); err != nil {
				return err
			}
			b.DefaultFor = "sms"
			return tx.UpdateGateway(ctx, b)
		})
		if err != nil {
			t.Fatal(err)
		}
		if !b.UpdatedAt.After(before) {
			t.Fatalf("updated_at did not move forward: %v then %v", before, b.UpdatedAt)
		}
		if d, _ := s.DefaultGateway(ctx, org, "sms"); d == nil || d.Name != "b" {
			t.Fatalf("default did not move to b: %+v", d)
		}
		if at, err := s.GatewayUpdatedAt(ctx, org, "b"); err != nil || !at.Equal(b.UpdatedAt) {
			t.Fatalf("GatewayUpdatedAt = %v, %v; want %v", at, err, b.UpdatedAt)
		}

		// Group override.
		if name, err := s.GroupGatewayName(ctx, acc.GroupID, "sms"); err != nil || name != "" {
			t.Fatalf("no override yet: %q %v", name, err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SetGroupGateway(ctx, acc.GroupID, "sms", a.ID) }); err != nil {
			t.Fatal(err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SetGroupGateway(ctx, acc.GroupID, "sms", a.ID) }); err != nil {
			t.Fatalf("setting the same override again: %v", err)
		}
		if name, _ := s.GroupGatewayName(ctx, acc.GroupID, "sms"); name != "a" {
			t.Fatalf("override: got %q, want a", name)
		}
		list, err := s.GroupGateways(ctx, org)
		if err != nil || len(list) != 1 || list[0] != (model.GroupGateway{Group: "sales", Channel: "sms", Gateway: "a"}) {
			t.Fatalf("group gateways: %+v %v", list, err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteGateway(ctx, a.ID) }); !errors.Is(err, store.ErrInUse) {
			t.Fatalf("deleting a gateway a group uses: want ErrInUse, got %v", err)
		}
		var removed bool
		if err := s.Tx(ctx, func(tx *store.Tx) (err error) {
			removed, err = tx.DeleteGroupGateway(ctx, acc.GroupID, "sms")
			return err
		}); err != nil || !removed {
			t.Fatalf("removing the override: %v %v", removed, err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteGateway(ctx, a.ID) }); err != nil {
			t.Fatalf("deleting an unused gateway: %v", err)
		}
		if _, err := s.GatewayByName(ctx, org, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted gateway still found: %v", err)
		}
		gs, err := s.Gateways(ctx, org)
		if err != nil || len(gs) != 1 || gs[0].Name != "b" {
			t.Fatalf("gateways: %+v %v", gs, err)
		}
		if named, err := s.GatewaysNamed(ctx, "b"); err != nil || len(named) != 1 || named[0].OrgID != org || named[0].ID != gs[0].ID {
			t.Fatalf("gateways named b: %+v %v", named, err)
		}
		if named, err := s.GatewaysNamed(ctx, "a"); err != nil || len(named) != 0 {
			t.Fatalf("gateways named after a deleted one: %+v %v", named, err)
		}
	})
}

func TestReceiptsMoveMessagesForwardOnly(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		enqueue := func(recipient string) int64 {
			m := &store.MessageRow{OrgID: org, MaxAttempts: 3, Message: model.Message{AccountID: acc.ID, Channel: "sms", Kind: "activation",
				Gateway: "tw", Recipient: recipient, Body: "hi"}}
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
				t.Fatal(err)
			}
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.MarkMessageSent(ctx, m.Claim(), "SM"+recipient, time.Now()) }); err != nil {
				t.Fatal(err)
			}
			return m.ID
		}
		id1, id2 := enqueue("+391"), enqueue("+392")
		tg, err := s.MessageByProviderID(ctx, org, "tw", "SM+391")
		if err != nil || tg.ID != id1 || tg.State != model.MessageSent {
			t.Fatalf("by provider id: %+v %v", tg, err)
		}
		if _, err := s.MessageByProviderID(ctx, org, "other", "SM+391"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("provider ids are per gateway: got %v", err)
		}
		if _, err := s.MessageByProviderID(ctx, org+1, "tw", "SM+391"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("provider ids are per organisation: got %v", err)
		}
		if tg, err := s.MessageOfGateway(ctx, org, "tw", id1); err != nil || tg.ID != id1 || tg.OrgID != org {
			t.Fatalf("by id: %+v %v", tg, err)
		}
		if _, err := s.MessageOfGateway(ctx, org+1, "tw", id1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a message is found in its own organisation only: got %v", err)
		}
		if tg, err := s.LatestSentTo(ctx, org, "tw", "+392"); err != nil || tg.ID != id2 {
			t.Fatalf("latest sent to: %+v %v", tg, err)
		}
		at := time.Now().UTC().Truncate(time.Millisecond)
		var ok bool
		err = s.Tx(ctx, func(tx *store.Tx) (err error) {
			if err := tx.SetReceiptStatus(ctx, id1, "buffered"); err != nil {
				return err
			}
			ok, err = tx.MarkMessageDelivered(ctx, id1, "delivered", at)
			return err
		})
		if err != nil || !ok {
			t.Fatalf("delivered: %v %v", ok, err)
		}
		m, _ := s.MessageByID(ctx, id1)
		if m.State != model.MessageDelivered || m.DeliveredAt == nil || !m.DeliveredAt.Equal(at) || m.ReceiptStatus != "delivered" {
			t.Fatalf("after delivery: %+v", m.Message)
		}
		// A late failure receipt does not undo a delivery.
		err = s.Tx(ctx, func(tx *store.Tx) (err error) {
			ok, err = tx.MarkMessageUndelivered(ctx, id1, "failed", "late")
			return err
		})
		if err != nil || ok {
			t.Fatalf("failure after delivery changed the row: %v %v", ok, err)
		}
		err = s.Tx(ctx, func(tx *store.Tx) (err error) {
			ok, err = tx.MarkMessageUndelivered(ctx, id2, "undelivered", "30003 unreachable handset")
			return err
		})
		if err != nil || !ok {
			t.Fatalf("undelivered: %v %v", ok, err)
		}
		m, _ = s.MessageByID(ctx, id2)
		if m.State != model.MessageFailed || m.LastError != "30003 unreachable handset" || m.DeliveredAt != nil {
			t.Fatalf("after failure receipt: %+v", m.Message)
		}
		if _, err := s.LatestSentTo(ctx, org, "tw", "+392"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a failed message is not a receipt target by number: %v", err)
		}
	})
}

// A receipt faster than the worker's own record of the send keeps its state.
func TestReceiptBeforeTheSendIsRecorded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acc := seed(t, s)
		for _, outcome := range []string{model.MessageDelivered, model.MessageFailed} {
			m := &store.MessageRow{OrgID: org, MaxAttempts: 3, Message: model.Message{AccountID: acc.ID, Channel: "sms", Kind: "activation",
				Gateway: "tw", Recipient: "+391", Body: "hi"}}
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
				t.Fatal(err)
			}
			if err := s.Tx(ctx, func(tx *store.Tx) error {
				claimed, err := tx.ClaimMessages(ctx, "a", time.Now(), time.Minute, 10)
				if err != nil || len(claimed) != 1 {
					return fmt.Errorf("claimed %d messages: %v", len(claimed), err)
				}
				if outcome == model.MessageDelivered {
					_, err = tx.MarkMessageDelivered(ctx, m.ID, "delivered", time.Now())
				} else {
					_, err = tx.MarkMessageUndelivered(ctx, m.ID, "undelivered", "30003 unreachable")
				}
				if err != nil {
					return err
				}
				return tx.MarkMessageSent(ctx, claimed[0].Claim(), "SM1", time.Now())
			}); err != nil {
				t.Fatal(err)
			}
			got, _ := s.MessageByID(ctx, m.ID)
			if got.State != outcome || got.ProviderID != "SM1" || (outcome == model.MessageFailed) != (got.LastError == "30003 unreachable") {
				t.Fatalf("%s receipt then sent: %+v", outcome, got.Message)
			}
		}
	})
}
