// Package outbox is the gateway that sends nothing: it keeps every message
// in the database, where operators read it (activator outbox list). It is
// the default, so a new installation shows the whole flow without any
// provider account.
package outbox

import (
	"context"
	"fmt"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Name is the outbox gateway's name.
const Name = "outbox"

// Gateway keeps messages in the outbox table.
type Gateway struct {
	store *store.Store
	org   int64
}

// New returns the outbox gateway.
func New(st *store.Store) *Gateway { return &Gateway{store: st, org: model.DefaultOrgID} }

// Name implements messaging.Gateway.
func (g *Gateway) Name() string { return Name }

// Send implements messaging.Gateway. Keeping the same message twice (a
// retry after a crash) keeps one copy.
func (g *Gateway) Send(ctx context.Context, m *model.Message) (string, error) {
	it := &model.OutboxItem{MessageID: m.ID, Channel: m.Channel, Recipient: m.Recipient, Subject: m.Subject, Body: m.Body, HTML: m.HTML}
	err := g.store.Tx(ctx, func(tx *store.Tx) error { return tx.PutOutbox(ctx, g.org, it) })
	if err != nil {
		return "", fmt.Errorf("keeping the message in the outbox: %w", err)
	}
	return fmt.Sprintf("outbox-%d", m.ID), nil
}
