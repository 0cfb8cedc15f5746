package aspsms_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/aspsms"
	"github.com/activator-voip/activator/internal/messaging/messagingtest"
	"github.com/activator-voip/activator/internal/model"
)

// standIn is json.aspsms.com's SendTextSMS: a POST of a raw JSON object
// (no Content-Type required) carrying UserName and Password, answered with
// HTTP 200 and string StatusCode/StatusInfo, errors included; a request
// it cannot read is StatusCode 11.
type standIn struct {
	messagingtest.StandIn[map[string]any]
}

var fields = map[string]bool{"UserName": true, "Password": true, "Originator": true, "Recipients": true, "MessageText": true,
	"DeferredDeliveryTime": true, "FlashingSMS": true, "URLBufferedMessageNotification": true, "URLDeliveryNotification": true,
	"URLNonDeliveryNotification": true, "AffiliateID": true, "ForceGSM7bit": true}

var e164 = regexp.MustCompile(`^(\+|00)[1-9][0-9]{6,14}$`)

func answer(w http.ResponseWriter, code, info string) {
	fmt.Fprintf(w, `{"StatusCode":%q,"StatusInfo":%q}`, code, info)
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != "POST" || r.URL.Path != "/SendTextSMS" {
		s.Bad(w, "unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.Bad(w, "body is not JSON: %v", err)
		return
	}
	for k := range req {
		if !fields[k] {
			s.Bad(w, "unknown field %s", k)
			return
		}
	}
	if req["UserName"] != "USERKEY123" {
		answer(w, "8", "Invalid UserKey")
		return
	}
	if req["Password"] != "pw-secret" {
		answer(w, "9", "Invalid Password")
		return
	}
	orig, _ := req["Originator"].(string)
	if !regexp.MustCompile(`^([A-Za-z0-9 ]{1,11}|\+?[0-9]{3,15})$`).MatchString(orig) {
		answer(w, "10", "Invalid originator (max 11 alphanumeric)")
		return
	}
	rcpts, _ := req["Recipients"].([]any)
	if len(rcpts) == 0 {
		answer(w, "20", "Missing recipient")
		return
	}
	for _, x := range rcpts {
		if to, _ := x.(string); !e164.MatchString(to) {
			s.Bad(w, "recipient %v is not +E.164", x)
			return
		}
	}
	for _, k := range []string{"URLDeliveryNotification", "URLNonDeliveryNotification"} {
		if v, ok := req[k].(string); ok {
			if u, err := url.Parse(v); err != nil || u.Scheme == "" {
				answer(w, "18", "Invalid delivery notification URL")
				return
			}
		}
	}
	s.Accept(req)
	switch rcpts[0] {
	case "+41780000005":
		answer(w, "5", "Not enough credits")
	case "+41780000024":
		answer(w, "24", "Service temporarily unavailable")
	case "+41780000006":
		answer(w, "6", "Timeout")
	default:
		answer(w, "1", "OK")
	}
}

func setup(t *testing.T, password string) (*standIn, messaging.Gateway) {
	t.Helper()
	s := &standIn{}
	s.Refuse = func(w http.ResponseWriter, _ string) { answer(w, "11", "Invalid message data") }
	settings := map[string]string{"userkey": "USERKEY123", "password": password, "originator": "ACME", "base_url": s.Start(t, s)}
	return s, messagingtest.Build(t, aspsms.Kind, settings, messaging.Options{ReceiptURL: func(m *model.Message) string {
		return fmt.Sprintf("https://activate.example.com/api/v1/receipts/a/avr_k?m=%d", m.ID)
	}})
}

func send(t *testing.T, g messaging.Gateway, to string) (string, error) {
	return messagingtest.Send(t, g, &model.Message{ID: 5, Channel: "sms", Recipient: to, Body: "Hallo: https://activate.example.com/a/avl_x"})
}

func TestSendOK(t *testing.T) {
	s, g := setup(t, "pw-secret")
	if _, err := send(t, g, "+41780000000"); err != nil {
		t.Fatal(err)
	}
	r := s.Accepted()[0]
	if r["URLDeliveryNotification"] != "https://activate.example.com/api/v1/receipts/a/avr_k?m=5&status=delivered&trn=" ||
		r["URLNonDeliveryNotification"] != "https://activate.example.com/api/v1/receipts/a/avr_k?m=5&status=not_delivered&trn=" ||
		r["Originator"] != "ACME" || r["MessageText"] == "" {
		t.Fatalf("request: %v", r)
	}
}

func TestStringStatusCodes(t *testing.T) {
	_, g := setup(t, "pw-secret")
	var p *messaging.PermanentError
	var tmp *messaging.TemporaryError
	if _, err := send(t, g, "+41780000005"); !errors.As(err, &p) || !strings.Contains(err.Error(), "Not enough credits") {
		t.Errorf("no credit: want permanent, got %v", err)
	}
	for _, to := range []string{"+41780000024", "+41780000006"} {
		if _, err := send(t, g, to); !errors.As(err, &tmp) {
			t.Errorf("%s: want temporary, got %v", to, err)
		}
	}
	_, bad := setup(t, "wrong")
	if _, err := send(t, bad, "+41780000000"); !errors.As(err, &p) || !strings.Contains(err.Error(), "StatusCode 9") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad password: want permanent StatusCode 9, got %v", err)
	}
}

func TestParseReceipt(t *testing.T) {
	q, _ := url.ParseQuery("m=5&status=delivered&trn=12345")
	u, err := aspsms.ParseReceipt(messaging.ReceiptRequest{Method: "GET", Query: q})
	if err != nil || u[0].MessageID != 5 || u[0].Outcome != messaging.OutcomeDelivered {
		t.Fatalf("%+v %v", u, err)
	}
	q.Set("status", "not_delivered")
	if u, _ := aspsms.ParseReceipt(messaging.ReceiptRequest{Method: "GET", Query: q}); u[0].Outcome != messaging.OutcomeFailed {
		t.Fatalf("%+v", u)
	}
}
