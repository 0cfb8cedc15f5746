package clickatell_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/clickatell"
	"github.com/activator-voip/activator/internal/messaging/messagingtest"
	"github.com/activator-voip/activator/internal/model"
)

const apiKey = "Xk3-integration-key=="

// standIn is Clickatell's One API send endpoint: POST /v1/message with the
// raw API key in Authorization (no "Bearer"), JSON both ways, `to` as
// digits; 202 when accepted, 207 mixed, 400 per-message errors, 401
// top-level error (code 21 for a request it cannot read). It keeps each
// accepted message object.
type standIn struct {
	messagingtest.StandIn[map[string]any]
}

var toRe = regexp.MustCompile(`^\d{7,15}$`)

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != "POST" || r.URL.Path != "/v1/message" {
		s.Bad(w, "unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	switch auth := r.Header.Get("Authorization"); {
	case strings.HasPrefix(auth, "Bearer "):
		s.Bad(w, "Authorization must be the raw key, not Bearer")
		return
	case auth != apiKey:
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"code":1,"description":"Invalid or missing integration API Key"}}`)
		return
	}
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Accept") != "application/json" {
		s.Bad(w, "want Content-Type and Accept application/json")
		return
	}
	var body struct {
		Messages []map[string]any `json:"messages"`
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&body); err != nil || len(body.Messages) == 0 || len(body.Messages) > 200 {
		s.Bad(w, "malformed payload")
		return
	}
	m := body.Messages[0]
	for k := range m {
		if k != "channel" && k != "to" && k != "content" && k != "from" {
			s.Bad(w, "unknown field %s", k)
			return
		}
	}
	to, _ := m["to"].(string)
	if ch, ok := m["channel"]; ok && ch != "sms" {
		s.Bad(w, "channel %v", ch)
		return
	}
	if m["content"] == "" || m["content"] == nil {
		s.Bad(w, "no content")
		return
	}
	s.Accept(m)
	if !toRe.MatchString(to) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"messages":[{"error":{"code":23,"description":"Invalid or missing parameter: to ."},"accepted":false,"to":%q}],"error":null}`, to)
		return
	}
	switch to {
	case "2799900043":
		w.WriteHeader(207)
		fmt.Fprintf(w, `{"messages":[{"apiMessageId":null,"accepted":false,"to":%q,"error":{"code":43,"description":"Rate limit exceeded"}}],"error":null}`, to)
	case "2799900026":
		w.WriteHeader(207)
		fmt.Fprintf(w, `{"messages":[{"apiMessageId":null,"accepted":false,"to":%q,"error":{"code":26,"description":"Recipient opted out"}}],"error":null}`, to)
	case "2799900019":
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"messages":[{"accepted":false,"to":%q,"error":{"code":19,"description":"Internal error, please retry"}}],"error":null}`, to)
	case "2799900402":
		w.WriteHeader(402)
		io.WriteString(w, `{"error":{"code":20,"description":"Insufficient balance"}}`)
	case "2799900503":
		w.WriteHeader(503)
		io.WriteString(w, `{"error":{"code":18,"description":"Service unavailable"}}`)
	default:
		w.WriteHeader(202)
		fmt.Fprintf(w, `{"messages":[{"apiMessageId":"77fb29998253415fa5d66971d519d362","accepted":true,"to":%q,"error":null}],"error":null}`, to)
	}
}

func setup(t *testing.T, key string) (*standIn, messaging.Gateway) {
	t.Helper()
	s := &standIn{}
	s.Refuse = func(w http.ResponseWriter, msg string) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"messages":[],"error":{"code":21,"description":%q}}`, msg)
	}
	settings := map[string]string{"api_key": key, "base_url": s.Start(t, s)}
	return s, messagingtest.Build(t, clickatell.Kind, settings, messaging.Options{})
}

func send(t *testing.T, g messaging.Gateway, to string) (string, error) {
	return messagingtest.Send(t, g, &model.Message{ID: 3, Channel: "sms", Recipient: to, Body: "Hello: https://activate.example.com/a/avl_x"})
}

func TestSendAccepted(t *testing.T) {
	s, g := setup(t, apiKey)
	id, err := send(t, g, "+2799900001")
	if err != nil || id != "77fb29998253415fa5d66971d519d362" {
		t.Fatalf("send: %q %v", id, err)
	}
	if m := s.Accepted()[0]; m["to"] != "2799900001" || m["channel"] != "sms" {
		t.Fatalf("body: %v", m)
	}
}

func TestErrors(t *testing.T) {
	_, g := setup(t, apiKey)
	var p *messaging.PermanentError
	var tmp *messaging.TemporaryError
	for _, tc := range []struct {
		to        string
		temporary bool
		words     string
	}{
		{"+2799900043", true, "error 43"},       // rate limit, inside a 207
		{"+2799900019", true, "error 19"},       // internal error, retry
		{"+2799900503", true, "HTTP 503"},       // unavailable
		{"+2799900026", false, "opted out"},     // 207 mixed: this message refused
		{"+2799900402", false, "Insufficient"},  // no funds
		{"+27999000012345678", false, "number"}, // not a number: refused before sending
	} {
		_, err := send(t, g, tc.to)
		if tc.temporary && !errors.As(err, &tmp) || !tc.temporary && !errors.As(err, &p) || err == nil || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s: want temporary=%v error with %q, got %v", tc.to, tc.temporary, tc.words, err)
		}
	}
	_, bad := setup(t, "wrong-key")
	if _, err := send(t, bad, "+2799900001"); !errors.As(err, &p) || !strings.Contains(err.Error(), "error 1:") || strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("bad key: want permanent error 1 without the key, got %v", err)
	}
}

func TestParseReceipt(t *testing.T) {
	body := `{"integrationId":"i","integrationName":"n","event":{"messageStatusUpdate":[
		{"channel":"sms","messageId":"77fb","clientMessageId":"","status":"DEVICE_ACK","statusCode":5,"timestamp":1700000000000},
		{"channel":"sms","messageId":"88fc","status":"RECIPIENT_DOES_NOT_EXIST","statusCode":29,"timestamp":1700000000000},
		{"channel":"sms","messageId":"99fd","status":"SENT_TO_SUPPLIER","statusCode":4,"timestamp":1700000000000}]}}`
	u, err := clickatell.ParseReceipt(messaging.ReceiptRequest{Method: "POST", Body: []byte(body)})
	if err != nil || len(u) != 3 {
		t.Fatalf("%+v %v", u, err)
	}
	if u[0].ProviderID != "77fb" || u[0].Outcome != messaging.OutcomeDelivered || u[1].Outcome != messaging.OutcomeFailed || u[2].Outcome != messaging.OutcomePending {
		t.Fatalf("%+v", u)
	}
	old := `{"apiKey":"k","messageId":"abc","requestId":"r","clientMessageId":"","to":"2799900001","from":"","status":"23","statusDescription":"DELIVERY_FAILURE","timestamp":1}`
	u, err = clickatell.ParseReceipt(messaging.ReceiptRequest{Method: "POST", Body: []byte(old)})
	if err != nil || u[0].ProviderID != "abc" || u[0].Outcome != messaging.OutcomeFailed {
		t.Fatalf("older callback: %+v %v", u, err)
	}
}
