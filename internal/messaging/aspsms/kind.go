package aspsms

import (
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Kind is the ASPSMS gateway kind.
var Kind = messaging.Kind{
	Name: "aspsms", Channel: model.ChannelSMS,
	Help: "ASPSMS JSON API (SendTextSMS); delivery notification URLs are sent with each message",
	Keys: []model.GatewayKey{
		{Key: "userkey", Required: true, Secret: true, Help: "ASPSMS userkey"},
		{Key: "password", Required: true, Secret: true, Help: "ASPSMS API password"},
		{Key: "originator", Required: true, Help: "sender: an unlocked phone number or up to 11 letters and digits"},
		messaging.BaseURLKey("https://json.aspsms.com"), messaging.RateLimitKey(),
	},
	Receipts: messaging.ReceiptPerMessage,
	Check: func(s map[string]string) error {
		if !messaging.ValidSender(s["originator"]) {
			return &messaging.SettingError{Key: "originator", Msg: "a phone number or at most 11 letters and digits"}
		}
		return nil
	},
	New: func(name string, s map[string]string, o messaging.Options) (messaging.Gateway, error) {
		return New(name, s, o)
	},
	ParseReceipt: ParseReceipt,
}
