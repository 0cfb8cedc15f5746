package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
)

// A CSR ends a lost phone from the account page: the Deactivate button
// beside the live device, then Revoke all keys; and binds the account to
// one device with the edit form's checkbox, which the page then shows.
func TestConsoleEndsDevicesAndBindsAccounts(t *testing.T) {
	onEachBackend(t, func(t *testing.T, ts *consoleServer, admin, csr *operatorClient) {
		ctx := context.Background()
		dom := ts.app.Domain
		if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: strp("sales")}, tester); err != nil {
			t.Fatal(err)
		}
		acc, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Ada"), Email: strp("ada@example.com")}, tester)
		if err != nil {
			t.Fatal(err)
		}
		send, err := dom.Links.Send(ctx, acc.Username, model.SendRequest{Channel: model.ChannelEmail}, tester)
		if err != nil {
			t.Fatal(err)
		}
		var token string
		boss := activation.Caller{Name: "test", Role: model.RoleAdmin, OrgID: model.DefaultOrgID} // a live link is shown to admins only
		for deadline := time.Now().Add(10 * time.Second); token == ""; time.Sleep(20 * time.Millisecond) {
			items, _ := dom.Messages.Outbox(ctx, 10, boss)
			for _, it := range items {
				if it.MessageID == send.Message.ID {
					if whole, err := dom.Messages.OutboxItem(ctx, it.ID, boss); err == nil {
						token = secret.LinkTokens.FindString(whole.Body)
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the link never reached the outbox")
			}
		}
		if _, err := dom.Devices.Redeem(ctx, model.RedeemRequest{Token: token, Device: model.DeviceInfo{ID: "phone-1", Platform: "android"}}); err != nil {
			t.Fatal(err)
		}
		page := "/console/accounts/" + acc.Username
		_, body := csr.get(t, page)
		m := regexp.MustCompile(`action="(/console/accounts/` + acc.Username + `/devices/\d+/deactivate)"`).FindStringSubmatch(body)
		if m == nil || !strings.Contains(body, `action="/console/accounts/`+acc.Username+`/revoke-keys"`) {
			t.Fatalf("the account page has no Deactivate or Revoke all keys button:\n%.2000s", body)
		}
		code, _ := csr.post(t, m[1], url.Values{"csrf": {csr.csrf}})
		if code != http.StatusSeeOther {
			t.Fatalf("deactivating: %d", code)
		}
		if _, body = csr.get(t, page+"?flash=device_deactivated"); !strings.Contains(body, "The device is deactivated") || strings.Contains(body, "/deactivate") {
			t.Errorf("after deactivating, the page shows no flash or still offers the button")
		}
		if code, _ = csr.post(t, page+"/revoke-keys", url.Values{"csrf": {csr.csrf}}); code != http.StatusSeeOther {
			t.Fatalf("revoking all keys: %d", code)
		}
		form := url.Values{"csrf": {csr.csrf}, "name": {"Ada"}, "group": {"sales"}, "one_device_field": {"1"}, "one_device": {"on"}}
		if code, _ = csr.post(t, page+"/edit", form); code != http.StatusSeeOther {
			t.Fatalf("binding: %d", code)
		}
		a, _ := dom.Accounts.Get(ctx, acc.Username, tester)
		if !a.Account.OneDevice {
			t.Fatal("the edit form's checkbox did not bind the account")
		}
		if _, body = csr.get(t, page+"/edit"); !regexp.MustCompile(`name="one_device" id="one-device" checked`).MatchString(body) {
			t.Error("the edit form does not show the binding")
		}
		form.Del("one_device") // an unticked box is not sent
		csr.post(t, page+"/edit", form)
		if a, _ = dom.Accounts.Get(ctx, acc.Username, tester); a.Account.OneDevice {
			t.Error("unticking the box did not unbind the account")
		}
	})
}
