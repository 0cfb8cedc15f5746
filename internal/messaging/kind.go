package messaging

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/model"
)

// Receipt setups: how a kind's delivery receipt URL reaches the provider.
const (
	ReceiptPerMessage = "per_message" // sent with each message
	ReceiptAtProvider = "at_provider" // configured once in the provider's console
	ReceiptNone       = ""            // the channel has no receipts (e-mail)
)

// Kind is one kind of gateway, everything activator knows of it in one
// value: its name, its channel, its settings and their rules, how to build
// it, and how to read its delivery receipts. Each adapter package exports
// its Kind; internal/app lists them, and the domain works from that list,
// so a new provider is a new package and one line there.
type Kind struct {
	Name     string             // what `gateway add --kind` takes and a gateway row stores
	Aliases  []string           // other names accepted for it (stored as Name)
	Channel  string             // model.ChannelSMS or model.ChannelEmail
	Help     string             // one line for `gateway kinds`
	Keys     []model.GatewayKey // its settings, in the order they are listed
	Receipts string             // ReceiptPerMessage, ReceiptAtProvider or ReceiptNone

	// Check holds the kind's own rules, run after the ones every kind
	// shares (Validate). It sees the settings with every default filled in
	// and answers a *SettingError naming the key at fault, never repeating
	// a secret. nil: no rules of its own.
	Check func(s map[string]string) error
	// New builds a gateway named name from settings that passed Validate,
	// with every default filled in.
	New func(name string, s map[string]string, o Options) (Gateway, error)
	// ParseReceipt reads a delivery receipt callback. nil: the kind has no
	// receipts, and its callbacks are refused.
	ParseReceipt func(r ReceiptRequest) ([]ReceiptUpdate, error)
	// VerifyReceipt checks a callback's own signature, for providers that
	// sign them (r.URL is the full URL it was sent to); s has every default
	// filled in. nil: the key in the receipt URL is the only check.
	VerifyReceipt func(s map[string]string, r ReceiptRequest) bool
}

// Spec is the kind as the API and the command line describe it.
func (k Kind) Spec() model.GatewayKind {
	return model.GatewayKind{Name: k.Name, Aliases: k.Aliases, Channel: k.Channel, Help: k.Help, Keys: k.Keys}
}

// Kinds are the gateway kinds an administrator can configure, in the order
// they are listed.
type Kinds []Kind

// Find finds a kind by name or alias.
func (ks Kinds) Find(name string) (Kind, bool) {
	for _, k := range ks {
		if k.Name == name || slices.Contains(k.Aliases, name) {
			return k, true
		}
	}
	return Kind{}, false
}

// Masked is what a secret setting's value is shown as.
const Masked = "********"

// RateLimitKey is the setting every kind has: at most that many messages
// a second through one gateway, per instance.
func RateLimitKey() model.GatewayKey {
	return model.GatewayKey{Key: "rate_limit", Help: "most messages per second sent through this gateway by one instance (empty: no limit)"}
}

// BaseURLKey is the setting every HTTP kind has: the provider's endpoint,
// def unless changed.
func BaseURLKey(def string) model.GatewayKey {
	return model.GatewayKey{Key: "base_url", Default: def, Help: "the provider's API endpoint; change it for a regional endpoint or a test server"}
}

// SettingError names the setting at fault.
type SettingError struct {
	Key, Msg string
}

func (e *SettingError) Error() string { return e.Key + ": " + e.Msg }

// Validate checks a kind's settings: the rules every kind shares (known
// keys, required ones, allowed values, base_url, port, rate_limit), then
// the kind's own (Check). Messages name the key and never repeat a
// secret's value.
func (k Kind) Validate(s map[string]string) error {
	for key, v := range s {
		spec, ok := k.key(key)
		if !ok {
			var names []string
			for _, ks := range k.Keys {
				names = append(names, ks.Key)
			}
			return &SettingError{key, fmt.Sprintf("unknown setting of %s gateways; known: %s", k.Name, strings.Join(names, ", "))}
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
	if k.Check != nil {
		return k.Check(k.WithDefaults(s))
	}
	return nil
}

var (
	senderDigitsRe = regexp.MustCompile(`^[0-9]{3,15}$`)
	senderIDRe     = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
)

// ValidSender reports whether v can be an SMS sender: a phone number (with
// or without its '+') or an alphanumeric sender id of at most 11 letters
// and digits.
func ValidSender(v string) bool {
	return senderDigitsRe.MatchString(strings.TrimPrefix(v, "+")) || senderIDRe.MatchString(v)
}

func (k Kind) key(name string) (model.GatewayKey, bool) {
	for _, ks := range k.Keys {
		if ks.Key == name {
			return ks, true
		}
	}
	return model.GatewayKey{}, false
}

// Setting returns a setting's value, or its default.
func (k Kind) Setting(s map[string]string, key string) string {
	if v := s[key]; v != "" {
		return v
	}
	ks, _ := k.key(key)
	return ks.Default
}

// WithDefaults returns the settings with every default filled in.
func (k Kind) WithDefaults(s map[string]string) map[string]string {
	out := make(map[string]string, len(k.Keys))
	for _, ks := range k.Keys {
		if v := k.Setting(s, ks.Key); v != "" {
			out[ks.Key] = v
		}
	}
	return out
}

// Mask returns the settings with every secret's value replaced by Masked.
func (k Kind) Mask(s map[string]string) map[string]string {
	out := make(map[string]string, len(s))
	for key, v := range s {
		if ks, _ := k.key(key); ks.Secret && v != "" {
			v = Masked
		}
		out[key] = v
	}
	return out
}
