// Package twilio sends SMS through Twilio's Messages API and reads its
// status callbacks, whose X-Twilio-Signature it checks.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Gateway is one Twilio account.
type Gateway struct {
	name, base, sid, token, from, service string
	o                                     messaging.Options
}

// New builds a Twilio gateway from its settings (defaults filled in).
func New(name string, s map[string]string, o messaging.Options) (*Gateway, error) {
	return &Gateway{name: name, base: strings.TrimRight(s["base_url"], "/"), sid: s["account_sid"], token: s["auth_token"],
		from: s["from"], service: s["messaging_service_sid"], o: o}, nil
}

// Name implements messaging.Gateway.
func (g *Gateway) Name() string { return g.name }

type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Send implements messaging.Gateway: the provider id is the message SID.
func (g *Gateway) Send(ctx context.Context, m *model.Message) (string, error) {
	to, err := messaging.E164(m.Recipient)
	if err != nil {
		return "", err
	}
	form := url.Values{"To": {to}, "Body": {m.Body}}
	if g.service != "" {
		form.Set("MessagingServiceSid", g.service)
	} else {
		form.Set("From", g.from)
	}
	if cb := g.o.Receipt(m); cb != "" {
		form.Set("StatusCallback", cb)
	}
	u := g.base + "/2010-04-01/Accounts/" + url.PathEscape(g.sid) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", messaging.Permanent(fmt.Errorf("twilio: %w", err))
	}
	req.SetBasicAuth(g.sid, g.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := g.o.Client().Do(req)
	if err != nil {
		return "", messaging.NetworkError("twilio", err)
	}
	defer resp.Body.Close()
	body := messaging.ReadBody(resp)
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		var msg struct {
			SID          string `json:"sid"`
			Status       string `json:"status"`
			ErrorCode    *int   `json:"error_code"`
			ErrorMessage string `json:"error_message"`
		}
		if err := json.Unmarshal(body, &msg); err != nil || msg.SID == "" {
			return "", messaging.Temporary(fmt.Errorf("twilio: HTTP %d without a message sid", resp.StatusCode), 0)
		}
		if msg.Status == "failed" {
			return "", messaging.Permanent(fmt.Errorf("twilio: message %s failed: %s", msg.SID, msg.ErrorMessage))
		}
		return msg.SID, nil
	}
	var e apiError
	_ = json.Unmarshal(body, &e)
	detail := strings.TrimSpace(fmt.Sprintf("%d %s", e.Code, e.Message))
	if e.Code == 0 {
		detail = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return "", messaging.Permanent(fmt.Errorf("twilio: HTTP 401: bad credentials (account_sid or auth_token): %s", detail))
	}
	return "", messaging.StatusError("twilio", resp, detail)
}

// Signature is Twilio's X-Twilio-Signature of a callback: base64 of the
// HMAC-SHA1, keyed with the auth token, of the full URL followed by every
// POST parameter's name and value, sorted by name.
func Signature(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// CheckSignature reports whether got is the signature of the callback.
func CheckSignature(authToken, fullURL string, form url.Values, got string) bool {
	want := Signature(authToken, fullURL, form)
	return got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// ParseReceipt reads a status callback (form-encoded POST). Unknown fields
// are ignored: Twilio adds fields without notice.
func ParseReceipt(r messaging.ReceiptRequest) ([]messaging.ReceiptUpdate, error) {
	sid, status := r.Form.Get("MessageSid"), r.Form.Get("MessageStatus")
	if sid == "" || status == "" {
		return nil, fmt.Errorf("twilio callback without MessageSid or MessageStatus")
	}
	u := messaging.ReceiptUpdate{MessageID: r.MessageIDParam(), ProviderID: sid, Recipient: r.Form.Get("To"), Status: status}
	switch status {
	case "delivered", "read":
		u.Outcome = messaging.OutcomeDelivered
	case "undelivered", "failed":
		u.Outcome = messaging.OutcomeFailed
		u.Reason = "twilio: " + status
		if c := r.Form.Get("ErrorCode"); c != "" {
			u.Reason += " (error " + c + ")"
		}
	}
	return []messaging.ReceiptUpdate{u}, nil
}
