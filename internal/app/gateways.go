package app

import (
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/aspsms"
	"github.com/activator-voip/activator/internal/messaging/clickatell"
	"github.com/activator-voip/activator/internal/messaging/orange"
	"github.com/activator-voip/activator/internal/messaging/smtp"
	"github.com/activator-voip/activator/internal/messaging/twilio"
	"github.com/activator-voip/activator/internal/messaging/vonage"
)

// gatewayKinds are the kinds of gateway an administrator can configure, in
// the order `activator gateway kinds` lists them. A new provider is a
// package under internal/messaging exporting its messaging.Kind, and one
// line here.
func gatewayKinds() messaging.Kinds {
	return messaging.Kinds{
		smtp.Kind,
		smtp.GMailKind,
		aspsms.Kind,
		orange.Kind,
		clickatell.Kind,
		vonage.Kind,
		twilio.Kind,
	}
}
