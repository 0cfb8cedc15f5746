// Package outbox is the gateway that sends nothing: it keeps every message
// in the database, where operators read it (activator outbox list). It is
// the default, so a new installation shows the whole flow without any
// provider account.
package outbox

import (
	"context"
	"fmt"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Name is the outbox gateway's name.
const Name = "outbox"

// Gateway keeps messages in the outbox table.
type Gateway struct {
	store *store.Store
	box   *secret.Box
}

// New returns the outbox gateway; box seals the whole texts it keeps.
func New(st *store.Store, box *secret.Box) *Gateway {
	return &Gateway{store: st, box: box}
}

// Name implements messaging.Gateway.
func (g *Gateway) Name() string { return Name }

// Send implements messaging.Gateway. The copy is kept in the message's own
// organisation, which the store reads from the message's row. The text is kept masked, and whole
// only sealed: the outbox is a database table, and a copy of the database
// must not be a pile of working links. Keeping the same message twice (a
// retry after a crash) keeps one copy.
func (g *Gateway) Send(ctx context.Context, m *model.Message) (string, error) {
	whole := messaging.Text{Body: m.Body, HTML: m.HTML}
	shown := whole.Masked()
	it := &model.OutboxItem{MessageID: m.ID, Channel: m.Channel, Recipient: m.Recipient, Subject: m.Subject, Body: shown.Body, HTML: shown.HTML}
	err := g.store.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.PutOutbox(ctx, it); err != nil {
			return err
		}
		return tx.SealOutboxText(ctx, m.ID, whole.Seal(g.box))
	})
	if err != nil {
		return "", fmt.Errorf("keeping the message in the outbox: %w", err)
	}
	return fmt.Sprintf("outbox-%d", m.ID), nil
}
