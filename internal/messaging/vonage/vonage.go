// Package vonage sends SMS through the Vonage (Nexmo) SMS API and reads
// its delivery receipts.
package vonage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Gateway is one Vonage account.
type Gateway struct {
	name, base, key, secret, from string
	o                             messaging.Options
}

// New builds a Vonage gateway from its settings (defaults filled in).
func New(name string, s map[string]string, o messaging.Options) (*Gateway, error) {
	return &Gateway{name: name, base: strings.TrimRight(s["base_url"], "/"), key: s["api_key"], secret: s["api_secret"],
		from: strings.TrimPrefix(strings.ReplaceAll(s["from"], " ", ""), "+"), o: o}, nil
}

// Name implements messaging.Gateway.
func (g *Gateway) Name() string { return g.name }

type response struct {
	MessageCount string `json:"message-count"`
	Messages     []struct {
		To        string `json:"to"`
		MessageID string `json:"message-id"`
		Status    string `json:"status"`
		ErrorText string `json:"error-text"`
	} `json:"messages"`
}

// temporary statuses: 1 throttled, 5 internal error.
var temporary = map[string]bool{"1": true, "5": true}

// Send implements messaging.Gateway. Errors come inside an HTTP 200, one
// status per part; the provider id is the first part's message-id.
func (g *Gateway) Send(ctx context.Context, m *model.Message) (string, error) {
	to, err := messaging.Digits(m.Recipient)
	if err != nil {
		return "", err
	}
	form := url.Values{"api_key": {g.key}, "api_secret": {g.secret}, "from": {g.from}, "to": {to}, "text": {m.Body},
		"client-ref": {"activator-" + strconv.FormatInt(m.ID, 10)}}
	if enc, _ := messaging.SMSSegments(m.Body); enc == messaging.UCS2 {
		form.Set("type", "unicode")
	}
	if cb := g.o.Receipt(m); cb != "" {
		form.Set("callback", cb)
		form.Set("status-report-req", "true")
	}
	req, err := http.NewRequestWithContext(ctx, "POST", g.base+"/sms/json", strings.NewReader(form.Encode()))
	if err != nil {
		return "", messaging.Permanent(fmt.Errorf("vonage: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := g.o.Client().Do(req)
	if err != nil {
		return "", messaging.NetworkError("vonage", err)
	}
	defer resp.Body.Close()
	body := messaging.ReadBody(resp)
	if resp.StatusCode != http.StatusOK {
		return "", messaging.StatusError("vonage", resp, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	var r response
	if err := json.Unmarshal(body, &r); err != nil || len(r.Messages) == 0 {
		return "", messaging.Temporary(fmt.Errorf("vonage: unreadable answer"), 0)
	}
	id := ""
	for _, part := range r.Messages {
		if part.Status != "0" {
			e := fmt.Errorf("vonage: status %s: %s", part.Status, part.ErrorText)
			if temporary[part.Status] {
				// Throttled: the account's capacity (30/s by default) is back within a second.
				return "", messaging.Temporary(e, time.Second)
			}
			return "", messaging.Permanent(e)
		}
		if id == "" {
			id = part.MessageID
		}
	}
	return id, nil
}

// ParseReceipt reads a delivery receipt: query parameters (GET) or a JSON
// or form body (POST), as the dashboard is set.
func ParseReceipt(r messaging.ReceiptRequest) ([]messaging.ReceiptUpdate, error) {
	v := map[string]string{}
	for k := range r.Query {
		v[k] = r.Query.Get(k)
	}
	for k := range r.Form {
		v[k] = r.Form.Get(k)
	}
	if len(r.Body) > 0 && r.Body[0] == '{' {
		var j map[string]any
		if err := json.Unmarshal(r.Body, &j); err != nil {
			return nil, fmt.Errorf("vonage receipt: %w", err)
		}
		for k, x := range j {
			v[k] = fmt.Sprint(x)
		}
	}
	status := v["status"]
	if v["messageId"] == "" || status == "" {
		return nil, fmt.Errorf("vonage receipt without messageId or status")
	}
	u := messaging.ReceiptUpdate{MessageID: r.MessageIDParam(), ProviderID: v["messageId"], Recipient: "+" + v["msisdn"], Status: status}
	if u.MessageID == 0 {
		u.MessageID, _ = strconv.ParseInt(strings.TrimPrefix(v["client-ref"], "activator-"), 10, 64)
	}
	switch status {
	case "delivered":
		u.Outcome = messaging.OutcomeDelivered
	case "expired", "failed", "rejected":
		u.Outcome = messaging.OutcomeFailed
		u.Reason = "vonage: " + status + " (err-code " + v["err-code"] + ")"
	}
	return []messaging.ReceiptUpdate{u}, nil
}
