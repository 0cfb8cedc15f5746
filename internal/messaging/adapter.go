package messaging

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/activator-voip/activator/internal/model"
)

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

// NewHTTPClient returns the client the adapters share in a server whose
// delivery worker sends up to concurrent messages at once: a transport
// of its own (proxies from the environment, as http.DefaultTransport)
// that keeps a connection per send in flight to each provider, where
// http.DefaultTransport keeps 2 and closes the others after every send,
// so a busy queue opened a TCP (and TLS) connection for most messages.
func NewHTTPClient(concurrent int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(concurrent, 2)
	t.MaxIdleConns = max(t.MaxIdleConns, 4*concurrent)
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
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

// NetworkError classifies a failed HTTP call: network failures, timeouts,
// a connection cut short and a send stopped by shutdown are temporary; a
// call that cannot succeed as configured (an unsupported URL scheme, a
// certificate that does not verify, a redirect loop) is permanent.
func NetworkError(provider string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		// Never show the URL: some providers put credentials in it.
		err = ue.Err
	}
	err = fmt.Errorf("%s: %w", provider, err)
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return Temporary(err, 0)
	}
	return Permanent(err)
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
	if !allDigits(d, 7, 15) {
		return "", Permanent(fmt.Errorf("recipient %q is not an international phone number", number))
	}
	return d, nil
}

// allDigits says whether s is lo to hi ASCII digits: what the regular
// expression ^[0-9]{lo,hi}$ says, without compiling one for every
// message sent.
func allDigits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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

// Bounded returns u with the words a callback carried (its status, reason,
// provider id and recipient) cut to what a message row keeps and without
// control characters: they come from whoever holds the receipt key, and
// PostgreSQL refuses a NUL in a text column.
func (u ReceiptUpdate) Bounded() ReceiptUpdate {
	u.ProviderID = boundedWords(u.ProviderID, 200)
	u.Recipient = boundedWords(u.Recipient, 64)
	u.Status = boundedWords(u.Status, 64)
	u.Reason = boundedWords(u.Reason, 500)
	return u
}

func boundedWords(v string, max int) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(v, "\uFFFD"))
	if utf8.RuneCountInString(v) > max {
		v = string([]rune(v)[:max])
	}
	return v
}

// ReceiptRequest is a receipt callback as it reached the server.
type ReceiptRequest struct {
	Method string
	// URL is the full URL the callback was sent to: the public base URL
	// and the path and query it reached (what Twilio signs). The domain
	// sets it before VerifyReceipt.
	URL    string
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
