// Package aspsms sends SMS through the ASPSMS JSON API (SendTextSMS) and
// reads its delivery notification URLs.
package aspsms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// Gateway is one ASPSMS account.
type Gateway struct {
	name, base, userkey, password, originator string
	o                                         messaging.Options
}

// New builds an ASPSMS gateway from its settings (defaults filled in).
func New(name string, s map[string]string, o messaging.Options) (*Gateway, error) {
	return &Gateway{name: name, base: strings.TrimRight(s["base_url"], "/"), userkey: s["userkey"], password: s["password"], originator: s["originator"], o: o}, nil
}

// Name implements messaging.Gateway.
func (g *Gateway) Name() string { return g.name }

type request struct {
	UserName                   string   `json:"UserName"`
	Password                   string   `json:"Password"`
	Originator                 string   `json:"Originator"`
	Recipients                 []string `json:"Recipients"`
	MessageText                string   `json:"MessageText"`
	URLDeliveryNotification    string   `json:"URLDeliveryNotification,omitempty"`
	URLNonDeliveryNotification string   `json:"URLNonDeliveryNotification,omitempty"`
}

// StatusCodes ASPSMS answers that are worth retrying: 2 connect failed,
// 6 timeout, 7 transmission error, 24 service temporarily unavailable.
var temporary = map[string]bool{"2": true, "6": true, "7": true, "24": true}

// Send implements messaging.Gateway. ASPSMS returns no message id; its
// notifications name the message by the URL they are sent to.
func (g *Gateway) Send(ctx context.Context, m *model.Message) (string, error) {
	to, err := messaging.E164(m.Recipient)
	if err != nil {
		return "", err
	}
	r := request{UserName: g.userkey, Password: g.password, Originator: g.originator, Recipients: []string{to}, MessageText: m.Body}
	if cb := g.o.Receipt(m); cb != "" {
		// ASPSMS appends the transaction reference number to these URLs.
		r.URLDeliveryNotification = cb + "&status=delivered&trn="
		r.URLNonDeliveryNotification = cb + "&status=not_delivered&trn="
	}
	body, _ := json.Marshal(r)
	req, err := http.NewRequestWithContext(ctx, "POST", g.base+"/SendTextSMS", bytes.NewReader(body))
	if err != nil {
		return "", messaging.Permanent(fmt.Errorf("aspsms: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.o.Client().Do(req)
	if err != nil {
		return "", messaging.NetworkError("aspsms", err)
	}
	defer resp.Body.Close()
	raw := messaging.ReadBody(resp)
	if resp.StatusCode != http.StatusOK {
		return "", messaging.StatusError("aspsms", resp, http.StatusText(resp.StatusCode))
	}
	var ans struct {
		StatusCode string `json:"StatusCode"`
		StatusInfo string `json:"StatusInfo"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.StatusCode == "" {
		return "", messaging.Temporary(fmt.Errorf("aspsms: unreadable answer"), 0)
	}
	switch {
	case ans.StatusCode == "1" || ans.StatusCode == "0":
		return "", nil
	case temporary[ans.StatusCode]:
		return "", messaging.Temporary(fmt.Errorf("aspsms: StatusCode %s: %s", ans.StatusCode, ans.StatusInfo), 30*time.Second)
	}
	return "", messaging.Permanent(fmt.Errorf("aspsms: StatusCode %s: %s", ans.StatusCode, ans.StatusInfo))
}

// ParseReceipt reads a notification: the URL we gave, with status and the
// transaction reference number ASPSMS appended.
func ParseReceipt(r messaging.ReceiptRequest) ([]messaging.ReceiptUpdate, error) {
	id := r.MessageIDParam()
	status := r.Query.Get("status")
	if id == 0 || status == "" {
		return nil, fmt.Errorf("aspsms notification without m or status")
	}
	u := messaging.ReceiptUpdate{MessageID: id, Status: status}
	switch status {
	case "delivered":
		u.Outcome = messaging.OutcomeDelivered
	case "not_delivered":
		u.Outcome, u.Reason = messaging.OutcomeFailed, "aspsms: not delivered"
	}
	return []messaging.ReceiptUpdate{u}, nil
}
