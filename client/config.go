package client

import "time"

// The types below are the device contract of docs/protocol.md as a Go client
// sees it. They belong to this package, not to the server's internal model, so
// that a client developer's module can name them; their JSON tags are the wire
// format, member for member (TestWireFormat checks they match the server's).
// Within protocol version 1 they only gain fields, as the JSON gains members.

// SecurityModel is how the client protects its media (protocol.md section 5,
// security.model).
type SecurityModel string

const (
	// EndToEnd is ZRTP: users compare a spoken short authentication string.
	EndToEnd SecurityModel = "end-to-end"
	// EndToSite is SRTP with SDES keys over SIP/TLS and a strict certificate check.
	EndToSite SecurityModel = "end-to-site"
)

// DeviceInfo is what the client says about itself when it redeems a link
// (the device member of the redeem request).
type DeviceInfo struct {
	// ID is a stable ID for this installation, the same on every redeem.
	ID string `json:"id"`
	// Platform is android, ios, windows, macos or linux.
	Platform string `json:"platform"`
	// Model is the device model or host name, for the operator's eyes.
	Model string `json:"model,omitempty"`
	// AppVersion is the client's name and version, e.g. privatewave/5.2.
	AppVersion string `json:"app_version,omitempty"`
}

// DeviceConfig is everything the device needs to register and dial: the
// answer of re-provisioning and the config member of the redeem answer.
type DeviceConfig struct {
	// Version is the protocol version, 1.
	Version int `json:"version"`
	// IssuedAt is when the server built this configuration.
	IssuedAt time.Time  `json:"issued_at"`
	Server   ServerInfo `json:"server"`
	Account  Account    `json:"account"`
	SIP      SIPConfig  `json:"sip"`
	Security Security   `json:"security"`
	Profile  Profile    `json:"profile"`
}

// ServerInfo says where activator is.
type ServerInfo struct {
	// BaseURL is activator's base URL.
	BaseURL string `json:"base_url"`
	// ConfigURL is the re-provisioning URL, BaseURL + ConfigPath.
	ConfigURL string `json:"config_url"`
}

// Account is the SIP identity, password included.
type Account struct {
	// Username and Password are the SIP digest credentials; the password
	// was generated at the last redeem.
	Username string `json:"username"`
	Password string `json:"password"`
	// SIPDomain is the domain of the SIP address, Username@SIPDomain.
	SIPDomain string `json:"sip_domain"`
	// VirtualNumber is the number others dial to reach this account; it is
	// shown as caller ID.
	VirtualNumber string `json:"virtual_number"`
	// DisplayName is the user's name.
	DisplayName string `json:"display_name"`
}

// SIPConfig is where and how to register.
type SIPConfig struct {
	// Domain is the SIP domain, Realm the digest realm to expect.
	Domain string `json:"domain"`
	Realm  string `json:"realm"`
	// Servers are where to register, in order of preference; the security
	// model's own transport comes first.
	Servers []SIPServer `json:"servers"`
}

// SIPServer is one way to reach the SIP server.
type SIPServer struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	// Transport is tls, tcp or udp.
	Transport string `json:"transport"`
}

// Security is the account's security model and that model's settings.
type Security struct {
	Model SecurityModel `json:"model"`
	SecurityMode
}

// SecurityMode is the SIP and media settings of one security model.
type SecurityMode struct {
	// Transport is tls, tcp or udp.
	Transport string `json:"transport"`
	// MediaEncryption is zrtp, srtp or none.
	MediaEncryption          string `json:"media_encryption"`
	MediaEncryptionMandatory bool   `json:"media_encryption_mandatory"`
	// SRTPSuites are the SRTP crypto suites to offer, in order (end-to-site).
	SRTPSuites []string `json:"srtp_suites,omitempty"`
	// ZRTPSASTypes are the short authentication string renderings (end-to-end).
	ZRTPSASTypes            []string `json:"zrtp_sas_types,omitempty"`
	VerifyServerCertificate bool     `json:"verify_server_certificate"`
}

// Profile is the provisioning profile's settings for the client. With
// ReadOnlySettings, the user cannot edit the provisioned values.
type Profile struct {
	// CustomerServiceEmail receives the client's logs and complaints.
	CustomerServiceEmail string `json:"customer_service_email"`
	CustomerServicePhone string `json:"customer_service_phone"`
	// Logging is off, errors or debug.
	Logging          string    `json:"logging"`
	ReadOnlySettings bool      `json:"read_only_settings"`
	SecureMessaging  bool      `json:"secure_messaging"`
	Privacy          Privacy   `json:"privacy"`
	PIN              PINPolicy `json:"pin"`
	OEMLicenceCode   string    `json:"oem_licence_code"`
	KeepAliveSeconds int       `json:"keep_alive_seconds"`
	// RTPObfuscation is off or on.
	RTPObfuscation string `json:"rtp_obfuscation"`
	// Codecs are the audio codecs to offer, in order.
	Codecs []string `json:"codecs"`
	// Security holds the settings of every security model, by model.
	Security map[SecurityModel]SecurityMode `json:"security"`
	// PlatformOptions are per-platform options: platform, then option name.
	PlatformOptions map[string]map[string]string `json:"platform_options"`
}

// Privacy is what the user may change about their call history.
type Privacy struct {
	UserMayEditHistorySize bool `json:"user_may_edit_history_size"`
	HistorySize            int  `json:"history_size"`
}

// PINPolicy is the client's lock screen policy.
type PINPolicy struct {
	// Forced means the user must set a PIN.
	Forced bool `json:"forced"`
	// AskAfterIdleMinutes is how long the app may be idle before it asks again.
	AskAfterIdleMinutes int `json:"ask_after_idle_minutes"`
	// Attempts is how many wrong PINs lock the app, for LockoutMinutes.
	Attempts       int `json:"attempts"`
	LockoutMinutes int `json:"lockout_minutes"`
}

// redeemRequest is the body of POST ActivatePath.
type redeemRequest struct {
	Token  string     `json:"token"`
	Device DeviceInfo `json:"device"`
}

// redeemResponse answers a successful redeem.
type redeemResponse struct {
	DeviceCredential string       `json:"device_credential"`
	Config           DeviceConfig `json:"config"`
}

// errorBody is every error answer of the server.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}
