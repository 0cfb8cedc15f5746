package model

import "time"

// ProtocolVersion is the version of the device contract (docs/protocol.md).
const ProtocolVersion = 1

// RedeemRequest is the body of POST /api/v1/device/activate.
type RedeemRequest struct {
	Token  string     `json:"token"`
	Device DeviceInfo `json:"device"`
}

// DeviceInfo is what a client says about itself when it redeems.
type DeviceInfo struct {
	ID         string `json:"id"`
	Platform   string `json:"platform"`
	Model      string `json:"model,omitempty"`
	AppVersion string `json:"app_version,omitempty"`
}

// RedeemResponse answers a successful redeem.
type RedeemResponse struct {
	DeviceCredential string       `json:"device_credential"`
	Config           DeviceConfig `json:"config"`
}

// DeviceConfig is everything a client needs to register and dial.
type DeviceConfig struct {
	Version  int             `json:"version"`
	IssuedAt time.Time       `json:"issued_at"`
	Server   ServerInfo      `json:"server"`
	Account  DeviceAccount   `json:"account"`
	SIP      SIPConfig       `json:"sip"`
	Security SecurityConfig  `json:"security"`
	Profile  ProfileSettings `json:"profile"`
}

// ServerInfo tells the client where activator is.
type ServerInfo struct {
	BaseURL   string `json:"base_url"`
	ConfigURL string `json:"config_url"`
}

// DeviceAccount is the SIP identity, password included.
type DeviceAccount struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	SIPDomain     string `json:"sip_domain"`
	VirtualNumber string `json:"virtual_number"`
	DisplayName   string `json:"display_name"`
}

// SIPConfig is where and how to register.
type SIPConfig struct {
	Domain  string      `json:"domain"`
	Realm   string      `json:"realm"`
	Servers []SIPServer `json:"servers"`
}

// SIPServer is one way to reach the SIP server, in order of preference.
type SIPServer struct {
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Transport string `json:"transport"`
}

// SecurityConfig is the account's security model and its settings.
type SecurityConfig struct {
	Model SecurityModel `json:"model"`
	SecurityMode
}

// KeysRevoked says what ending an account's devices did (deactivating one
// device, or revoking all of the account's keys).
type KeysRevoked struct {
	Devices       int  `json:"devices"`              // device credentials ended
	Registrations int  `json:"registrations"`        // SIP bindings dropped
	SIPPassword   bool `json:"sip_password_changed"` // false when the account was never activated
}
