package activation

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// clearTextBatch is how many texts kept in clear one transaction seals.
const clearTextBatch = 200

// SealClearTexts seals and masks the message texts earlier versions kept
// in clear, links and all, in messages and in the outbox: each is kept
// masked, and whole only sealed with box (messaging.Text), as this
// version writes them. A migration cannot do it: the database has no key.
// internal/app runs it at every start, before the delivery worker; once
// done it finds nothing, through an index, and costs one query per table.
// When it did seal something, it compacts the database (store.Compact), so
// the clear texts are not left behind in an SQLite file's free pages.
func SealClearTexts(ctx context.Context, st *store.Store, box *secret.Box, log *slog.Logger) error {
	sealed := 0
	tables := []struct {
		name string
		list func(context.Context, int) ([]store.ClearText, error)
		mask func(*store.Tx, context.Context, int64, string, string, []byte) error
	}{
		{"messages", st.ClearMessageTexts, (*store.Tx).MaskMessageText},
		{"outbox", st.ClearOutboxTexts, (*store.Tx).MaskOutboxText},
	}
	for _, tb := range tables {
		total := 0
		for {
			batch, err := tb.list(ctx, clearTextBatch)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				break
			}
			err = st.Tx(ctx, func(tx *store.Tx) error {
				for _, c := range batch {
					whole := messaging.Text{Body: c.Body, HTML: c.HTML}
					shown := whole.Masked()
					if err := tb.mask(tx, ctx, c.ID, shown.Body, shown.HTML, whole.Seal(box)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("sealing the %s texts kept in clear: %w", tb.name, err)
			}
			total += len(batch)
		}
		if total > 0 {
			log.Info("sealed the message texts an earlier version kept in clear", "table", tb.name, "count", total)
		}
		sealed += total
	}
	if sealed == 0 {
		return nil
	}
	return st.Compact(ctx)
}
