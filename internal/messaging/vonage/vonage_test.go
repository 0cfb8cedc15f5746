package vonage_test

import (
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
	"github.com/activator-voip/activator/internal/messaging/vonage"
	"github.com/activator-voip/activator/internal/model"
)

// standIn is the Nexmo/Vonage SMS API (definitions/sms.yml): a form POST to
// /sms/json with api_key and api_secret in the body, `to` as digits without
// '+', and every answer an HTTP 200 whose messages[] carry the status,
// errors included (status 2 for a request it cannot read). It keeps each
// accepted form.
type standIn struct {
	messagingtest.StandIn[url.Values]
}

var toRe = regexp.MustCompile(`^\d{7,15}$`)

var allowed = map[string]bool{"api_key": true, "api_secret": true, "from": true, "to": true, "text": true, "type": true,
	"status-report-req": true, "callback": true, "client-ref": true, "ttl": true, "message-class": true, "account-ref": true}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != "POST" || r.URL.Path != "/sms/json" {
		s.Bad(w, "unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		s.Bad(w, "Content-Type %q", ct)
		return
	}
	r.ParseForm()
	f := r.PostForm
	for k := range f {
		if !allowed[k] {
			s.Bad(w, "unknown parameter %s", k)
			return
		}
	}
	if f.Get("api_key") != "abcd1234" || f.Get("api_secret") != "0123456789abcdef" {
		fmt.Fprint(w, `{"message-count":"1","messages":[{"status":"4","error-text":"Bad Credentials"}]}`)
		return
	}
	if f.Has("sig") {
		fmt.Fprint(w, `{"message-count":"1","messages":[{"status":"32","error-text":"Signature and API secret disallowed"}]}`)
		return
	}
	if !toRe.MatchString(f.Get("to")) {
		s.Bad(w, "to %q: want digits without +", f.Get("to"))
		return
	}
	if f.Get("from") == "" || f.Get("text") == "" {
		s.Bad(w, "missing from or text")
		return
	}
	if t := f.Get("type"); t != "" && t != "text" && t != "unicode" {
		s.Bad(w, "type %q", t)
		return
	}
	if cr := f.Get("client-ref"); len(cr) > 40 {
		s.Bad(w, "client-ref over 40 characters")
		return
	}
	s.Accept(f)
	switch f.Get("to") {
	case "447700900001":
		fmt.Fprint(w, `{"message-count":"1","messages":[{"status":"1","error-text":"You have exceeded the submission capacity allowed on this account, please back-off and retry"}]}`)
	case "447700900003":
		fmt.Fprint(w, `{"message-count":"1","messages":[{"status":"3","error-text":"Invalid to param"}]}`)
	case "447700900009":
		fmt.Fprint(w, `{"message-count":"1","messages":[{"status":"9","error-text":"Quota Exceeded - rejected"}]}`)
	case "447700900005":
		fmt.Fprint(w, `{"message-count":"1","messages":[{"status":"5","error-text":"Internal Error"}]}`)
	default:
		fmt.Fprintf(w, `{"message-count":"2","messages":[
			{"to":%q,"message-id":"0A0000000123ABCD1","status":"0","remaining-balance":"3.14159265","message-price":"0.03330000","network":"12345"},
			{"to":%q,"message-id":"0A0000000123ABCD2","status":"0","remaining-balance":"3.11","message-price":"0.03330000","network":"12345"}]}`, f.Get("to"), f.Get("to"))
	}
}

func setup(t *testing.T, secret string) (*standIn, messaging.Gateway) {
	t.Helper()
	s := &standIn{}
	s.Refuse = func(w http.ResponseWriter, msg string) {
		fmt.Fprintf(w, `{"message-count":"1","messages":[{"status":"2","error-text":%q}]}`, msg)
	}
	settings := map[string]string{"api_key": "abcd1234", "api_secret": secret, "from": "ACME IT", "base_url": s.Start(t, s)}
	spec, _ := messaging.Kinds{vonage.Kind}.Find("nexmo") // the old name finds Vonage
	return s, messagingtest.Build(t, spec, settings, messaging.Options{ReceiptURL: func(m *model.Message) string {
		return fmt.Sprintf("https://activate.example.com/api/v1/receipts/v/avr_k?m=%d", m.ID)
	}})
}

func send(t *testing.T, g messaging.Gateway, to, text string) (string, error) {
	return messagingtest.Send(t, g, &model.Message{ID: 9, Channel: "sms", Recipient: to, Body: text})
}

func TestSendLongUnicodeMessage(t *testing.T) {
	s, g := setup(t, "0123456789abcdef")
	id, err := send(t, g, "+447700900000", strings.Repeat("Grüße ✓ ", 20))
	if err != nil || id != "0A0000000123ABCD1" {
		t.Fatalf("send: %q %v", id, err)
	}
	f := s.Accepted()[0]
	if f.Get("to") != "447700900000" || f.Get("type") != "unicode" || f.Get("from") != "ACMEIT" || f.Get("client-ref") != "activator-9" ||
		f.Get("callback") != "https://activate.example.com/api/v1/receipts/v/avr_k?m=9" || f.Get("status-report-req") != "true" {
		t.Fatalf("request: %v", f)
	}
	if _, err := send(t, g, "+447700900000", "plain GSM text"); err != nil || s.Accepted()[1].Has("type") {
		t.Fatalf("GSM text must go as the default type: %v %v", s.Accepted()[1], err)
	}
}

func TestErrorsInsideA200(t *testing.T) {
	_, g := setup(t, "0123456789abcdef")
	var p *messaging.PermanentError
	var tmp *messaging.TemporaryError
	if _, err := send(t, g, "+447700900001", "x"); !errors.As(err, &tmp) || tmp.RetryAfter < time.Second || !strings.Contains(err.Error(), "status 1") {
		t.Errorf("throttled: want temporary, got %v", err)
	}
	if _, err := send(t, g, "+447700900005", "x"); !errors.As(err, &tmp) {
		t.Errorf("internal error: want temporary, got %v", err)
	}
	if _, err := send(t, g, "+447700900003", "x"); !errors.As(err, &p) || !strings.Contains(err.Error(), "Invalid to param") {
		t.Errorf("invalid number: want permanent, got %v", err)
	}
	if _, err := send(t, g, "+447700900009", "x"); !errors.As(err, &p) || !strings.Contains(err.Error(), "Quota") {
		t.Errorf("no credit: want permanent, got %v", err)
	}
	_, bad := setup(t, "ffffffffffffffff")
	if _, err := send(t, bad, "+447700900000", "x"); !errors.As(err, &p) || !strings.Contains(err.Error(), "status 4") || strings.Contains(err.Error(), "ffff") {
		t.Errorf("bad credentials: want permanent status 4 without the secret, got %v", err)
	}
}

func TestParseReceiptQueryAndJSON(t *testing.T) {
	q := url.Values{"m": {"9"}, "msisdn": {"447700900000"}, "to": {"ACME"}, "messageId": {"0A0000000123ABCD1"}, "status": {"delivered"},
		"err-code": {"0"}, "message-timestamp": {"2020-01-01 12:00:00"}}
	u, err := vonage.ParseReceipt(messaging.ReceiptRequest{Method: "GET", Query: q})
	if err != nil || u[0].MessageID != 9 || u[0].Outcome != messaging.OutcomeDelivered || u[0].ProviderID != "0A0000000123ABCD1" {
		t.Fatalf("%+v %v", u, err)
	}
	body := []byte(`{"msisdn":"447700900000","to":"ACME","messageId":"0A0000000123ABCD1","status":"rejected","err-code":"6","client-ref":"activator-12"}`)
	u, err = vonage.ParseReceipt(messaging.ReceiptRequest{Method: "POST", Query: url.Values{}, Body: body})
	if err != nil || u[0].MessageID != 12 || u[0].Outcome != messaging.OutcomeFailed || !strings.Contains(u[0].Reason, "err-code 6") {
		t.Fatalf("%+v %v", u, err)
	}
	if _, err := vonage.ParseReceipt(messaging.ReceiptRequest{Query: url.Values{"m": {"1"}}}); err == nil {
		t.Fatal("a receipt without messageId and status was accepted")
	}
}
