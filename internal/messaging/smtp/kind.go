package smtp

import (
	"net/mail"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Kind is any SMTP server.
var Kind = messaging.Kind{
	Name: "smtp", Channel: model.ChannelEmail,
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
		messaging.RateLimitKey(),
	},
	Receipts: messaging.ReceiptNone,
	Check:    checkSMTP,
	New: func(name string, s map[string]string, o messaging.Options) (messaging.Gateway, error) {
		return New(name, "smtp", s, o)
	},
}

// GMailKind is a GMail or Google Workspace account: SMTP with Google's
// host, port and authentication.
var GMailKind = messaging.Kind{
	Name: "gmail", Channel: model.ChannelEmail,
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
		messaging.RateLimitKey(),
	},
	Receipts: messaging.ReceiptNone,
	Check:    checkGMail,
	New: func(name string, s map[string]string, o messaging.Options) (messaging.Gateway, error) {
		return New(name, "gmail", s, o)
	},
}

func checkSMTP(s map[string]string) error {
	if _, err := mail.ParseAddress(s["from"]); err != nil {
		return &messaging.SettingError{Key: "from", Msg: "an e-mail address, such as \"ACME IT <it@example.com>\""}
	}
	auth, tlsMode := s["auth"], s["tls"]
	if auth != "none" && tlsMode == "none" {
		return &messaging.SettingError{Key: "auth", Msg: "AUTH over a connection without TLS would send the credentials in clear; use tls=starttls or implicit"}
	}
	if (auth == "plain" || auth == "login") && (s["username"] == "" || s["password"] == "") {
		return &messaging.SettingError{Key: "password", Msg: "auth " + auth + " needs username and password"}
	}
	if auth == "xoauth2" && (s["username"] == "" || !hasOAuth(s)) {
		return &messaging.SettingError{Key: "oauth_token", Msg: "auth xoauth2 needs username and oauth_token, or oauth_client_id, oauth_client_secret, oauth_refresh_token and oauth_token_url"}
	}
	return nil
}

func checkGMail(s map[string]string) error {
	if _, err := mail.ParseAddress(s["username"]); err != nil {
		return &messaging.SettingError{Key: "username", Msg: "the full GMail address, such as it@example.com"}
	}
	if v := s["from"]; v != "" {
		if _, err := mail.ParseAddress(v); err != nil {
			return &messaging.SettingError{Key: "from", Msg: "an e-mail address, such as \"ACME IT <it@example.com>\""}
		}
	}
	if s["app_password"] == "" && !hasOAuth(s) {
		return &messaging.SettingError{Key: "app_password", Msg: "give app_password, or oauth_token, or oauth_client_id, oauth_client_secret and oauth_refresh_token"}
	}
	return nil
}

func hasOAuth(s map[string]string) bool {
	return s["oauth_token"] != "" || (s["oauth_client_id"] != "" && s["oauth_client_secret"] != "" && s["oauth_refresh_token"] != "")
}
