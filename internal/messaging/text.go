package messaging

import (
	"encoding/json"
	"fmt"

	"github.com/activator-voip/activator/internal/secret"
)

// Text is the part of a message that carries its link: the body and the
// HTML alternative. At rest it is kept twice (internal/store,
// message_text.go): Masked, in clear, for listings and views; whole,
// sealed with the secret key, for the send and for an admin's view of a
// live link. A copy of the database is then no way into an account.
type Text struct {
	Body string `json:"body"`
	HTML string `json:"html,omitempty"`
}

// Masked is the text with every link token masked, as it is kept in clear.
func (t Text) Masked() Text {
	return Text{Body: secret.MaskLinks(t.Body), HTML: secret.MaskLinks(t.HTML)}
}

// Seal seals the whole text with box, for keeping at rest.
func (t Text) Seal(box *secret.Box) []byte {
	b, err := json.Marshal(t)
	if err != nil {
		panic(fmt.Sprintf("encoding a message text: %v", err)) // two strings always encode
	}
	return box.Seal(b)
}

// OpenText opens a text Seal sealed.
func OpenText(box *secret.Box, sealed []byte) (Text, error) {
	plain, err := box.Open(sealed)
	if err != nil {
		return Text{}, fmt.Errorf("opening the message text: %w", err)
	}
	var t Text
	if err := json.Unmarshal(plain, &t); err != nil {
		return Text{}, fmt.Errorf("opening the message text: %w", err)
	}
	return t, nil
}
