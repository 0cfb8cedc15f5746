package messaging

import (
	"errors"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// opened is the message as its recipient is to read it, for its send: the
// row holds its text masked, and its whole text sealed (text.go), which
// the claim returned with it and is opened here, at the last moment, with
// the worker's secret key. A message written with no sealed text (by an
// earlier version still running beside this one, or by a test) goes as it
// was stored.
func (w *Worker) opened(m *store.MessageRow) (*model.Message, error) {
	sealed := m.SealedText
	if sealed == nil {
		return &m.Message, nil
	}
	if w.cfg.Secrets == nil {
		return nil, errors.New("the message text is sealed and this worker was given no secret key")
	}
	// An error is temporary: an instance started with the wrong key must
	// not fail for good a message the others can open.
	t, err := OpenText(w.cfg.Secrets, sealed)
	if err != nil {
		return nil, err
	}
	out := m.Message
	out.Body, out.HTML = t.Body, t.HTML
	return &out, nil
}
