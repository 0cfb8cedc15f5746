package orange

import (
	"regexp"
	"strings"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Kind is the Orange SMS API gateway kind.
var Kind = messaging.Kind{
	Name: "orange", Channel: model.ChannelSMS,
	Help: "Orange SMS API (developer.orange.com); OAuth2 client-credentials token cached until it expires; receipts URL registered with Orange",
	Keys: []model.GatewayKey{
		{Key: "client_id", Required: true, Help: "application client id"},
		{Key: "client_secret", Required: true, Secret: true, Help: "application client secret"},
		{Key: "sender_address", Required: true, Help: "the sender number, country code first (e.g. 2250000 or +2250000)"},
		{Key: "sender_name", Help: "sender name approved by Orange (at most 11 characters)"},
		messaging.BaseURLKey("https://api.orange.com"), messaging.RateLimitKey(),
	},
	Receipts: messaging.ReceiptAtProvider,
	Check:    check,
	New: func(name string, s map[string]string, o messaging.Options) (messaging.Gateway, error) {
		return New(name, s, o)
	},
	ParseReceipt: ParseReceipt,
}

var digitsRe = regexp.MustCompile(`^[0-9]{3,15}$`)

func check(s map[string]string) error {
	if d := senderDigits(s["sender_address"]); !digitsRe.MatchString(d) {
		return &messaging.SettingError{Key: "sender_address", Msg: "the sender number with the country code first, as 2250000, +2250000 or tel:+2250000"}
	}
	if n := s["sender_name"]; len(n) > 11 {
		return &messaging.SettingError{Key: "sender_name", Msg: "at most 11 characters"}
	}
	return nil
}

// senderDigits reads an Orange sender address in any of the forms Orange's
// documentation writes it (2250000, +2250000, tel:+2250000) and returns its
// digits, country code first: one reading for validation and sending.
func senderDigits(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 4 && strings.EqualFold(v[:4], "tel:") {
		v = v[4:]
	}
	return strings.TrimPrefix(v, "+")
}
