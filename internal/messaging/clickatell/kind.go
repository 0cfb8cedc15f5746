package clickatell

import (
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Kind is the Clickatell One API gateway kind.
var Kind = messaging.Kind{
	Name: "clickatell", Channel: model.ChannelSMS,
	Help: "Clickatell One API (platform.clickatell.com/v1/message); status callback URL set on the integration",
	Keys: []model.GatewayKey{
		{Key: "api_key", Required: true, Secret: true, Help: "the integration's API key"},
		{Key: "from", Help: "two-way number to send from (optional)"},
		messaging.BaseURLKey("https://platform.clickatell.com"), messaging.RateLimitKey(),
	},
	Receipts: messaging.ReceiptAtProvider,
	New: func(name string, s map[string]string, o messaging.Options) (messaging.Gateway, error) {
		return New(name, s, o)
	},
	ParseReceipt: ParseReceipt,
}
