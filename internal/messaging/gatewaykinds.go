package messaging

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// Receipt setups: how a kind's delivery receipt URL reaches the provider.
const (
	ReceiptPerMessage = "per_message" // sent with each message
	ReceiptAtProvider = "at_provider" // configured once in the provider's console
	ReceiptNone       = ""            // the channel has no receipts (e-mail)
)

// KindSpec is a gateway kind: its channel, its setting keys and how its
// receipts are set up.
type KindSpec struct {
	model.GatewayKind
	Receipts string
}

// Secret marks a setting shown masked.
const Masked = "********"

var rateKey = model.GatewayKey{Key: "rate_limit", Help: "most messages per second sent through this gateway by one instance (empty: no limit)"}

func baseURL(def string) model.GatewayKey {
	return model.GatewayKey{Key: "base_url", Default: def, Help: "the provider's API endpoint; change it for a regional endpoint or a test server"}
}

var kindSpecs = []KindSpec{
	{GatewayKind: model.GatewayKind{Kind: "smtp", Channel: model.ChannelEmail,
		Help: "any SMTP server: plain (no TLS, no AUTH), STARTTLS or implicit TLS, AUTH PLAIN, LOGIN or XOAUTH2",
		Keys: []model.GatewayKey{
			{Key: "host", Required: true, Help: "SMTP server host name"},
			{Key: "port", Help: "SMTP port (default: 25 with tls=none, 587 with starttls, 465 with implicit)"},
			{Key: "tls", Default: "starttls", Values: []string{"none", "starttls", "implicit"}, Help: "none: never TLS (and never STARTTLS); starttls: upgrade, refuse a server without it; implicit: TLS from the first byte"},
			{Key: "auth", Default: "none", Values: []string{"none", "plain", "login", "xoauth2"}, Help: "SMTP authentication; none never sends AUTH"},
			{Key: "username", Help: "user name for AUTH"},
			{Key: "password", Secret: true, Help: "password for AUTH PLAIN or LOGIN"},
			{Key: "oauth_token", Secret: true, Help: "XOAUTH2 access token (or the oauth_* refresh keys)"},
			{Key: "oauth_client_id", Help: "XOAUTH2: OAuth2 client id, to refresh access tokens"},
			{Key: "oauth_client_secret", Secret: true, Help: "XOAUTH2: OAuth2 client secret"},
			{Key: "oauth_refresh_token", Secret: true, Help: "XOAUTH2: refresh token; access tokens are fetched and cached until they expire"},
			{Key: "oauth_token_url", Help: "XOAUTH2: the OAuth2 token endpoint"},
			{Key: "from", Required: true, Help: "sender address, e.g. \"ACME IT <it@example.com>\""},
			{Key: "helo", Help: "name given in EHLO (default: localhost)"},
			{Key: "tls_ca_file", Help: "PEM file of the CA that signed the server's certificate, for a private CA (default: the system's roots)"},
			rateKey,
		}}, Receipts: ReceiptNone},
	{GatewayKind: model.GatewayKind{Kind: "gmail", Channel: model.ChannelEmail,
		Help: "a GMail or Google Workspace account over SMTP submission (STARTTLS on 587), with an app password or XOAUTH2",
		Keys: []model.GatewayKey{
			{Key: "username", Required: true, Help: "the full GMail address"},
			{Key: "app_password", Secret: true, Help: "a 16-character app password (needs 2-Step Verification)"},
			{Key: "oauth_token", Secret: true, Help: "XOAUTH2 access token (scope https://mail.google.com/)"},
			{Key: "oauth_client_id", Help: "XOAUTH2: OAuth2 client id, to refresh access tokens"},
			{Key: "oauth_client_secret", Secret: true, Help: "XOAUTH2: OAuth2 client secret"},
			{Key: "oauth_refresh_token", Secret: true, Help: "XOAUTH2: refresh token; access tokens are fetched and cached until they expire"},
			{Key: "oauth_token_url", Default: "https://oauth2.googleapis.com/token", Help: "XOAUTH2: the OAuth2 token endpoint"},
			{Key: "from", Help: "sender (default: username)"},
			{Key: "host", Default: "smtp.gmail.com", Help: "SMTP host"},
			{Key: "port", Default: "587", Help: "587 (STARTTLS) or 465 (implicit TLS)"},
			rateKey,
		}}, Receipts: ReceiptNone},
	{GatewayKind: model.GatewayKind{Kind: "aspsms", Channel: model.ChannelSMS,
		Help: "ASPSMS JSON API (SendTextSMS); delivery notification URLs are sent with each message",
		Keys: []model.GatewayKey{
			{Key: "userkey", Required: true, Secret: true, Help: "ASPSMS userkey"},
			{Key: "password", Required: true, Secret: true, Help: "ASPSMS API password"},
			{Key: "originator", Required: true, Help: "sender: an unlocked phone number or up to 11 letters and digits"},
			baseURL("https://json.aspsms.com"), rateKey,
		}}, Receipts: ReceiptPerMessage},
	{GatewayKind: model.GatewayKind{Kind: "orange", Channel: model.ChannelSMS,
		Help: "Orange SMS API (developer.orange.com); OAuth2 client-credentials token cached until it expires; receipts URL registered with Orange",
		Keys: []model.GatewayKey{
			{Key: "client_id", Required: true, Help: "application client id"},
			{Key: "client_secret", Required: true, Secret: true, Help: "application client secret"},
			{Key: "sender_address", Required: true, Help: "the sender number, country code first (e.g. 2250000 or +2250000)"},
			{Key: "sender_name", Help: "sender name approved by Orange (at most 11 characters)"},
			baseURL("https://api.orange.com"), rateKey,
		}}, Receipts: ReceiptAtProvider},
	{GatewayKind: model.GatewayKind{Kind: "clickatell", Channel: model.ChannelSMS,
		Help: "Clickatell One API (platform.clickatell.com/v1/message); status callback URL set on the integration",
		Keys: []model.GatewayKey{
			{Key: "api_key", Required: true, Secret: true, Help: "the integration's API key"},
			{Key: "from", Help: "two-way number to send from (optional)"},
			baseURL("https://platform.clickatell.com"), rateKey,
		}}, Receipts: ReceiptAtProvider},
	{GatewayKind: model.GatewayKind{Kind: "vonage", Aliases: []string{"nexmo"}, Channel: model.ChannelSMS,
		Help: "Vonage (Nexmo) SMS API (rest.nexmo.com/sms/json); the receipt URL is sent with each message",
		Keys: []model.GatewayKey{
			{Key: "api_key", Required: true, Help: "API key"},
			{Key: "api_secret", Required: true, Secret: true, Help: "API secret"},
			{Key: "from", Required: true, Help: "sender: a number (E.164) or up to 11 letters and digits"},
			baseURL("https://rest.nexmo.com"), rateKey,
		}}, Receipts: ReceiptPerMessage},
	{GatewayKind: model.GatewayKind{Kind: "twilio", Channel: model.ChannelSMS,
		Help: "Twilio Messages API; StatusCallback sent with each message and checked by its X-Twilio-Signature",
		Keys: []model.GatewayKey{
			{Key: "account_sid", Required: true, Help: "Account SID (AC...)"},
			{Key: "auth_token", Required: true, Secret: true, Help: "auth token; also signs the status callbacks"},
			{Key: "from", Help: "a Twilio number (E.164), alphanumeric sender or short code"},
			{Key: "messaging_service_sid", Help: "a Messaging Service SID (MG...), instead of from"},
			baseURL("https://api.twilio.com"), rateKey,
		}}, Receipts: ReceiptPerMessage},
}

// Kinds lists every configurable gateway kind.
func Kinds() []KindSpec { return kindSpecs }

// FindKind finds a kind by name or alias.
func FindKind(kind string) (KindSpec, bool) {
	for _, k := range kindSpecs {
		if k.Kind == kind || slices.Contains(k.Aliases, kind) {
			return k, true
		}
	}
	return KindSpec{}, false
}

// SettingError names the setting at fault.
type SettingError struct {
	Key, Msg string
}

func (e *SettingError) Error() string { return e.Key + ": " + e.Msg }

var senderIDRe = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)

// Validate checks a kind's settings: known keys, required ones, allowed
// values, URLs, numbers and the rules between keys. Messages name the key and
// never repeat a secret's value.
func (k KindSpec) Validate(s map[string]string) error {
	for key, v := range s {
		spec, ok := k.key(key)
		if !ok {
			var names []string
			for _, ks := range k.Keys {
				names = append(names, ks.Key)
			}
			return &SettingError{key, fmt.Sprintf("unknown setting of %s gateways; known: %s", k.Kind, strings.Join(names, ", "))}
		}
		if len(v) > 4000 || strings.ContainsAny(v, "\r\n\x00") {
			return &SettingError{key, "at most 4000 characters on one line"}
		}
		if len(spec.Values) > 0 && !slices.Contains(spec.Values, v) {
			return &SettingError{key, fmt.Sprintf("want one of %s", strings.Join(spec.Values, ", "))}
		}
	}
	for _, ks := range k.Keys {
		if ks.Required && strings.TrimSpace(s[ks.Key]) == "" {
			return &SettingError{ks.Key, "required: " + ks.Help}
		}
	}
	if v := s["base_url"]; v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return &SettingError{"base_url", "want an http(s) URL such as https://api.example.com"}
		}
	}
	if v := s["port"]; v != "" {
		if p, err := strconv.Atoi(v); err != nil || p < 1 || p > 65535 {
			return &SettingError{"port", "want a port number from 1 to 65535"}
		}
	}
	if v := s["rate_limit"]; v != "" {
		if r, err := strconv.ParseFloat(v, 64); err != nil || r <= 0 || r > 10000 {
			return &SettingError{"rate_limit", "want messages per second, a number above 0 and at most 10000"}
		}
	}
	get := func(key string) string { return k.Setting(s, key) }
	switch k.Kind {
	case "smtp":
		if _, err := mail.ParseAddress(s["from"]); err != nil {
			return &SettingError{"from", "an e-mail address, such as \"ACME IT <it@example.com>\""}
		}
		auth, tlsMode := get("auth"), get("tls")
		if auth != "none" && tlsMode == "none" {
			return &SettingError{"auth", "AUTH over a connection without TLS would send the credentials in clear; use tls=starttls or implicit"}
		}
		if (auth == "plain" || auth == "login") && (s["username"] == "" || s["password"] == "") {
			return &SettingError{"password", "auth " + auth + " needs username and password"}
		}
		if auth == "xoauth2" && (s["username"] == "" || !hasOAuth(s)) {
			return &SettingError{"oauth_token", "auth xoauth2 needs username and oauth_token, or oauth_client_id, oauth_client_secret, oauth_refresh_token and oauth_token_url"}
		}
	case "gmail":
		if _, err := mail.ParseAddress(s["username"]); err != nil {
			return &SettingError{"username", "the full GMail address, such as it@example.com"}
		}
		if v := s["from"]; v != "" {
			if _, err := mail.ParseAddress(v); err != nil {
				return &SettingError{"from", "an e-mail address, such as \"ACME IT <it@example.com>\""}
			}
		}
		if s["app_password"] == "" && !hasOAuth(s) {
			return &SettingError{"app_password", "give app_password, or oauth_token, or oauth_client_id, oauth_client_secret and oauth_refresh_token"}
		}
	case "twilio":
		if (s["from"] == "") == (s["messaging_service_sid"] == "") {
			return &SettingError{"from", "give either from or messaging_service_sid"}
		}
	case "aspsms":
		if !senderOK(s["originator"]) {
			return &SettingError{"originator", "a phone number or at most 11 letters and digits"}
		}
	case "vonage":
		if !senderOK(s["from"]) {
			return &SettingError{"from", "a phone number or at most 11 letters and digits"}
		}
	case "orange":
		if d := OrangeSenderDigits(s["sender_address"]); !digitsRe.MatchString(d) {
			return &SettingError{"sender_address", "the sender number with the country code first, as 2250000, +2250000 or tel:+2250000"}
		}
		if n := s["sender_name"]; len(n) > 11 {
			return &SettingError{"sender_name", "at most 11 characters"}
		}
	}
	return nil
}

var digitsRe = regexp.MustCompile(`^[0-9]{3,15}$`)

// OrangeSenderDigits reads an Orange sender address in any of the forms
// Orange's documentation writes it (2250000, +2250000, tel:+2250000) and
// returns its digits, country code first.
func OrangeSenderDigits(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 4 && strings.EqualFold(v[:4], "tel:") {
		v = v[4:]
	}
	return strings.TrimPrefix(v, "+")
}

func senderOK(v string) bool {
	return digitsRe.MatchString(strings.TrimPrefix(v, "+")) || senderIDRe.MatchString(v)
}

func hasOAuth(s map[string]string) bool {
	return s["oauth_token"] != "" || (s["oauth_client_id"] != "" && s["oauth_client_secret"] != "" && s["oauth_refresh_token"] != "")
}

func (k KindSpec) key(name string) (model.GatewayKey, bool) {
	for _, ks := range k.Keys {
		if ks.Key == name {
			return ks, true
		}
	}
	return model.GatewayKey{}, false
}

// Setting returns a setting's value, or its default.
func (k KindSpec) Setting(s map[string]string, key string) string {
	if v := s[key]; v != "" {
		return v
	}
	ks, _ := k.key(key)
	return ks.Default
}

// WithDefaults returns the settings with every default filled in.
func (k KindSpec) WithDefaults(s map[string]string) map[string]string {
	out := make(map[string]string, len(k.Keys))
	for _, ks := range k.Keys {
		if v := k.Setting(s, ks.Key); v != "" {
			out[ks.Key] = v
		}
	}
	return out
}

// Mask returns the settings with every secret's value replaced by Masked.
func (k KindSpec) Mask(s map[string]string) map[string]string {
	out := make(map[string]string, len(s))
	for key, v := range s {
		if ks, _ := k.key(key); ks.Secret && v != "" {
			v = Masked
		}
		out[key] = v
	}
	return out
}

// Options are what an adapter needs besides its settings.
type Options struct {
	// HTTPClient makes the provider calls (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
	// TLSConfig, when set, is used for SMTP TLS (tests trust their own CA with it).
	TLSConfig *tls.Config
	// ReceiptURL is the delivery receipt URL of a message, or "" when receipts
	// cannot reach this server.
	ReceiptURL func(m *model.Message) string
}

// Client returns the HTTP client to use.
func (o Options) Client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// Receipt returns m's receipt URL, or "".
func (o Options) Receipt(m *model.Message) string {
	if o.ReceiptURL == nil {
		return ""
	}
	return o.ReceiptURL(m)
}

// Helpers shared by the HTTP adapters.

// ReadBody reads at most 1 MiB of a provider's answer.
func ReadBody(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return b
}

// NetworkError classifies a failed HTTP call: network failures and timeouts
// are temporary, a request that could not even be built is permanent.
func NetworkError(provider string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		// Never show the URL: some providers put credentials in it.
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return Temporary(fmt.Errorf("%s: %w", provider, err), 0)
	}
	return Temporary(fmt.Errorf("%s: %w", provider, err), 0)
}

// StatusError classifies an HTTP answer that is not a success: 429 and 5xx
// are temporary (after Retry-After when given), 408 too; any other 4xx is permanent.
func StatusError(provider string, resp *http.Response, detail string) error {
	err := fmt.Errorf("%s: HTTP %d: %s", provider, resp.StatusCode, detail)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return Temporary(err, RetryAfter(resp.Header.Get("Retry-After"), time.Now()))
	}
	return Permanent(err)
}

// RetryAfter parses a Retry-After header: seconds or an HTTP date.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Digits returns an E.164 number without its '+' (what Vonage and
// Clickatell want); it refuses anything that is not a number.
func Digits(number string) (string, error) {
	d := strings.TrimPrefix(strings.TrimSpace(number), "+")
	if !regexp.MustCompile(`^[0-9]{7,15}$`).MatchString(d) {
		return "", Permanent(fmt.Errorf("recipient %q is not an international phone number", number))
	}
	return d, nil
}

// E164 returns a number with its '+' (what Twilio and ASPSMS want).
func E164(number string) (string, error) {
	d, err := Digits(number)
	if err != nil {
		return "", err
	}
	return "+" + d, nil
}

// Receipt outcomes.
const (
	OutcomeDelivered = "delivered" // the message reached the handset
	OutcomeFailed    = "failed"    // it never will
	OutcomePending   = ""          // an intermediate status (buffered, accepted...)
)

// ReceiptUpdate is one delivery receipt, as a provider's callback said it.
// MessageID is activator's message id when the callback URL carried it;
// else the message is found by ProviderID, else by Recipient.
type ReceiptUpdate struct {
	MessageID  int64
	ProviderID string
	Recipient  string
	Status     string // the provider's own word for the state
	Outcome    string
	Reason     string // why it failed, in the provider's words
}

// ReceiptRequest is a receipt callback as it reached the server.
type ReceiptRequest struct {
	Method string
	Query  url.Values  // the URL's query (m: the message id)
	Form   url.Values  // form-encoded body
	Body   []byte      // raw body (JSON providers)
	Header http.Header // the request's headers, where providers put their signatures
}

// MessageIDParam reads the message id that receipt URLs carry as ?m=.
func (r ReceiptRequest) MessageIDParam() int64 {
	id, _ := strconv.ParseInt(r.Query.Get("m"), 10, 64)
	return id
}
