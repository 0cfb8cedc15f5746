package twilio

import (
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Kind is the Twilio Messages API gateway kind. Its status callbacks must
// carry a valid X-Twilio-Signature as well as the receipt URL's key.
var Kind = messaging.Kind{
	Name: "twilio", Channel: model.ChannelSMS,
	Help: "Twilio Messages API; StatusCallback sent with each message and checked by its X-Twilio-Signature",
	Keys: []model.GatewayKey{
		{Key: "account_sid", Required: true, Help: "Account SID (AC...)"},
		{Key: "auth_token", Required: true, Secret: true, Help: "auth token; also signs the status callbacks"},
		{Key: "from", Help: "a Twilio number (E.164), alphanumeric sender or short code"},
		{Key: "messaging_service_sid", Help: "a Messaging Service SID (MG...), instead of from"},
		messaging.BaseURLKey("https://api.twilio.com"), messaging.RateLimitKey(),
	},
	Receipts: messaging.ReceiptPerMessage,
	Check: func(s map[string]string) error {
		if (s["from"] == "") == (s["messaging_service_sid"] == "") {
			return &messaging.SettingError{Key: "from", Msg: "give either from or messaging_service_sid"}
		}
		return nil
	},
	New: func(name string, s map[string]string, o messaging.Options) (messaging.Gateway, error) {
		return New(name, s, o)
	},
	ParseReceipt: ParseReceipt,
	VerifyReceipt: func(s map[string]string, r messaging.ReceiptRequest) bool {
		return CheckSignature(s["auth_token"], r.URL, r.Form, r.Header.Get("X-Twilio-Signature"))
	},
}
