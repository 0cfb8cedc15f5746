package orange_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/messagingtest"
	"github.com/activator-voip/activator/internal/messaging/orange"
	"github.com/activator-voip/activator/internal/model"
)

// standIn is Orange's token endpoint and SMS API: client credentials with
// Basic auth and Accept: application/json (406 without), a token whose
// expires_in is a string; the sender URL-encoded in the path as
// tel%3A%2B<number> and the same in the body; 201 with a resourceURL; a
// request it cannot read is a 400 service exception SVC0002. It keeps each
// accepted outboundSMSMessageRequest.
type standIn struct {
	messagingtest.StandIn[map[string]any]
	mu           sync.Mutex
	tokens       int
	live         map[string]bool
	expireNext   bool // the next send answers 401 code 42, as if the token expired
	lastRawPath  string
	tokenRefused bool
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/oauth/v3/token":
		if r.Header.Get("Accept") != "application/json" {
			w.WriteHeader(406)
			return
		}
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			s.Bad(w, "token: %s with %s", r.Method, r.Header.Get("Content-Type"))
			return
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("client-id:client-secret"))
		if r.Header.Get("Authorization") != want || s.tokenRefused {
			w.WriteHeader(401)
			io.WriteString(w, `{"code":41,"message":"Invalid credentials","description":"The requested service needs credentials, but the ones provided were invalid."}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if string(b) != "grant_type=client_credentials" {
			s.Bad(w, "token body %q", b)
			return
		}
		s.tokens++
		tok := fmt.Sprintf("tok-%d", s.tokens)
		s.live[tok] = true
		fmt.Fprintf(w, `{"token_type":"Bearer","access_token":%q,"expires_in":"3600"}`, tok)
	case strings.HasPrefix(r.URL.Path, "/smsmessaging/v1/outbound/"):
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" {
			s.Bad(w, "send: %s with %s", r.Method, r.Header.Get("Content-Type"))
			return
		}
		s.lastRawPath = r.URL.EscapedPath()
		if s.lastRawPath != "/smsmessaging/v1/outbound/tel%3A%2B2250000/requests" {
			s.Bad(w, "path %s: want the sender as tel%%3A%%2B2250000", s.lastRawPath)
			return
		}
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if s.expireNext && s.live[tok] {
			s.expireNext, s.live[tok] = false, false
		}
		if !s.live[tok] {
			w.WriteHeader(401)
			io.WriteString(w, `{"code":42,"message":"Expired credentials","description":"The requested service needs credentials, and the ones provided were out-of-date."}`)
			return
		}
		var req struct {
			R map[string]any `json:"outboundSMSMessageRequest"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.R == nil {
			s.Bad(w, "body: %v", err)
			return
		}
		if req.R["senderAddress"] != "tel:+2250000" {
			s.Bad(w, "senderAddress %v must match the path", req.R["senderAddress"])
			return
		}
		addr, _ := req.R["address"].(string)
		if !strings.HasPrefix(addr, "tel:+") {
			s.Bad(w, "address %q", addr)
			return
		}
		text, _ := req.R["outboundSMSTextMessage"].(map[string]any)
		if text == nil || text["message"] == "" {
			s.Bad(w, "no outboundSMSTextMessage.message")
			return
		}
		sends := s.Accept(req.R)
		switch addr {
		case "tel:+2250102039999":
			w.WriteHeader(400)
			io.WriteString(w, `{"requestError":{"policyException":{"messageId":"POL1102","text":"Recipient not allowed"}}}`)
		case "tel:+2250102030429":
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(429)
			io.WriteString(w, `{"code":53,"message":"Too many requests"}`)
		default:
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"outboundSMSMessageRequest":{"address":[%q],"senderAddress":"tel:+2250000","outboundSMSTextMessage":{"message":"x"},
				"resourceURL":"https://api.orange.com/smsmessaging/v1/outbound/tel:+2250000/requests/a1b2c3d4-%d"}}`, addr, sends)
		}
	default:
		s.Bad(w, "unexpected %s %s", r.Method, r.URL.Path)
	}
}

func setup(t *testing.T) (*standIn, messaging.Gateway) {
	t.Helper()
	return setupWithSender(t, "+2250000")
}

func setupWithSender(t *testing.T, sender string) (*standIn, messaging.Gateway) {
	t.Helper()
	s := &standIn{live: map[string]bool{}}
	s.Refuse = func(w http.ResponseWriter, msg string) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"requestError":{"serviceException":{"messageId":"SVC0002","text":%q}}}`, msg)
	}
	settings := map[string]string{"client_id": "client-id", "client_secret": "client-secret", "sender_address": sender, "sender_name": "ACME", "base_url": s.Start(t, s)}
	return s, messagingtest.Build(t, orange.Kind, settings, messaging.Options{})
}

func send(t *testing.T, g messaging.Gateway, to string) (string, error) {
	return messagingtest.Send(t, g, &model.Message{ID: 4, Channel: "sms", Recipient: to, Body: "Bonjour: https://activate.example.com/a/avl_x"})
}

// Orange's documentation writes the sender as tel:+2250000 (the form its
// URL path carries); the bare and + forms are accepted too, and all three
// reach Orange as tel:+2250000 (the stand-in checks the path and body).
func TestSenderAddressInEveryFormOrangeWrites(t *testing.T) {
	for _, sender := range []string{"tel:+2250000", "TEL:+2250000", "+2250000", "2250000", " tel:+2250000 "} {
		t.Run(sender, func(t *testing.T) {
			s, g := setupWithSender(t, sender)
			if _, err := send(t, g, "+2250102030405"); err != nil {
				t.Fatalf("send with sender %q: %v", sender, err)
			}
			if sends := len(s.Accepted()); sends != 1 {
				t.Fatalf("the stand-in took %d sends, want 1", sends)
			}
		})
	}
	spec := orange.Kind
	for _, bad := range []string{"tel:", "tel:+22a0000", "sip:+2250000", "+22"} {
		settings := map[string]string{"client_id": "c", "client_secret": "s", "sender_address": bad}
		err := spec.Validate(settings)
		var se *messaging.SettingError
		if !errors.As(err, &se) || se.Key != "sender_address" {
			t.Errorf("sender %q: want an error naming sender_address, got %v", bad, err)
		}
	}
}

func TestTokenCachedAndRenewedOn401(t *testing.T) {
	s, g := setup(t)
	for i := 1; i <= 3; i++ {
		id, err := send(t, g, "+2250102030405")
		if err != nil || id != fmt.Sprintf("a1b2c3d4-%d", i) {
			t.Fatalf("send %d: %q %v", i, id, err)
		}
	}
	if s.tokens != 1 {
		t.Fatalf("three sends fetched %d tokens; the token must be cached", s.tokens)
	}
	if last := s.Accepted()[2]; last["senderName"] != "ACME" || last["address"] != "tel:+2250102030405" {
		t.Fatalf("request: %v", last)
	}
	s.expireNext = true
	if _, err := send(t, g, "+2250102030405"); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if s.tokens != 2 {
		t.Fatalf("an expired token (401 code 42) must be renewed once: %d tokens", s.tokens)
	}
}

func TestErrors(t *testing.T) {
	s, g := setup(t)
	var p *messaging.PermanentError
	var tmp *messaging.TemporaryError
	if _, err := send(t, g, "+2250102039999"); !errors.As(err, &p) || !strings.Contains(err.Error(), "POL1102") {
		t.Errorf("policy exception: want permanent POL1102, got %v", err)
	}
	if _, err := send(t, g, "+2250102030429"); !errors.As(err, &tmp) || tmp.RetryAfter != 2*time.Second {
		t.Errorf("429: want temporary after 2s, got %v", err)
	}
	if s.tokens != 1 {
		t.Errorf("tokens fetched: %d", s.tokens)
	}
	s2, g3 := setup(t)
	s2.tokenRefused = true
	if _, err := send(t, g3, "+2250102030405"); !errors.As(err, &p) || !strings.Contains(err.Error(), "bad credentials") || strings.Contains(err.Error(), "client-secret") {
		t.Errorf("refused credentials: want permanent, got %v", err)
	}
}

func TestParseReceipt(t *testing.T) {
	body := `{"deliveryInfoNotification":{"callbackData":"4","deliveryInfo":{"address":"tel:+2250102030405","deliveryStatus":"DeliveredToTerminal"}}}`
	u, err := orange.ParseReceipt(messaging.ReceiptRequest{Method: "POST", Body: []byte(body)})
	if err != nil || u[0].MessageID != 4 || u[0].Recipient != "+2250102030405" || u[0].Outcome != messaging.OutcomeDelivered {
		t.Fatalf("%+v %v", u, err)
	}
	body = `{"deliveryInfoNotification":{"deliveryInfo":{"address":"tel:+2250102030405","deliveryStatus":"DeliveryImpossible"}}}`
	u, err = orange.ParseReceipt(messaging.ReceiptRequest{Method: "POST", Body: []byte(body)})
	if err != nil || u[0].MessageID != 0 || u[0].Outcome != messaging.OutcomeFailed {
		t.Fatalf("%+v %v", u, err)
	}
}
