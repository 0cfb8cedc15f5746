package model

import (
	"math"
	"strconv"
)

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
	SettingBrandLogoURL       = "brand_logo_url"
	SettingBrandColour        = "brand_colour"
	SettingITContact          = "it_contact"
)

// SettingDefs lists every setting in display order.
var SettingDefs = []SettingDef{
	{SettingPublicBaseURL, "", "Public base URL used in every link (https://activate.example.com). Empty: built from the listen address."},
	{SettingSIPDomain, "", "SIP domain of the accounts (user@domain), also the digest realm: a change re-hashes every account's digest. Empty: the public base URL's host."},
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
	{SettingCompanyName, "", "Company name shown on pages and in messages. Empty: the organisation's name."},
	{SettingUsernameDigits, "10", "Length of generated numeric usernames (6 to 18)."},
	{SettingBrandLogoURL, "", "Logo shown with the company name on the landing page and in e-mails: an https URL of an image, or a data:image/png;base64, or data:image/svg+xml;base64, URI of at most 64 KiB (pages only: mail clients block data URIs). Empty: no logo."},
	{SettingBrandColour, "", "Brand colour of the landing page's main button and accents, as #rrggbb; its text is white or black, whichever reads better. Empty: the default look."},
	{SettingITContact, "", "IT department's contact offered on the error pages of unusable links: an e-mail address or an https URL. Empty: the link's group's IT e-mail, when it has one."},
}

// BrandTextColour is the text colour that reads best on the brand colour
// bg (#rrggbb): black or white, by the WCAG contrast ratio. One of the two
// always reaches 4.5:1, so a button in any brand colour stays legible.
// A malformed colour gets white.
func BrandTextColour(bg string) string {
	if len(bg) != 7 || bg[0] != '#' {
		return "#ffffff"
	}
	var lum float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, err := strconv.ParseUint(bg[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return "#ffffff"
		}
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += w * c
	}
	// Contrast with black is (L+0.05)/0.05, with white 1.05/(L+0.05).
	if (lum+0.05)/0.05 >= 1.05/(lum+0.05) {
		return "#000000"
	}
	return "#ffffff"
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
