// Package provisioning renders what a device receives: the native
// configuration (model.DeviceConfig) and the signed activation file. Other
// client formats (Linphone's XML, ...) live beside them.
package provisioning

import (
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// ConfigInput is everything a configuration is built from.
type ConfigInput struct {
	BaseURL       string
	Username      string
	Password      string
	DisplayName   string
	VirtualNumber string
	SecurityModel model.SecurityModel
	SIPDomain     string
	SIPHost       string
	SIPPorts      map[string]int // by transport
	Transports    []string       // offered, in order of preference
	Profile       model.ProfileSettings
	IssuedAt      time.Time
}

// NativeConfig builds the native configuration. The security model's own
// transport comes first among the servers, so a client that takes the first
// entry registers the way its model asks.
func NativeConfig(in ConfigInput) model.DeviceConfig {
	mode := in.Profile.Security[in.SecurityModel]
	order := make([]string, 0, len(in.Transports))
	for _, t := range in.Transports {
		if t == mode.Transport {
			order = append(order, t)
		}
	}
	for _, t := range in.Transports {
		if t != mode.Transport {
			order = append(order, t)
		}
	}
	servers := make([]model.SIPServer, 0, len(order))
	for _, t := range order {
		servers = append(servers, model.SIPServer{Host: in.SIPHost, Port: in.SIPPorts[t], Transport: t})
	}
	return model.DeviceConfig{
		Version:  model.ProtocolVersion,
		IssuedAt: in.IssuedAt.UTC().Truncate(time.Second),
		Server:   model.ServerInfo{BaseURL: in.BaseURL, ConfigURL: in.BaseURL + "/api/v1/device/config"},
		Account: model.DeviceAccount{
			Username: in.Username, Password: in.Password, SIPDomain: in.SIPDomain,
			VirtualNumber: in.VirtualNumber, DisplayName: in.DisplayName,
		},
		SIP:      model.SIPConfig{Domain: in.SIPDomain, Realm: in.SIPDomain, Servers: servers},
		Security: model.SecurityConfig{Model: in.SecurityModel, SecurityMode: mode},
		Profile:  in.Profile,
	}
}
