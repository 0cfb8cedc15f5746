package app

import (
	"testing"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Every registered kind is complete: a name no other kind answers to, a
// channel, a constructor, the shared rate_limit setting, and receipts
// described the way they are read.
func TestGatewayKindsAreWellFormed(t *testing.T) {
	names := map[string]string{}
	for _, k := range gatewayKinds() {
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			if n == "" || n == "outbox" {
				t.Errorf("kind %q: the name %q is not free", k.Name, n)
			}
			if other, ok := names[n]; ok {
				t.Errorf("kinds %s and %s both answer to %q", other, k.Name, n)
			}
			names[n] = k.Name
		}
		if k.Channel != model.ChannelSMS && k.Channel != model.ChannelEmail {
			t.Errorf("kind %s: channel %q", k.Name, k.Channel)
		}
		if k.New == nil || k.Help == "" {
			t.Errorf("kind %s: no constructor or no help", k.Name)
		}
		keys := map[string]bool{}
		for _, key := range k.Keys {
			if keys[key.Key] {
				t.Errorf("kind %s: setting %s listed twice", k.Name, key.Key)
			}
			keys[key.Key] = true
		}
		if !keys["rate_limit"] {
			t.Errorf("kind %s: no rate_limit setting", k.Name)
		}
		switch k.Receipts {
		case messaging.ReceiptPerMessage, messaging.ReceiptAtProvider:
			if k.ParseReceipt == nil {
				t.Errorf("kind %s: receipts %s, but no ParseReceipt", k.Name, k.Receipts)
			}
		case messaging.ReceiptNone:
			if k.ParseReceipt != nil || k.VerifyReceipt != nil {
				t.Errorf("kind %s: reads receipts, but says it has none", k.Name)
			}
		default:
			t.Errorf("kind %s: receipts %q", k.Name, k.Receipts)
		}
	}
}
