package model

// Setting is one hostname or behaviour setting an administrator can change.
type Setting struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Default string `json:"default"`
	Help    string `json:"help"`
}

// SettingDef describes a setting key: its default and what it means. The
// domain validates values; this table is the single list of keys.
type SettingDef struct {
	Key     string
	Default string
	Help    string
}

// Setting keys.
const (
	SettingPublicBaseURL      = "public_base_url"
	SettingSIPDomain          = "sip_domain"
	SettingSIPHost            = "sip_host"
	SettingSIPUDPPort         = "sip_udp_port"
	SettingSIPTCPPort         = "sip_tcp_port"
	SettingSIPTLSPort         = "sip_tls_port"
	SettingSIPTransports      = "sip_transports"
	SettingLinkExpiry         = "link_expiry"
	SettingActivationMIMEType = "activation_mime_type"
	SettingActivationFileExt  = "activation_file_extension"
	SettingPhoneRegion        = "phone_default_region"
	SettingVirtualNumberRange = "virtual_number_range"
	SettingCompanyName        = "company_name"
	SettingUsernameDigits     = "username_digits"
)

// SettingDefs lists every setting in display order.
var SettingDefs = []SettingDef{
	{SettingPublicBaseURL, "", "Public base URL used in every link (https://activate.example.com). Empty: built from the listen address."},
	{SettingSIPDomain, "", "SIP domain of the accounts (user@domain). Empty: the public base URL's host."},
	{SettingSIPHost, "", "SIP server host given to clients. Empty: the SIP domain."},
	{SettingSIPUDPPort, "5060", "SIP UDP port given to clients."},
	{SettingSIPTCPPort, "5060", "SIP TCP port given to clients."},
	{SettingSIPTLSPort, "5061", "SIP TLS port given to clients."},
	{SettingSIPTransports, "tls,tcp,udp", "Transports offered to clients, in order of preference (tls, tcp, udp)."},
	{SettingLinkExpiry, "168h", "How long a secure link stays valid (Go duration: 168h, 72h, 30m)."},
	{SettingActivationMIMEType, "application/vnd.activator.activation+json", "MIME type of the activation file; the client registers for it."},
	{SettingActivationFileExt, "activation", "File name extension of the activation file (without the dot)."},
	{SettingPhoneRegion, "IT", "Region (ISO 3166 code) for mobile numbers given without a country code."},
	{SettingVirtualNumberRange, "10000000-99999999", "Range virtual numbers are drawn from when none is given (FROM-TO, same length); a warning comes at 80% used."},
	{SettingCompanyName, "activator", "Company name shown on pages and in messages."},
	{SettingUsernameDigits, "10", "Length of generated numeric usernames (6 to 18)."},
}

// SettingDefault returns the default value of key and whether key is known.
func SettingDefault(key string) (string, bool) {
	for _, d := range SettingDefs {
		if d.Key == key {
			return d.Default, true
		}
	}
	return "", false
}
