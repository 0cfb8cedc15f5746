package activation

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// ErrReceiptRefused answers a receipt callback that does not authenticate:
// a wrong key in the URL, or a bad provider signature.
var ErrReceiptRefused = &Error{Kind: KindForbidden, Code: "receipt_refused", Message: "this callback is not authenticated"}

// ReceiptResult says what a receipt callback changed.
type ReceiptResult struct {
	Applied int // messages whose state or status changed
	Unknown int // receipts naming no message of this gateway
}

// ApplyReceipt authenticates a provider's delivery receipt callback and
// moves the messages it names to delivered or failed. requestURI is the
// path and query the callback was sent to (Twilio signs the full URL).
// The callback names its gateway, and its key says whose: the
// organisation is the gateway's.
func (s *Gateways) ApplyReceipt(ctx context.Context, gateway, key, requestURI string, r messaging.ReceiptRequest) (*ReceiptResult, error) {
	row, settings, err := s.receiptGateway(ctx, gateway, key)
	if err != nil {
		return nil, err
	}
	spec, ok := s.kinds.Find(row.KindName)
	if !ok || spec.ParseReceipt == nil {
		return nil, notFound("no_receipts", "%s gateways have no delivery receipts", row.KindName)
	}
	if spec.VerifyReceipt != nil {
		st, err := s.settings.Current(ctx, row.OrgID)
		if err != nil {
			return nil, err
		}
		r.URL = st.BaseURL + requestURI
		if !spec.VerifyReceipt(spec.WithDefaults(settings), r) {
			s.log.WarnContext(ctx, "receipt refused: bad provider signature", "gateway", gateway, "kind", row.KindName)
			return nil, ErrReceiptRefused
		}
	}
	updates, err := spec.ParseReceipt(r)
	if err != nil {
		return nil, invalid("body", "%s", err.Error())
	}
	res := &ReceiptResult{}
	now := s.now().UTC().Truncate(time.Millisecond)
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		for _, u := range updates {
			u = u.Bounded()
			t, err := receiptTarget(ctx, &tx.Reader, row, u)
			if errors.Is(err, store.ErrNotFound) {
				res.Unknown++
				continue
			}
			if err != nil {
				return err
			}
			changed, kind := false, model.EventKind("")
			detail := map[string]string{"message_id": strconv.FormatInt(t.ID, 10), "channel": t.Channel, "status": u.Status}
			switch u.Outcome {
			case messaging.OutcomeDelivered:
				changed, err = tx.MarkMessageDelivered(ctx, t.ID, u.Status, now)
				kind = model.EventMessageDelivered
			case messaging.OutcomeFailed:
				changed, err = tx.MarkMessageUndelivered(ctx, t.ID, u.Status, u.Reason)
				kind, detail["error"] = model.EventMessageUndelivered, u.Reason
			default:
				err = tx.SetReceiptStatus(ctx, t.ID, u.Status)
				changed = true
			}
			if err != nil {
				return fmt.Errorf("applying a receipt: %w", err)
			}
			if changed {
				res.Applied++
			}
			if changed && kind != "" && t.AccountID != 0 {
				if err := tx.AddEvent(ctx, t.OrgID, t.AccountID, kind, "", detail); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "delivery receipt", "gateway", gateway, "applied", res.Applied, "unknown", res.Unknown)
	return res, nil
}

// receiptGateway finds the gateway a receipt callback names whose receipt
// key it holds, with its settings; any other callback is refused.
func (s *Gateways) receiptGateway(ctx context.Context, name, key string) (*store.GatewayRow, map[string]string, error) {
	rows, err := s.store.GatewaysNamed(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	for i := range rows {
		settings, want, err := s.openGateway(&rows[i])
		if err != nil {
			return nil, nil, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(key)) == 1 {
			return &rows[i], settings, nil
		}
	}
	if len(rows) > 0 {
		s.log.WarnContext(ctx, "receipt refused: wrong key", "gateway", name)
	}
	return nil, nil, ErrReceiptRefused
}

// receiptTarget finds the message of gateway g a receipt speaks of: by the
// id in its URL, else by the provider's id, else the newest sent to its number.
func receiptTarget(ctx context.Context, r *store.Reader, g *store.GatewayRow, u messaging.ReceiptUpdate) (*store.ReceiptTarget, error) {
	gateway := g.Name
	if u.MessageID != 0 {
		t, err := r.MessageOfGateway(ctx, g.OrgID, gateway, u.MessageID)
		if err == nil && (u.ProviderID == "" || t.ProviderID == "" || t.ProviderID == u.ProviderID) {
			return t, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if u.ProviderID != "" {
		return r.MessageByProviderID(ctx, g.OrgID, gateway, u.ProviderID)
	}
	if u.Recipient != "" && u.Recipient != "+" {
		return r.LatestSentTo(ctx, g.OrgID, gateway, u.Recipient)
	}
	return nil, store.ErrNotFound
}
