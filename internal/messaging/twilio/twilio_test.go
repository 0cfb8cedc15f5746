package twilio_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/messagingtest"
	"github.com/activator-voip/activator/internal/messaging/twilio"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/testnet"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "auth-token-0123456789"
)

// standIn is Twilio's Messages API as its documentation and twilio-go
// describe it: it checks the method, path, Basic auth, form encoding, the
// fields and the number format, and answers with the documented bodies
// (code 21000 for a request it cannot read). It keeps each accepted form.
type standIn struct {
	messagingtest.StandIn[url.Values]
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

var allowed = map[string]bool{"To": true, "From": true, "MessagingServiceSid": true, "Body": true, "StatusCallback": true,
	"SmartEncoded": true, "ValidityPeriod": true, "MaxPrice": true}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != "POST" || r.URL.Path != "/2010-04-01/Accounts/"+sid+"/Messages.json" {
		s.Bad(w, "unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	u, p, ok := r.BasicAuth()
	if !ok || u != sid {
		s.Bad(w, "no Basic auth with the account SID")
		return
	}
	if p != token {
		w.WriteHeader(401)
		io := `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`
		w.Write([]byte(io))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		s.Bad(w, "Content-Type %q, want application/x-www-form-urlencoded", ct)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.Bad(w, "bad form: %v", err)
		return
	}
	f := r.PostForm
	for k := range f {
		if !allowed[k] {
			s.Bad(w, "unknown field %s", k)
			return
		}
	}
	if !e164.MatchString(f.Get("To")) {
		s.Bad(w, "To %q is not E.164 with +", f.Get("To"))
		return
	}
	if (f.Get("From") == "") == (f.Get("MessagingServiceSid") == "") {
		s.Bad(w, "want exactly one of From and MessagingServiceSid")
		return
	}
	if b := f.Get("Body"); b == "" || len([]rune(b)) > 1600 {
		s.Bad(w, "Body empty or over 1600 characters")
		return
	}
	if cb := f.Get("StatusCallback"); cb != "" {
		cu, err := url.Parse(cb)
		if err != nil || cu.Scheme == "" || strings.Contains(cu.Hostname(), "_") || len(cb) > 4000 {
			w.WriteHeader(400)
			w.Write([]byte(`{"code":21609,"message":"Invalid StatusCallback","status":400}`))
			return
		}
	}
	s.Accept(f)
	switch f.Get("To") {
	case "+15005550001":
		w.WriteHeader(400)
		w.Write([]byte(`{"code":21211,"message":"The 'To' number +15005550001 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`))
	case "+15005550429":
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(429)
		w.Write([]byte(`{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}`))
	case "+15005550500":
		w.WriteHeader(503)
		w.Write([]byte(`{"code":20500,"message":"Internal Server Error","status":503}`))
	default:
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{
			"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": f.Get("To"), "from": f.Get("From"),
			"body": f.Get("Body"), "num_segments": "1", "num_media": "0", "direction": "outbound-api", "account_sid": sid,
			"api_version": "2010-04-01", "date_created": time.Now().Format(time.RFC1123Z), "error_code": nil, "error_message": nil,
			"price": nil, "price_unit": "USD", "messaging_service_sid": f.Get("MessagingServiceSid"),
			"uri": "/2010-04-01/Accounts/" + sid + "/Messages/SM0123456789abcdef0123456789abcdef.json", "subresource_uris": map[string]string{},
		})
	}
}

func setup(t *testing.T, settings map[string]string) (*standIn, messaging.Gateway) {
	t.Helper()
	s := &standIn{}
	s.Refuse = func(w http.ResponseWriter, msg string) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"code":21000,"message":%q,"status":400}`, msg)
	}
	full := map[string]string{"account_sid": sid, "auth_token": token, "from": "+15005550006", "base_url": s.Start(t, s)}
	for k, v := range settings {
		if v == "" {
			delete(full, k)
		} else {
			full[k] = v
		}
	}
	return s, messagingtest.Build(t, twilio.Kind, full, messaging.Options{ReceiptURL: func(m *model.Message) string {
		return fmt.Sprintf("https://activate.example.com/api/v1/receipts/tw/avr_key?m=%d", m.ID)
	}})
}

func send(t *testing.T, g messaging.Gateway, to string) (string, error) {
	return messagingtest.Send(t, g, &model.Message{ID: 7, Channel: "sms", Recipient: to, Body: "Ciao Ada: https://activate.example.com/a/avl_x"})
}

func TestSendSuccess(t *testing.T) {
	s, g := setup(t, nil)
	id, err := send(t, g, "+393331234567")
	if err != nil || id != "SM0123456789abcdef0123456789abcdef" {
		t.Fatalf("send: %q %v", id, err)
	}
	f := s.Accepted()[0]
	if f.Get("StatusCallback") != "https://activate.example.com/api/v1/receipts/tw/avr_key?m=7" || f.Get("From") != "+15005550006" {
		t.Fatalf("request: %v", f)
	}
}

func TestMessagingServiceSid(t *testing.T) {
	s, g := setup(t, map[string]string{"from": "", "messaging_service_sid": "MG0123"})
	if _, err := send(t, g, "+393331234567"); err != nil {
		t.Fatal(err)
	}
	if f := s.Accepted()[0]; f.Get("MessagingServiceSid") != "MG0123" || f.Has("From") {
		t.Fatalf("request: %v", f)
	}
}

func TestErrors(t *testing.T) {
	_, g := setup(t, nil)
	var p *messaging.PermanentError
	var tmp *messaging.TemporaryError
	if _, err := send(t, g, "+15005550001"); !errors.As(err, &p) || !strings.Contains(err.Error(), "21211") {
		t.Errorf("invalid number: want permanent 21211, got %v", err)
	}
	if _, err := send(t, g, "+15005550429"); !errors.As(err, &tmp) || tmp.RetryAfter != 7*time.Second || !strings.Contains(err.Error(), "20429") {
		t.Errorf("429: want temporary after 7s, got %v", err)
	}
	if _, err := send(t, g, "+15005550500"); !errors.As(err, &tmp) {
		t.Errorf("503: want temporary, got %v", err)
	}
	if _, err := send(t, g, "393331234567x"); !errors.As(err, &p) {
		t.Errorf("not a number: want permanent, got %v", err)
	}
	_, bad := setup(t, map[string]string{"auth_token": "wrong"})
	if _, err := send(t, bad, "+393331234567"); !errors.As(err, &p) || !strings.Contains(err.Error(), "bad credentials") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad token: want permanent 'bad credentials' without the token, got %v", err)
	}
}

func TestNetworkErrorIsTemporary(t *testing.T) {
	base := "http://" + testnet.RefusingAddr(t)
	g := messagingtest.Build(t, twilio.Kind, map[string]string{"account_sid": sid, "auth_token": token, "from": "+1500", "base_url": base}, messaging.Options{})
	_, err := send(t, g, "+393331234567")
	var tmp *messaging.TemporaryError
	if !errors.As(err, &tmp) {
		t.Fatalf("want temporary, got %v", err)
	}
}

// The vector twilio-node's own tests sign with auth token "12345".
func TestSignatureKnownVector(t *testing.T) {
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"}, "From": {"+14158675309"}, "To": {"+18005551212"}}
	u := "https://mycompany.com/myapp.php?foo=1&bar=2"
	if got := twilio.Signature("12345", u, form); got != "RSOYDt4T1cUTdK1PDd93/VVr8B8=" {
		t.Fatalf("signature %q", got)
	}
	if !twilio.CheckSignature("12345", u, form, "RSOYDt4T1cUTdK1PDd93/VVr8B8=") {
		t.Fatal("known signature refused")
	}
	form.Set("Digits", "9999")
	if twilio.CheckSignature("12345", u, form, "RSOYDt4T1cUTdK1PDd93/VVr8B8=") {
		t.Fatal("tampered form accepted")
	}
}

func TestParseReceipt(t *testing.T) {
	r := messaging.ReceiptRequest{Method: "POST", Query: url.Values{"m": {"7"}}, Form: url.Values{
		"MessageSid": {"SMx"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}, "To": {"+393331234567"}, "SomethingNew": {"x"}}}
	u, err := twilio.ParseReceipt(r)
	if err != nil || len(u) != 1 || u[0].MessageID != 7 || u[0].ProviderID != "SMx" || u[0].Outcome != messaging.OutcomeFailed || !strings.Contains(u[0].Reason, "30003") {
		t.Fatalf("%+v %v", u, err)
	}
	r.Form.Set("MessageStatus", "delivered")
	if u, _ := twilio.ParseReceipt(r); u[0].Outcome != messaging.OutcomeDelivered {
		t.Fatalf("%+v", u)
	}
	r.Form.Set("MessageStatus", "sent")
	if u, _ := twilio.ParseReceipt(r); u[0].Outcome != messaging.OutcomePending {
		t.Fatalf("%+v", u)
	}
}
