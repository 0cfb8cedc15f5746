package activation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/outbox"
	"github.com/activator-voip/activator/internal/messaging/smtp"
	"github.com/activator-voip/activator/internal/messaging/twilio"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
	"github.com/activator-voip/activator/internal/testnet"
)

// testGatewayKinds are the kinds these tests configure: real adapters,
// sending to stand-ins of their providers. (internal/app lists every kind;
// the domain's own code imports none.)
var testGatewayKinds = messaging.Kinds{smtp.Kind, smtp.GMailKind, twilio.Kind}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) || de.Kind != KindInvalid || de.Field != field {
		t.Fatalf("want invalid %s, got %v", field, err)
	}
}

func twilioInput(name, base string) model.GatewayInput {
	return model.GatewayInput{Name: strp(name), KindName: strp("twilio"), Settings: map[string]string{
		"account_sid": "AC1", "auth_token": "tok-secret-1", "from": "+15005550006", "base_url": base}}
}

func TestGatewayConfigurationMasksSecretsAndValidates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		g, err := dom.Gateways.Create(ctx, twilioInput("sms-main", "https://api.twilio.com"), admin)
		if err != nil {
			t.Fatal(err)
		}
		if g.Settings["auth_token"] != messaging.Masked || g.Settings["account_sid"] != "AC1" || g.Channel != "sms" {
			t.Fatalf("settings not masked as they should be: %+v", g)
		}
		if !strings.HasPrefix(g.ReceiptURL, "http://127.0.0.1:8080/api/v1/receipts/sms-main/avr_") || g.ReceiptSet != messaging.ReceiptPerMessage {
			t.Fatalf("receipt URL %q (%s)", g.ReceiptURL, g.ReceiptSet)
		}
		row, _ := st.GatewayByName(ctx, model.DefaultOrgID, "sms-main")
		if bytes.Contains(row.Settings, []byte("tok-secret-1")) || bytes.Contains(row.ReceiptKey, []byte("avr_")) {
			t.Fatal("a secret is stored in clear")
		}

		_, err = dom.Gateways.Create(ctx, model.GatewayInput{Name: strp("x"), KindName: strp("pigeon")}, admin)
		wantInvalid(t, err, "kind")
		in := twilioInput("y", "https://api.twilio.com")
		delete(in.Settings, "auth_token")
		_, err = dom.Gateways.Create(ctx, in, admin)
		wantInvalid(t, err, "settings.auth_token")
		in = twilioInput("y", "ftp://x")
		_, err = dom.Gateways.Create(ctx, in, admin)
		wantInvalid(t, err, "settings.base_url")
		in = twilioInput("y", "https://api.twilio.com")
		in.DefaultFor = strp("email")
		_, err = dom.Gateways.Create(ctx, in, admin)
		wantInvalid(t, err, "default_for")
		_, err = dom.Gateways.Create(ctx, twilioInput("outbox", "https://api.twilio.com"), admin)
		if de := new(Error); !errors.As(err, &de) || de.Kind != KindConflict {
			t.Fatalf("the outbox's name: want a conflict, got %v", err)
		}
		_, err = dom.Gateways.Create(ctx, twilioInput("Bad Name", "https://api.twilio.com"), admin)
		wantInvalid(t, err, "name")

		// Edit: a masked value keeps the secret, a new value replaces, "" removes.
		g, err = dom.Gateways.Update(ctx, "sms-main", model.GatewayInput{Name: strp("sms-eu"), DefaultFor: strp("sms"),
			Settings: map[string]string{"auth_token": messaging.Masked, "from": "", "messaging_service_sid": "MG1"}}, admin)
		if err != nil {
			t.Fatal(err)
		}
		row, _ = st.GatewayByName(ctx, model.DefaultOrgID, "sms-eu")
		settings, _, err := dom.Gateways.openGateway(row)
		if err != nil || settings["auth_token"] != "tok-secret-1" || settings["from"] != "" || settings["messaging_service_sid"] != "MG1" || g.DefaultFor != "sms" {
			t.Fatalf("after edit: %v %v %+v", settings, err, g)
		}
		_, err = dom.Gateways.Update(ctx, "sms-eu", model.GatewayInput{Settings: map[string]string{"messaging_service_sid": ""}}, admin)
		wantInvalid(t, err, "settings.from") // neither from nor a messaging service left
		list, err := dom.Gateways.List(ctx, admin)
		if err != nil || len(list) != 1 || list[0].Settings["auth_token"] != messaging.Masked {
			t.Fatalf("list: %+v %v", list, err)
		}
		if err := dom.Gateways.Delete(ctx, "sms-eu", admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Gateways.Get(ctx, "sms-eu", admin); err == nil {
			t.Fatal("deleted gateway still shown")
		}
	})
}

func TestRoutingPerSendGroupDefaultOutbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		mustGroup(t, dom, "ops")
		a := mustAccount(t, dom)
		send := func(req model.SendRequest) (string, error) {
			res, err := dom.Links.Send(ctx, a.Username, req, admin)
			if err != nil {
				return "", err
			}
			return res.Message.Gateway, nil
		}
		if gw, err := send(model.SendRequest{Channel: "sms"}); err != nil || gw != "outbox" {
			t.Fatalf("nothing configured: %q %v", gw, err)
		}
		def := twilioInput("sms-default", "https://api.twilio.com")
		def.DefaultFor = strp("sms")
		if _, err := dom.Gateways.Create(ctx, def, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Gateways.Create(ctx, twilioInput("sms-sales", "https://api.twilio.com"), admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Gateways.Create(ctx, model.GatewayInput{Name: strp("mail"), KindName: strp("smtp"),
			Settings: map[string]string{"host": "127.0.0.1", "tls": "none", "from": "it@example.com"}}, admin); err != nil {
			t.Fatal(err)
		}
		if gw, _ := send(model.SendRequest{Channel: "sms"}); gw != "sms-default" {
			t.Fatalf("channel default: %q", gw)
		}
		if gw, _ := send(model.SendRequest{Channel: "email"}); gw != "outbox" {
			t.Fatalf("no e-mail default: %q", gw)
		}
		if err := dom.Gateways.SetGroupGateway(ctx, "sales", "sms", "sms-sales", admin); err != nil {
			t.Fatal(err)
		}
		wantInvalid(t, dom.Gateways.SetGroupGateway(ctx, "sales", "email", "sms-sales", admin), "gateway")
		if gw, _ := send(model.SendRequest{Channel: "sms"}); gw != "sms-sales" {
			t.Fatalf("group override: %q", gw)
		}
		if gw, _ := send(model.SendRequest{Channel: "sms", Gateway: "sms-default"}); gw != "sms-default" {
			t.Fatalf("per-send override: %q", gw)
		}
		if gw, _ := send(model.SendRequest{Channel: "email", Gateway: "mail"}); gw != "mail" {
			t.Fatalf("per-send e-mail: %q", gw)
		}
		_, err := send(model.SendRequest{Channel: "sms", Gateway: "mail"})
		wantInvalid(t, err, "gateway")
		_, err = send(model.SendRequest{Channel: "sms", Gateway: "nope"})
		wantInvalid(t, err, "gateway")
		if err := dom.Gateways.Delete(ctx, "sms-sales", admin); err == nil {
			t.Fatal("deleted a gateway a group uses")
		}
		if err := dom.Gateways.SetGroupGateway(ctx, "sales", "sms", "", admin); err != nil {
			t.Fatal(err)
		}
		if gw, _ := send(model.SendRequest{Channel: "sms"}); gw != "sms-default" {
			t.Fatalf("after removing the override: %q", gw)
		}
		res, _ := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: "sms"}, admin)
		if res.Message.Segments < 1 || res.Message.Segments > 2 {
			t.Fatalf("segments of the SMS: %d", res.Message.Segments)
		}
	})
}

// twilioStandIn accepts every message and records the forms it got.
type twilioStandIn struct {
	mu    sync.Mutex
	forms []url.Values
}

func (h *twilioStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	h.mu.Lock()
	h.forms = append(h.forms, r.PostForm)
	n := len(h.forms)
	h.mu.Unlock()
	w.WriteHeader(201)
	io.WriteString(w, `{"sid":"SM`+strings.Repeat("0", 30)+string(rune('a'+n%26))+`x","status":"queued"}`)
}

func (h *twilioStandIn) last() url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.forms[len(h.forms)-1]
}

// A database gateway delivers through the worker, is rebuilt when it
// changes, and its receipts move the message to delivered.
func TestDatabaseGatewayDeliversAndTakesReceipts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		stand := &twilioStandIn{}
		srv := httptest.NewServer(stand)
		defer srv.Close()
		in := twilioInput("tw", srv.URL)
		in.DefaultFor = strp("sms")
		gw, err := dom.Gateways.Create(ctx, in, admin)
		if err != nil {
			t.Fatal(err)
		}
		loader := dom.Gateways.NewLoader(messaging.Options{})
		reg := messaging.NewRegistry(loader.Load, outbox.New(st, testBox(t)))
		w := messaging.NewWorker(st, reg, messaging.WorkerConfig{PollInterval: 10 * time.Millisecond, Secrets: testBox(t)}, slog.New(slog.DiscardHandler))
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { w.Run(wctx); close(done) }()
		defer func() { stop(); <-done }()

		waitState := func(id int64, state string) *store.MessageRow {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for {
				m, err := st.MessageByID(ctx, id)
				if err == nil && m.State == state {
					return m
				}
				if time.Now().After(deadline) {
					t.Fatalf("message %d: state %q, want %q (%v)", id, m.State, state, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		res, err := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: "sms"}, admin)
		if err != nil {
			t.Fatal(err)
		}
		w.Notify()
		m := waitState(res.Message.ID, model.MessageSent)
		if !strings.HasPrefix(m.ProviderID, "SM") || stand.last().Get("From") != "+15005550006" {
			t.Fatalf("sent: %+v %v", m.Message, stand.last())
		}
		cb := stand.last().Get("StatusCallback")
		if !strings.HasPrefix(cb, gw.ReceiptURL+"?m=") {
			t.Fatalf("StatusCallback %q is not the gateway's receipt URL %q with the message id", cb, gw.ReceiptURL)
		}

		// The gateway changes: the next message goes out with the new sender.
		if _, err := dom.Gateways.Update(ctx, "tw", model.GatewayInput{Settings: map[string]string{"from": "+15005550007"}}, admin); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // the loader checks for changes every second
		res2, _ := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: "sms"}, admin)
		w.Notify()
		waitState(res2.Message.ID, model.MessageSent)
		if stand.last().Get("From") != "+15005550007" {
			t.Fatalf("the changed gateway was not rebuilt: From %q", stand.last().Get("From"))
		}

		// Receipts: authenticated by the URL key and Twilio's signature.
		cu, _ := url.Parse(cb)
		key := strings.TrimPrefix(cu.Path, "/api/v1/receipts/tw/")
		form := url.Values{"MessageSid": {m.ProviderID}, "MessageStatus": {"delivered"}, "AccountSid": {"AC1"}, "To": {m.Recipient}}
		signed := func(sig string) messaging.ReceiptRequest {
			return messaging.ReceiptRequest{Method: "POST", Query: cu.Query(), Form: form, Header: http.Header{"X-Twilio-Signature": {sig}}}
		}
		rr := signed(twilio.Signature("tok-secret-1", cb, form))
		if _, err := dom.Gateways.ApplyReceipt(ctx, "tw", "avr_wrongkeywrongkeywrongkeywrongke", cu.RequestURI(), rr); !errors.Is(err, ErrReceiptRefused) {
			t.Fatalf("wrong key: %v", err)
		}
		if _, err := dom.Gateways.ApplyReceipt(ctx, "tw", key, cu.RequestURI(), signed(twilio.Signature("other-token", cb, form))); !errors.Is(err, ErrReceiptRefused) {
			t.Fatalf("bad signature: %v", err)
		}
		if _, err := dom.Gateways.ApplyReceipt(ctx, "nope", key, cu.RequestURI(), rr); !errors.Is(err, ErrReceiptRefused) {
			t.Fatalf("unknown gateway: %v", err)
		}
		if m := waitState(res.Message.ID, model.MessageSent); m.DeliveredAt != nil {
			t.Fatal("a refused receipt changed the message")
		}
		r, err := dom.Gateways.ApplyReceipt(ctx, "tw", key, cu.RequestURI(), rr)
		if err != nil || r.Applied != 1 {
			t.Fatalf("good receipt: %+v %v", r, err)
		}
		m = waitState(res.Message.ID, model.MessageDelivered)
		if m.DeliveredAt == nil || m.ReceiptStatus != "delivered" {
			t.Fatalf("delivered: %+v", m.Message)
		}
		evs, _ := dom.Accounts.Events(ctx, a.Username, admin)
		found := false
		for _, e := range evs {
			found = found || e.Kind == model.EventMessageDelivered
		}
		if !found {
			t.Fatalf("no %s event on the timeline: %+v", model.EventMessageDelivered, evs)
		}
		// A failure receipt for the second message, found by its SID alone.
		m2, _ := st.MessageByID(ctx, res2.Message.ID)
		form = url.Values{"MessageSid": {m2.ProviderID}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}}
		plain := gw.ReceiptURL
		pu, _ := url.Parse(plain)
		if _, err := dom.Gateways.ApplyReceipt(ctx, "tw", key, pu.RequestURI(), messaging.ReceiptRequest{Method: "POST", Query: url.Values{}, Form: form,
			Header: http.Header{"X-Twilio-Signature": {twilio.Signature("tok-secret-1", plain, form)}}}); err != nil {
			t.Fatal(err)
		}
		m2 = waitState(res2.Message.ID, model.MessageFailed)
		if !strings.Contains(m2.LastError, "30003") {
			t.Fatalf("failure reason: %q", m2.LastError)
		}

		// A deleted gateway: the loader refuses it as a permanent error,
		// so a message still queued for it fails at once.
		if _, err := dom.Gateways.Update(ctx, "tw", model.GatewayInput{DefaultFor: strp("")}, admin); err != nil {
			t.Fatal(err)
		}
		if err := dom.Gateways.Delete(ctx, "tw", admin); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond)
		_, err = loader.Load(ctx, model.DefaultOrgID, "tw")
		var p *messaging.PermanentError
		if !errors.As(err, &p) || !strings.Contains(err.Error(), "no gateway named") {
			t.Fatalf("deleted gateway: want a permanent error, got %v", err)
		}
	})
}

func TestTestGatewayReportsTheProvidersAnswer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		stand := &twilioStandIn{}
		srv := httptest.NewServer(stand)
		defer srv.Close()
		if _, err := dom.Gateways.Create(ctx, twilioInput("tw", srv.URL), admin); err != nil {
			t.Fatal(err)
		}
		res, err := dom.Gateways.Test(ctx, "tw", "+393331234567", admin)
		if err != nil || !res.OK || !strings.HasPrefix(res.ProviderID, "SM") || res.Segments != 1 || res.Encoding != messaging.GSM7 {
			t.Fatalf("%+v %v", res, err)
		}
		if stand.last().Get("To") != "+393331234567" || stand.last().Has("StatusCallback") {
			t.Fatalf("test message: %v", stand.last())
		}
		_, err = dom.Gateways.Test(ctx, "tw", "not-a-number", admin)
		wantInvalid(t, err, "to")
		// The provider down: nothing answers at the gateway's address.
		if _, err := dom.Gateways.Update(ctx, "tw", model.GatewayInput{Settings: map[string]string{"base_url": "http://" + testnet.RefusingAddr(t)}}, admin); err != nil {
			t.Fatal(err)
		}
		res, err = dom.Gateways.Test(ctx, "tw", "+393331234567", admin)
		if err != nil || res.OK || res.Permanent || res.Error == "" {
			t.Fatalf("provider down: want a temporary error in the result, got %+v %v", res, err)
		}
	})
}

// A signed Twilio callback that names no message status is refused as
// malformed, as every other provider's unreadable callback is.
func TestSignedTwilioReceiptWithoutStatusIsInvalid(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		gw, err := dom.Gateways.Create(ctx, twilioInput("tw", "https://api.twilio.com"), admin)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(gw.ReceiptURL)
		key := strings.TrimPrefix(u.Path, "/api/v1/receipts/tw/")
		form := url.Values{"MessageSid": {"SM1"}}
		rr := messaging.ReceiptRequest{Method: "POST", Query: url.Values{}, Form: form,
			Header: http.Header{"X-Twilio-Signature": {twilio.Signature("tok-secret-1", gw.ReceiptURL, form)}}}
		_, err = dom.Gateways.ApplyReceipt(ctx, "tw", key, u.RequestURI(), rr)
		wantInvalid(t, err, "body")
	})
}

// A receipt callback names its gateway, not its organisation: two
// organisations may each have a gateway of that name, and the callback's
// key says whose it is. A receipt then moves only that organisation's
// messages.
func TestAReceiptActsInItsGatewaysOrganisation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		other := Caller{Name: "test", Role: model.RoleAdmin, OrgID: model.DefaultOrgID + 1}
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.EnsureOrganisation(ctx, other.OrgID, "other")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		keys := map[int64]string{}
		for _, by := range []Caller{admin, other} {
			g, err := dom.Gateways.Create(ctx, twilioInput("tw", "https://api.twilio.com"), by)
			if err != nil {
				t.Fatalf("gateway tw of organisation %d: %v", by.OrgID, err)
			}
			keys[by.OrgID] = g.ReceiptURL[strings.LastIndex(g.ReceiptURL, "/")+1:]
		}
		m := &store.MessageRow{OrgID: model.DefaultOrgID, MaxAttempts: 3, Message: model.Message{AccountID: a.ID, Channel: "sms",
			Kind: model.MessageActivation, Gateway: "tw", Recipient: a.Mobile, Body: "hi"}}
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.EnqueueMessage(ctx, m); err != nil {
				return err
			}
			claimed, err := tx.ClaimMessages(ctx, "test", time.Now(), time.Minute, 1)
			if err != nil || len(claimed) != 1 {
				return fmt.Errorf("claiming the message: %d claimed, %v", len(claimed), err)
			}
			return tx.MarkMessageSent(ctx, claimed[0].Claim(), "SM1", time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		receipt := func(orgID int64) (*ReceiptResult, error) {
			uri := "/api/v1/receipts/tw/" + keys[orgID]
			form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}, "AccountSid": {"AC1"}, "To": {a.Mobile}}
			sig := twilio.Signature("tok-secret-1", "http://127.0.0.1:8080"+uri, form)
			return dom.Gateways.ApplyReceipt(ctx, "tw", keys[orgID], uri, messaging.ReceiptRequest{Method: "POST", Form: form,
				Header: http.Header{"X-Twilio-Signature": {sig}}})
		}
		if r, err := receipt(other.OrgID); err != nil || r.Applied != 0 || r.Unknown != 1 {
			t.Fatalf("the other organisation's receipt: want it to name no message of its own, got %+v %v", r, err)
		}
		if r, err := receipt(model.DefaultOrgID); err != nil || r.Applied != 1 {
			t.Fatalf("the message's organisation's receipt: %+v %v", r, err)
		}
		if got, _ := st.MessageByID(ctx, m.ID); got.State != model.MessageDelivered {
			t.Fatalf("message after its receipt: %s", got.State)
		}
	})
}
