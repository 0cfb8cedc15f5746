// Package clickatell sends SMS through Clickatell's One API and reads its
// status callbacks.
package clickatell

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Gateway is one Clickatell integration.
type Gateway struct {
	name, base, key, from string
	o                     messaging.Options
}

// New builds a Clickatell gateway from its settings (defaults filled in).
func New(name string, s map[string]string, o messaging.Options) (*Gateway, error) {
	return &Gateway{name: name, base: strings.TrimRight(s["base_url"], "/"), key: s["api_key"], from: strings.TrimPrefix(s["from"], "+"), o: o}, nil
}

// Name implements messaging.Gateway.
func (g *Gateway) Name() string { return g.name }

type apiError struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

type outMessage struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Content string `json:"content"`
	From    string `json:"from,omitempty"`
}

type response struct {
	Messages []struct {
		APIMessageID string    `json:"apiMessageId"`
		Accepted     bool      `json:"accepted"`
		To           string    `json:"to"`
		Error        *apiError `json:"error"`
	} `json:"messages"`
	Error *apiError `json:"error"`
}

// temporary error codes: 18 internal error, 19 internal error (retry), 43 rate limit.
var temporary = map[int]bool{18: true, 19: true, 43: true}

func classify(e *apiError) error {
	err := fmt.Errorf("clickatell: error %d: %s", e.Code, e.Description)
	if temporary[e.Code] {
		return messaging.Temporary(err, 0)
	}
	return messaging.Permanent(err)
}

// Send implements messaging.Gateway: the provider id is the apiMessageId.
func (g *Gateway) Send(ctx context.Context, m *model.Message) (string, error) {
	to, err := messaging.Digits(m.Recipient)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string][]outMessage{"messages": {{Channel: "sms", To: to, Content: m.Body, From: g.from}}})
	req, err := http.NewRequestWithContext(ctx, "POST", g.base+"/v1/message", bytes.NewReader(body))
	if err != nil {
		return "", messaging.Permanent(fmt.Errorf("clickatell: %w", err))
	}
	req.Header.Set("Authorization", g.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := g.o.Client().Do(req)
	if err != nil {
		return "", messaging.NetworkError("clickatell", err)
	}
	defer resp.Body.Close()
	raw := messaging.ReadBody(resp)
	var r response
	_ = json.Unmarshal(raw, &r)
	// 202 all accepted; 207 mixed; 400 per-message errors: each message
	// carries its own verdict, so read it first.
	if len(r.Messages) > 0 {
		msg := r.Messages[0]
		if msg.Accepted && msg.APIMessageID != "" && resp.StatusCode < 300 {
			return msg.APIMessageID, nil
		}
		if msg.Error != nil {
			return "", classify(msg.Error)
		}
	}
	if r.Error != nil {
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return "", messaging.StatusError("clickatell", resp, fmt.Sprintf("error %d: %s", r.Error.Code, r.Error.Description))
		}
		return "", classify(r.Error)
	}
	if resp.StatusCode >= 300 {
		return "", messaging.StatusError("clickatell", resp, http.StatusText(resp.StatusCode))
	}
	return "", messaging.Temporary(fmt.Errorf("clickatell: HTTP %d without a verdict on the message", resp.StatusCode), 0)
}

// Delivered and failed message statuses (One API status table).
var (
	deliveredCodes = map[int]bool{5: true, 6: true}                                           // DEVICE_ACK, READ
	failedCodes    = map[int]bool{20: true, 21: true, 22: true, 23: true, 25: true, 26: true, // EXPIRED ... INSUFFICIENT_ACCOUNT_BALANCE, VOLUME_LIMIT...
		27: true, 28: true, 29: true, 100: true}
)

// ParseReceipt reads a status callback: One API's messageStatusUpdate list,
// or the older flat form (messageId, status, statusDescription).
func ParseReceipt(r messaging.ReceiptRequest) ([]messaging.ReceiptUpdate, error) {
	var cb struct {
		Event struct {
			Updates []map[string]any `json:"messageStatusUpdate"`
		} `json:"event"`
	}
	var items []map[string]any
	if err := json.Unmarshal(r.Body, &cb); err == nil && len(cb.Event.Updates) > 0 {
		items = cb.Event.Updates
	} else {
		var flat map[string]any
		if err := json.Unmarshal(r.Body, &flat); err != nil {
			return nil, fmt.Errorf("clickatell callback: %w", err)
		}
		items = []map[string]any{flat}
	}
	var out []messaging.ReceiptUpdate
	for _, it := range items {
		str := func(k string) string {
			if v, ok := it[k]; ok && v != nil {
				return fmt.Sprint(v)
			}
			return ""
		}
		id := str("messageId")
		if id == "" {
			id = str("apiMessageId")
		}
		code, _ := strconv.Atoi(str("statusCode"))
		status := str("status")
		if code == 0 {
			code, _ = strconv.Atoi(status) // the older form's status is the number
		}
		if id == "" || (status == "" && code == 0) {
			return nil, fmt.Errorf("clickatell callback without messageId or status")
		}
		u := messaging.ReceiptUpdate{MessageID: r.MessageIDParam(), ProviderID: id, Status: strings.TrimSpace(status + " " + str("statusDescription"))}
		switch {
		case deliveredCodes[code] || status == "DEVICE_ACK" || status == "READ":
			u.Outcome = messaging.OutcomeDelivered
		case failedCodes[code]:
			u.Outcome = messaging.OutcomeFailed
			u.Reason = fmt.Sprintf("clickatell: status %d %s", code, status)
		}
		out = append(out, u)
	}
	return out, nil
}
