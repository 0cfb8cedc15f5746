package aspsms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/aspsms"
	"github.com/activator-voip/activator/internal/model"
)

// standIn is json.aspsms.com's SendTextSMS: a POST of a raw JSON object
// (no Content-Type required) carrying UserName and Password, answered with
// HTTP 200 and string StatusCode/StatusInfo, errors included.
type standIn struct {
	mu       sync.Mutex
	requests []map[string]any
	problems []string
}

var fields = map[string]bool{"UserName": true, "Password": true, "Originator": true, "Recipients": true, "MessageText": true,
	"DeferredDeliveryTime": true, "FlashingSMS": true, "URLBufferedMessageNotification": true, "URLDeliveryNotification": true,
	"URLNonDeliveryNotification": true, "AffiliateID": true, "ForceGSM7bit": true}

var e164 = regexp.MustCompile(`^(\+|00)[1-9][0-9]{6,14}$`)

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(code, info string) { fmt.Fprintf(w, `{"StatusCode":%q,"StatusInfo":%q}`, code, info) }
	bad := func(format string, args ...any) {
		s.mu.Lock()
		s.problems = append(s.problems, fmt.Sprintf(format, args...))
		s.mu.Unlock()
		answer("11", "Invalid message data")
	}
	if r.Method != "POST" || r.URL.Path != "/SendTextSMS" {
		bad("unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		bad("body is not JSON: %v", err)
		return
	}
	for k := range req {
		if !fields[k] {
			bad("unknown field %s", k)
			return
		}
	}
	if req["UserName"] != "USERKEY123" {
		answer("8", "Invalid UserKey")
		return
	}
	if req["Password"] != "pw-secret" {
		answer("9", "Invalid Password")
		return
	}
	orig, _ := req["Originator"].(string)
	if !regexp.MustCompile(`^([A-Za-z0-9 ]{1,11}|\+?[0-9]{3,15})$`).MatchString(orig) {
		answer("10", "Invalid originator (max 11 alphanumeric)")
		return
	}
	rcpts, _ := req["Recipients"].([]any)
	if len(rcpts) == 0 {
		answer("20", "Missing recipient")
		return
	}
	for _, x := range rcpts {
		if s, _ := x.(string); !e164.MatchString(s) {
			bad("recipient %v is not +E.164", x)
			return
		}
	}
	for _, k := range []string{"URLDeliveryNotification", "URLNonDeliveryNotification"} {
		if v, ok := req[k].(string); ok {
			if u, err := url.Parse(v); err != nil || u.Scheme == "" {
				answer("18", "Invalid delivery notification URL")
				return
			}
		}
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	switch rcpts[0] {
	case "+41780000005":
		answer("5", "Not enough credits")
	case "+41780000024":
		answer("24", "Service temporarily unavailable")
	case "+41780000006":
		answer("6", "Timeout")
	default:
		answer("1", "OK")
	}
}

func setup(t *testing.T, password string) (*standIn, *aspsms.Gateway) {
	t.Helper()
	s := &standIn{}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		for _, p := range s.problems {
			t.Errorf("stand-in refused the request: %s", p)
		}
	})
	settings := map[string]string{"userkey": "USERKEY123", "password": password, "originator": "ACME", "base_url": srv.URL}
	spec := aspsms.Kind
	if err := spec.Validate(settings); err != nil {
		t.Fatal(err)
	}
	g, _ := aspsms.New("a", spec.WithDefaults(settings), messaging.Options{ReceiptURL: func(m *model.Message) string {
		return fmt.Sprintf("https://activate.example.com/api/v1/receipts/a/avr_k?m=%d", m.ID)
	}})
	return s, g
}

func send(g *aspsms.Gateway, to string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return g.Send(ctx, &model.Message{ID: 5, Channel: "sms", Recipient: to, Body: "Hallo: https://activate.example.com/a/avl_x"})
}

func TestSendOK(t *testing.T) {
	s, g := setup(t, "pw-secret")
	if _, err := send(g, "+41780000000"); err != nil {
		t.Fatal(err)
	}
	r := s.requests[0]
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
	if _, err := send(g, "+41780000005"); !errors.As(err, &p) || !strings.Contains(err.Error(), "Not enough credits") {
		t.Errorf("no credit: want permanent, got %v", err)
	}
	for _, to := range []string{"+41780000024", "+41780000006"} {
		if _, err := send(g, to); !errors.As(err, &tmp) {
			t.Errorf("%s: want temporary, got %v", to, err)
		}
	}
	_, bad := setup(t, "wrong")
	if _, err := send(bad, "+41780000000"); !errors.As(err, &p) || !strings.Contains(err.Error(), "StatusCode 9") || strings.Contains(err.Error(), "wrong") {
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
