package model

import "time"

// Registration is one SIP binding of an account: where its client can be
// reached, learnt from a REGISTER.
type Registration struct {
	ID        int64     `json:"id"`
	AccountID int64     `json:"-"`
	Username  string    `json:"username"`
	Contact   string    `json:"contact"`   // the Contact URI the client registered
	Transport string    `json:"transport"` // udp | tcp | tls: how the REGISTER arrived
	Source    string    `json:"source"`    // host:port the REGISTER came from
	UserAgent string    `json:"user_agent,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Account backends: where SIP accounts live.
const (
	BackendEmbedded = "embedded" // activator's own registrar and proxy
	BackendKamailio = "kamailio" // subscriber rows in Kamailio's database
)

// LinphoneProvisioning answers the "Open in Linphone" redeem: the
// provisioning URL is a device credential, shown once.
type LinphoneProvisioning struct {
	URL       string    `json:"url"`        // https URL Linphone fetches its configuration from
	ConfigURI string    `json:"config_uri"` // linphone-config:URL, opens the app where one is installed
	FetchBy   time.Time `json:"fetch_by"`   // the URL dies unless first fetched before this
}
