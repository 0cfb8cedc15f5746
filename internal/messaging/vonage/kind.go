package vonage

import (
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Kind is the Vonage (formerly Nexmo) SMS API gateway kind; "nexmo" is
// accepted for it.
var Kind = messaging.Kind{
	Name: "vonage", Aliases: []string{"nexmo"}, Channel: model.ChannelSMS,
	Help: "Vonage (Nexmo) SMS API (rest.nexmo.com/sms/json); the receipt URL is sent with each message",
	Keys: []model.GatewayKey{
		{Key: "api_key", Required: true, Help: "API key"},
		{Key: "api_secret", Required: true, Secret: true, Help: "API secret"},
		{Key: "from", Required: true, Help: "sender: a number (E.164) or up to 11 letters and digits"},
		messaging.BaseURLKey("https://rest.nexmo.com"), messaging.RateLimitKey(),
	},
	Receipts: messaging.ReceiptPerMessage,
	Check: func(s map[string]string) error {
		if !messaging.ValidSender(s["from"]) {
			return &messaging.SettingError{Key: "from", Msg: "a phone number or at most 11 letters and digits"}
		}
		return nil
	},
	New: func(name string, s map[string]string, o messaging.Options) (messaging.Gateway, error) {
		return New(name, s, o)
	},
	ParseReceipt: ParseReceipt,
}
