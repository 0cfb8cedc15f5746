// Package model holds activator's entities and the vocabulary shared by the
// store, the domain and the web layer. The JSON tags are the API's wire format;
// secrets carry `json:"-"` so they cannot be listed. The reference client
// (package client) declares its own copies of the device contract's types,
// which other modules can name; its tests check they write the same JSON.
package model

import "time"

// DefaultOrgID is the organisation every row belongs to until several are
// exposed. The schema carries org_id everywhere so that day needs no rewrite.
const DefaultOrgID int64 = 1

// SecurityModel is how a client protects its media.
type SecurityModel string

const (
	// EndToEnd is ZRTP: users compare a spoken short authentication string.
	EndToEnd SecurityModel = "end-to-end"
	// EndToSite is SRTP with SDES keys over SIP/TLS and a strict certificate check.
	EndToSite SecurityModel = "end-to-site"
)

// SecurityModels lists every model in display order.
var SecurityModels = []SecurityModel{EndToEnd, EndToSite}

// Valid reports whether m is a known security model.
func (m SecurityModel) Valid() bool { return m == EndToEnd || m == EndToSite }

// Platforms lists the client platforms with download URLs, in display order.
var Platforms = []string{"android", "ios", "windows", "macos", "linux"}

// ValidPlatform reports whether p is a known platform.
func ValidPlatform(p string) bool {
	for _, q := range Platforms {
		if p == q {
			return true
		}
	}
	return false
}

// Languages lists the languages the pages and messages speak.
var Languages = []string{"en", "it", "de", "fr", "es"}

// ValidLanguage reports whether l is a supported language ("" means English).
func ValidLanguage(l string) bool {
	if l == "" {
		return true
	}
	for _, q := range Languages {
		if l == q {
			return true
		}
	}
	return false
}

// Group organises accounts; every account belongs to exactly one.
type Group struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	ITEmail   string    `json:"it_email,omitempty"`
	Profile   string    `json:"profile,omitempty"` // default profile name for the group's accounts
	CreatedAt time.Time `json:"created_at"`
}

// Profile is a reusable client configuration template.
type Profile struct {
	ID        int64           `json:"id"`
	Name      string          `json:"name"`
	IsDefault bool            `json:"is_default"`
	Settings  ProfileSettings `json:"settings"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// ProfileSettings is every field a provisioning profile hands to clients.
type ProfileSettings struct {
	CustomerServiceEmail string                         `json:"customer_service_email"`
	CustomerServicePhone string                         `json:"customer_service_phone"`
	Logging              string                         `json:"logging"` // off | errors | debug
	ReadOnlySettings     bool                           `json:"read_only_settings"`
	SecureMessaging      bool                           `json:"secure_messaging"`
	Privacy              Privacy                        `json:"privacy"`
	PIN                  PINPolicy                      `json:"pin"`
	OEMLicenceCode       string                         `json:"oem_licence_code"`
	KeepAliveSeconds     int                            `json:"keep_alive_seconds"`
	RTPObfuscation       string                         `json:"rtp_obfuscation"` // off | on
	Codecs               []string                       `json:"codecs"`
	Security             map[SecurityModel]SecurityMode `json:"security"`
	PlatformOptions      map[string]map[string]string   `json:"platform_options"`
}

// Privacy is what the user may change about their history.
type Privacy struct {
	UserMayEditHistorySize bool `json:"user_may_edit_history_size"`
	HistorySize            int  `json:"history_size"`
}

// PINPolicy is the client's lock screen policy.
type PINPolicy struct {
	Forced              bool `json:"forced"`
	AskAfterIdleMinutes int  `json:"ask_after_idle_minutes"`
	Attempts            int  `json:"attempts"`
	LockoutMinutes      int  `json:"lockout_minutes"`
}

// SecurityMode is the SIP and media settings for one security model.
type SecurityMode struct {
	Transport                string   `json:"transport"`        // tls | tcp | udp
	MediaEncryption          string   `json:"media_encryption"` // zrtp | srtp | none
	MediaEncryptionMandatory bool     `json:"media_encryption_mandatory"`
	SRTPSuites               []string `json:"srtp_suites,omitempty"`
	ZRTPSASTypes             []string `json:"zrtp_sas_types,omitempty"`
	VerifyServerCertificate  bool     `json:"verify_server_certificate"`
}

// DefaultProfileSettings is what the default profile starts with.
func DefaultProfileSettings() ProfileSettings {
	return ProfileSettings{
		CustomerServiceEmail: "support@example.com",
		Logging:              "errors",
		ReadOnlySettings:     true,
		SecureMessaging:      true,
		Privacy:              Privacy{UserMayEditHistorySize: true, HistorySize: 100},
		PIN:                  PINPolicy{Forced: false, AskAfterIdleMinutes: 10, Attempts: 5, LockoutMinutes: 1},
		KeepAliveSeconds:     30,
		RTPObfuscation:       "off",
		Codecs:               []string{"opus", "g722", "pcma", "pcmu"},
		Security: map[SecurityModel]SecurityMode{
			EndToEnd: {
				Transport: "tls", MediaEncryption: "zrtp", MediaEncryptionMandatory: true,
				ZRTPSASTypes: []string{"b32", "b256"}, VerifyServerCertificate: true,
			},
			EndToSite: {
				Transport: "tls", MediaEncryption: "srtp", MediaEncryptionMandatory: true,
				SRTPSuites:              []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"},
				VerifyServerCertificate: true,
			},
		},
		PlatformOptions: map[string]map[string]string{},
	}
}

// EffectiveProfile is the profile an account's client receives and where it came from.
type EffectiveProfile struct {
	Profile  string          `json:"profile"`
	Source   string          `json:"source"` // account | group | default
	Settings ProfileSettings `json:"settings"`
}

// AccountKind is how an account was made: by the wizard (automatic
// activation, CSV import included: the account stays disabled for SIP
// until a device redeems its link) or plain (set up by hand).
type AccountKind string

// Account kinds.
const (
	AccountWizard AccountKind = "wizard"
	AccountPlain  AccountKind = "plain"
)

// Account stages, in the order an activation moves through them.
const (
	StageNew       = "new"       // created, nothing sent
	StageInvited   = "invited"   // a link was issued and a message queued
	StageOpened    = "opened"    // the landing page was viewed
	StageInstalled = "installed" // the installation link was clicked
	StageActivated = "activated" // a device redeemed the link
)

// Stages lists the stages in order.
var Stages = []string{StageNew, StageInvited, StageOpened, StageInstalled, StageActivated}

// StatusDisabled is the status of an account an operator disabled.
const StatusDisabled = "disabled"

// Account is a VoIP account.
type Account struct {
	ID            int64         `json:"id"`
	Username      string        `json:"username"`
	DisplayName   string        `json:"name"`
	Group         string        `json:"group"`
	Email         string        `json:"email,omitempty"`
	Mobile        string        `json:"mobile,omitempty"`
	SecurityModel SecurityModel `json:"security_model"`
	Profile       string        `json:"profile,omitempty"` // the account's own profile, overriding its group's
	VirtualNumber string        `json:"virtual_number"`
	Language      string        `json:"language,omitempty"`
	Description   string        `json:"description,omitempty"`
	Kind          AccountKind   `json:"kind"`
	Stage         string        `json:"stage"`
	Disabled      bool          `json:"disabled"`
	Status        string        `json:"status"`      // Stage, or "disabled"
	SIPEnabled    bool          `json:"sip_enabled"` // may register: activated and not disabled
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	ActivatedAt   *time.Time    `json:"activated_at,omitempty"`
	// OneDevice binds the account to one device: while it has a live
	// device, a redeem from another device is refused.
	OneDevice bool `json:"one_device"`

	GroupID   int64  `json:"-"`
	ProfileID *int64 `json:"-"`
}

// Derive fills the fields computed from stage and disabled. A wizard account
// is not SIP-enabled until it is activated, and never while disabled.
func (a *Account) Derive() {
	a.Status = StatusOf(a.Stage, a.Disabled)
	a.SIPEnabled = !a.Disabled && a.Stage == StageActivated
}

// StatusOf derives the status shown to operators.
func StatusOf(stage string, disabled bool) string {
	if disabled {
		return StatusDisabled
	}
	return stage
}

// LinkKind is what a link leads to: the activation (the landing page
// offering the client and the activation file, which a device redeems) or
// the installation (the client's download only).
type LinkKind string

// Link kinds.
const (
	LinkActivation   LinkKind = "activation"
	LinkInstallation LinkKind = "installation"
)

// LinkKinds lists every link kind.
var LinkKinds = []LinkKind{LinkActivation, LinkInstallation}

// Valid reports whether k is a known link kind.
func (k LinkKind) Valid() bool { return k == LinkActivation || k == LinkInstallation }

// Channels a message goes out on.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Link is an issued secure link: what a user opens and a device redeems.
// Only the token's hash is stored. The API's JSON calls it an
// invitation ("invitations", "invitation", the OpenAPI schema Invitation),
// and so does its table.
type Link struct {
	ID          int64      `json:"id"`
	AccountID   int64      `json:"-"`
	Kind        LinkKind   `json:"kind"`
	Channel     string     `json:"channel"`
	TokenPrefix string     `json:"token_prefix"` // enough to recognise, never to use
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	RedeemedAt  *time.Time `json:"redeemed_at,omitempty"`
}

// Device is a client that redeemed a link.
type Device struct {
	ID               int64      `json:"id"`
	AccountID        int64      `json:"-"`
	DeviceID         string     `json:"device_id"`
	Platform         string     `json:"platform"`
	Model            string     `json:"model,omitempty"`
	AppVersion       string     `json:"app_version,omitempty"`
	CredentialPrefix string     `json:"credential_prefix"`
	CreatedAt        time.Time  `json:"created_at"`
	LastSeenAt       *time.Time `json:"last_seen_at,omitempty"`
	RevokedAt        *time.Time `json:"revoked_at,omitempty"`
}

// EventKind is what one line of an account's timeline records.
type EventKind string

// Event kinds: every kind of line an account's timeline has.
const (
	EventCreated            EventKind = "created"
	EventEdited             EventKind = "edited"
	EventLinkIssued         EventKind = "link_issued"
	EventMessageQueued      EventKind = "message_queued"
	EventMessageSent        EventKind = "message_sent"
	EventMessageFailed      EventKind = "message_failed"
	EventMessageDelivered   EventKind = "message_delivered"   // the provider's receipt said delivered
	EventMessageUndelivered EventKind = "message_undelivered" // the provider's receipt said it never will be
	EventOpened             EventKind = "opened"
	EventInstallClicked     EventKind = "installation_clicked"
	EventFileDownloaded     EventKind = "file_downloaded"
	EventActivated          EventKind = "activated"
	EventRefreshed          EventKind = "refreshed"
	EventLinkRevoked        EventKind = "link_revoked"
	EventDeviceRevoked      EventKind = "device_access_revoked"
	EventDeviceDeactivated  EventKind = "device_deactivated" // one device ended by an operator; the SIP password changed
	EventKeysRevoked        EventKind = "keys_revoked"       // every device ended by an operator; the SIP password changed
	EventDisabled           EventKind = "disabled"
	EventEnabled            EventKind = "enabled"
	EventRegistered         EventKind = "sip_registered"   // a new SIP binding
	EventUnregistered       EventKind = "sip_unregistered" // a SIP binding removed by its client
)

// Event is one line of an account's timeline. Detail never holds a secret.
type Event struct {
	ID     int64             `json:"id"`
	Kind   EventKind         `json:"kind"`
	At     time.Time         `json:"at"`
	Actor  string            `json:"actor,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
}

// MessageKind is what a message carries: a message sent with a link has
// its link's kind; a gateway's test message carries none.
type MessageKind string

// Message kinds.
const (
	MessageActivation   MessageKind = "activation"   // carries an activation link
	MessageInstallation MessageKind = "installation" // carries an installation link
	MessageTest         MessageKind = "test"         // a gateway's test message, with no link
)

// MessageKind is the kind of the message that carries a link of kind k.
func (k LinkKind) MessageKind() MessageKind { return MessageKind(k) }

// Message delivery states.
const (
	MessageQueued  = "queued"
	MessageSending = "sending"
	MessageSent    = "sent"
	MessageFailed  = "failed"
	// MessageDelivered: the provider's receipt said the message reached its recipient.
	MessageDelivered = "delivered"
)

// Message is one SMS or e-mail on its way through the delivery queue.
type Message struct {
	ID            int64       `json:"id"`
	AccountID     int64       `json:"-"`
	Username      string      `json:"username,omitempty"`
	LinkID        int64       `json:"-"` // the link it carries; 0 for a test message
	Channel       string      `json:"channel"`
	Kind          MessageKind `json:"kind"`
	Gateway       string      `json:"gateway"`
	Recipient     string      `json:"recipient"`
	Subject       string      `json:"subject,omitempty"`
	Body          string      `json:"-"` // holds the link: only the outbox viewer shows it
	HTML          string      `json:"-"`
	State         string      `json:"state"`
	Attempts      int         `json:"attempts"`
	LastError     string      `json:"last_error,omitempty"`
	ProviderID    string      `json:"provider_id,omitempty"`
	CreatedAt     time.Time   `json:"created_at"`
	NextAttemptAt time.Time   `json:"next_attempt_at"`
	SentAt        *time.Time  `json:"sent_at,omitempty"`
	DeliveredAt   *time.Time  `json:"delivered_at,omitempty"`   // when the provider's receipt said delivered
	ReceiptStatus string      `json:"receipt_status,omitempty"` // the provider's last delivery status, in its words
	Segments      int         `json:"segments,omitempty"`       // SMS: parts the text takes (GSM-7 or UCS-2)
}

// OutboxItem is a message the outbox gateway kept instead of sending.
type OutboxItem struct {
	ID        int64     `json:"id"`
	MessageID int64     `json:"message_id"`
	Channel   string    `json:"channel"`
	Recipient string    `json:"recipient"`
	Subject   string    `json:"subject,omitempty"`
	Body      string    `json:"body"`
	HTML      string    `json:"html,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// AppURL is a client download URL for a platform and, optionally, a security
// model; an empty model is the platform's fallback.
type AppURL struct {
	Platform      string        `json:"platform"`
	SecurityModel SecurityModel `json:"security_model,omitempty"`
	URL           string        `json:"url"`
}

// AccountDetail is everything an operator sees about one account.
type AccountDetail struct {
	Account          Account          `json:"account"`
	EffectiveProfile EffectiveProfile `json:"effective_profile"`
	Links            []Link           `json:"invitations"`
	Devices          []Device         `json:"devices"`
	Messages         []Message        `json:"messages"`
	Events           []Event          `json:"events"`
	Registrations    []Registration   `json:"registrations"` // live SIP bindings (sip.go)
}

// SendRequest asks for a secure link to be issued and sent.
type SendRequest struct {
	Channel string   `json:"channel"`
	Kind    LinkKind `json:"kind,omitempty"`    // activation (default) | installation
	Gateway string   `json:"gateway,omitempty"` // this message only: a configured gateway, overriding the routing
}

// SendResult is what sending queued.
type SendResult struct {
	Link    Link    `json:"invitation"`
	Message Message `json:"message"`
}

// AccountInput creates or edits an account. On edit, nil fields are left alone.
type AccountInput struct {
	Group         *string `json:"group,omitempty"`
	Name          *string `json:"name,omitempty"`
	Email         *string `json:"email,omitempty"`
	Mobile        *string `json:"mobile,omitempty"`
	SecurityModel *string `json:"security_model,omitempty"`
	Profile       *string `json:"profile,omitempty"`
	VirtualNumber *string `json:"virtual_number,omitempty"`
	Language      *string `json:"language,omitempty"`
	Description   *string `json:"description,omitempty"`
	// OneDevice binds the account to one device (Account.OneDevice).
	OneDevice *bool `json:"one_device,omitempty"`
}

// GroupInput creates or edits a group. On edit, nil fields are left alone.
type GroupInput struct {
	Name    *string `json:"name,omitempty"`
	ITEmail *string `json:"it_email,omitempty"`
	Profile *string `json:"profile,omitempty"`
}

// ErrorBody is every API error answer.
type ErrorBody struct {
	Error APIError `json:"error"`
}

// APIError names what went wrong, and the field when one was wrong.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}
