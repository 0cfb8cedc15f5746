package activation

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/twilio"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// A receipt's words are the caller's: a status with a NUL or a line
// break and a huge reason are kept bounded and plain on both engines
// (PostgreSQL refused the NUL, and the callback got an internal error).
func TestReceiptWordsAreKeptBoundedAndPlain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		in := twilioInput("tw", "http://127.0.0.1:9")
		in.DefaultFor = strp(model.ChannelSMS)
		gw, err := dom.Gateways.Create(ctx, in, admin)
		if err != nil {
			t.Fatal(err)
		}
		res, err := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: model.ChannelSMS}, admin)
		if err != nil {
			t.Fatal(err)
		}
		cb := gw.ReceiptURL + "?m=" + strconv.FormatInt(res.Message.ID, 10)
		cu, _ := url.Parse(cb)
		key := strings.TrimPrefix(cu.Path, "/api/v1/receipts/tw/")
		form := url.Values{"MessageSid": {"SM\x00" + strings.Repeat("x", 300)}, "MessageStatus": {"sent\x00\r\nX-Injected: 1"}}
		rr := messaging.ReceiptRequest{Method: http.MethodPost, Query: cu.Query(), Form: form,
			Header: http.Header{"X-Twilio-Signature": {twilio.Signature("tok-secret-1", cb, form)}}}
		if _, err := dom.Gateways.ApplyReceipt(ctx, "tw", key, cu.RequestURI(), rr); err != nil {
			t.Fatalf("a receipt with a NUL in its status: %v", err)
		}
		m, err := st.MessageByID(ctx, res.Message.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.ReceiptStatus != "sentX-Injected: 1" {
			t.Fatalf("receipt status kept as %q", m.ReceiptStatus)
		}
	})
}
