package app

import (
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/activator-voip/activator/internal/messaging"
)

// FuzzReceipts reads arbitrary callbacks with the receipt parser of every
// gateway kind that has one (the first input byte picks it: a new kind is
// covered as it is listed), built as the server builds them from a request.
// A parser answers an error or updates, the same ones every time; every
// update's outcome is delivered, failed or pending; what the domain keeps
// of it is bounded and holds no control character; and a kind that checks
// signatures refuses a callback that carries none.
//
//	go test -run='^$' -fuzz=FuzzReceipts -fuzztime=20s ./internal/app/
func FuzzReceipts(f *testing.F) {
	var kinds []messaging.Kind
	for _, k := range gatewayKinds() {
		if k.ParseReceipt != nil {
			kinds = append(kinds, k)
		}
	}
	// The seed corpus is testdata/fuzz/FuzzReceipts; here, one empty
	// callback for each kind.
	for i := range kinds {
		f.Add(uint8(i), true, "application/x-www-form-urlencoded", "m=1", []byte(""))
	}
	f.Fuzz(func(t *testing.T, pick uint8, post bool, contentType, query string, body []byte) {
		k := kinds[int(pick)%len(kinds)]
		q, _ := url.ParseQuery(query) // the server reads r.URL.Query(), which keeps what parses
		r := messaging.ReceiptRequest{Method: http.MethodGet, URL: "https://activate.example.com/api/v1/receipts/gw/avr_x?" + query,
			Query: q, Body: body, Form: url.Values{}, Header: http.Header{"Content-Type": {contentType}}}
		if post {
			r.Method = http.MethodPost
		}
		if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/x-www-form-urlencoded" {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return // the server answers 400 before any parser runs
			}
			r.Form = form
		}
		if k.VerifyReceipt != nil && k.VerifyReceipt(k.WithDefaults(map[string]string{"auth_token": "tok"}), r) {
			t.Fatalf("%s: a callback without a signature is verified", k.Name)
		}
		updates, err := k.ParseReceipt(r)
		again, err2 := k.ParseReceipt(r)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(updates, again) {
			t.Fatalf("%s: the same callback read twice reads differently: %v %v / %v %v", k.Name, updates, err, again, err2)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("%s: an error without words", k.Name)
			}
			return
		}
		for _, u := range updates {
			if !slices.Contains([]string{messaging.OutcomeDelivered, messaging.OutcomeFailed, messaging.OutcomePending}, u.Outcome) {
				t.Fatalf("%s: outcome %q", k.Name, u.Outcome)
			}
			b := u.Bounded()
			for what, v := range map[string]struct {
				s   string
				max int
			}{"provider id": {b.ProviderID, 200}, "recipient": {b.Recipient, 64}, "status": {b.Status, 64}, "reason": {b.Reason, 500}} {
				if !utf8.ValidString(v.s) || utf8.RuneCountInString(v.s) > v.max || slices.ContainsFunc([]rune(v.s), unicode.IsControl) {
					t.Fatalf("%s: the %s kept is %q", k.Name, what, v.s)
				}
			}
			if b.Bounded() != b || b.MessageID != u.MessageID || b.Outcome != u.Outcome {
				t.Fatalf("%s: bounding %+v again changes it: %+v", k.Name, b, b.Bounded())
			}
		}
	})
}
