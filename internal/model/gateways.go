package model

import "time"

// Gateway is a configured message gateway as operators see it: secret
// settings are masked, never shown.
type Gateway struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name"`
	KindName   string            `json:"kind"`                  // the name of its kind (messaging.Kind)
	Channel    string            `json:"channel"`               // sms | email: what the kind carries
	DefaultFor string            `json:"default_for,omitempty"` // the channel it is the default of, if any
	Settings   map[string]string `json:"settings"`              // secrets masked as "********"
	Groups     []string          `json:"groups,omitempty"`      // groups whose messages on its channel go through it
	// ReceiptURL is where the provider sends delivery receipts. Configure it
	// at the provider when the kind cannot send it with each message.
	ReceiptURL string    `json:"receipt_url,omitempty"`
	ReceiptSet string    `json:"receipt_setup,omitempty"` // how the URL reaches the provider: per_message | at_provider
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// GatewayInput creates or edits a gateway. On edit, nil fields are left
// alone and Settings are merged key by key (an empty value removes a key).
type GatewayInput struct {
	Name       *string           `json:"name,omitempty"`
	KindName   *string           `json:"kind,omitempty"`
	DefaultFor *string           `json:"default_for,omitempty"` // sms | email | "" (not a default)
	Settings   map[string]string `json:"settings,omitempty"`
}

// GatewayKind describes a kind of gateway and its setting keys, as the
// API lists them (messaging.Kind.Spec).
type GatewayKind struct {
	Name    string       `json:"kind"`
	Aliases []string     `json:"aliases,omitempty"`
	Channel string       `json:"channel"`
	Help    string       `json:"help"`
	Keys    []GatewayKey `json:"keys"`
}

// GatewayKey is one setting of a gateway kind.
type GatewayKey struct {
	Key      string   `json:"key"`
	Help     string   `json:"help"`
	Required bool     `json:"required,omitempty"`
	Secret   bool     `json:"secret,omitempty"`
	Default  string   `json:"default,omitempty"`
	Values   []string `json:"values,omitempty"` // the allowed values, when there is a fixed set
}

// GatewayTestRequest asks a gateway to send a test message now.
type GatewayTestRequest struct {
	To string `json:"to"`
}

// GatewayTestResult is what the provider answered to a test message.
type GatewayTestResult struct {
	Gateway    string `json:"gateway"`
	To         string `json:"to"`
	OK         bool   `json:"ok"`
	ProviderID string `json:"provider_id,omitempty"`
	Error      string `json:"error,omitempty"`
	Permanent  bool   `json:"permanent,omitempty"` // the error is not worth retrying
	Segments   int    `json:"segments,omitempty"`
	Encoding   string `json:"encoding,omitempty"`
}

// GroupGatewayInput routes a group's messages on a channel through a gateway.
type GroupGatewayInput struct {
	Gateway string `json:"gateway"` // a configured gateway's name; "" removes the override
}

// GroupGateway is one group override.
type GroupGateway struct {
	Group   string `json:"group"`
	Channel string `json:"channel"`
	Gateway string `json:"gateway"`
}
