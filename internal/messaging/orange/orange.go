// Package orange sends SMS through Orange's SMS API (developer.orange.com)
// with an OAuth2 client-credentials token, cached until it expires and
// renewed on a 401, and reads its deliveryInfoNotification callbacks.
package orange

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Gateway is one Orange application.
type Gateway struct {
	name, base, clientID, secret, sender, senderName string
	o                                                messaging.Options

	mu      sync.Mutex
	token   string
	expires time.Time
}

// New builds an Orange gateway from its settings (defaults filled in).
func New(name string, s map[string]string, o messaging.Options) (*Gateway, error) {
	return &Gateway{name: name, base: strings.TrimRight(s["base_url"], "/"), clientID: s["client_id"], secret: s["client_secret"],
		sender: senderDigits(s["sender_address"]), senderName: s["sender_name"], o: o}, nil
}

// Name implements messaging.Gateway.
func (g *Gateway) Name() string { return g.name }

// accessToken returns the cached token, or fetches one.
func (g *Gateway) accessToken(ctx context.Context, renew bool) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !renew && g.token != "" && time.Now().Before(g.expires) {
		return g.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, "POST", g.base+"/oauth/v3/token", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		return "", messaging.Permanent(fmt.Errorf("orange: %w", err))
	}
	req.SetBasicAuth(g.clientID, g.secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := g.o.Client().Do(req)
	if err != nil {
		return "", messaging.NetworkError("orange token", err)
	}
	defer resp.Body.Close()
	raw := messaging.ReadBody(resp)
	var t struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"` // "3600" in Orange's example: a string
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &t) != nil || t.AccessToken == "" {
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return "", messaging.Permanent(fmt.Errorf("orange token: HTTP %d: bad credentials (client_id or client_secret): %s", resp.StatusCode, errorText(raw)))
		}
		return "", messaging.StatusError("orange token", resp, errorText(raw))
	}
	secs, err := strconv.Atoi(strings.Trim(string(t.ExpiresIn), `"`))
	if err != nil || secs <= 0 {
		secs = 3600
	}
	g.token, g.expires = t.AccessToken, time.Now().Add(time.Duration(secs)*time.Second-time.Minute)
	return g.token, nil
}

// errorText reads Orange's error bodies: the gateway's {code, message,
// description} and the SMS API's requestError.
func errorText(raw []byte) string {
	var e struct {
		Code         any    `json:"code"`
		Message      string `json:"message"`
		Description  string `json:"description"`
		RequestError map[string]struct {
			MessageID string `json:"messageId"`
			Text      string `json:"text"`
		} `json:"requestError"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return "unreadable answer"
	}
	for kind, x := range e.RequestError {
		return fmt.Sprintf("%s %s: %s", kind, x.MessageID, x.Text)
	}
	if e.Code != nil {
		return strings.TrimSpace(fmt.Sprintf("code %v: %s %s", e.Code, e.Message, e.Description))
	}
	return "no details"
}

type smsRequest struct {
	Req struct {
		Address       string `json:"address"`
		SenderAddress string `json:"senderAddress"`
		SenderName    string `json:"senderName,omitempty"`
		Text          struct {
			Message string `json:"message"`
		} `json:"outboundSMSTextMessage"`
	} `json:"outboundSMSMessageRequest"`
}

// Send implements messaging.Gateway: the provider id is the last segment of
// the resourceURL Orange answers with its 201.
func (g *Gateway) Send(ctx context.Context, m *model.Message) (string, error) {
	to, err := messaging.E164(m.Recipient)
	if err != nil {
		return "", err
	}
	var r smsRequest
	r.Req.Address, r.Req.SenderAddress, r.Req.SenderName = "tel:"+to, "tel:+"+g.sender, g.senderName
	r.Req.Text.Message = m.Body
	body, _ := json.Marshal(r)
	u := g.base + "/smsmessaging/v1/outbound/" + url.QueryEscape("tel:+"+g.sender) + "/requests"
	for attempt := 0; ; attempt++ {
		tok, err := g.accessToken(ctx, attempt > 0)
		if err != nil {
			return "", err
		}
		req, err := http.NewRequestWithContext(ctx, "POST", u, bytes.NewReader(body))
		if err != nil {
			return "", messaging.Permanent(fmt.Errorf("orange: %w", err))
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := g.o.Client().Do(req)
		if err != nil {
			return "", messaging.NetworkError("orange", err)
		}
		raw := messaging.ReadBody(resp)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusCreated:
			var ans struct {
				Req struct {
					ResourceURL string `json:"resourceURL"`
				} `json:"outboundSMSMessageRequest"`
			}
			_ = json.Unmarshal(raw, &ans)
			id := ans.Req.ResourceURL
			if i := strings.LastIndex(id, "/"); i >= 0 {
				id = id[i+1:]
			}
			return id, nil
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			continue // expired or revoked token: fetch a new one, once
		case resp.StatusCode == http.StatusUnauthorized:
			return "", messaging.Permanent(fmt.Errorf("orange: HTTP 401 with a fresh token: %s", errorText(raw)))
		}
		return "", messaging.StatusError("orange", resp, errorText(raw))
	}
}

// ParseReceipt reads a deliveryInfoNotification.
func ParseReceipt(r messaging.ReceiptRequest) ([]messaging.ReceiptUpdate, error) {
	var n struct {
		N struct {
			CallbackData string `json:"callbackData"`
			Info         struct {
				Address string `json:"address"`
				Status  string `json:"deliveryStatus"`
			} `json:"deliveryInfo"`
		} `json:"deliveryInfoNotification"`
	}
	if err := json.Unmarshal(r.Body, &n); err != nil || n.N.Info.Status == "" {
		return nil, fmt.Errorf("orange notification without deliveryInfo.deliveryStatus")
	}
	u := messaging.ReceiptUpdate{MessageID: r.MessageIDParam(), Recipient: strings.TrimPrefix(n.N.Info.Address, "tel:"), Status: n.N.Info.Status}
	if u.MessageID == 0 {
		u.MessageID, _ = strconv.ParseInt(n.N.CallbackData, 10, 64)
	}
	switch n.N.Info.Status {
	case "DeliveredToTerminal":
		u.Outcome = messaging.OutcomeDelivered
	case "DeliveryImpossible":
		u.Outcome, u.Reason = messaging.OutcomeFailed, "orange: DeliveryImpossible"
	}
	return []messaging.ReceiptUpdate{u}, nil
}
