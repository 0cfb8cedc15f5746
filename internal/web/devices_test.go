package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
)

// Deactivating a device and revoking all keys over the API: each answers
// what it ended, is audited with the account's devices before and after
// through the one audit path, and names a bad or unknown device.
func TestDeactivateAndRevokeKeysOverTheAPI(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		by := activation.Caller{Name: "test", Role: model.RoleAdmin, OrgID: model.DefaultOrgID}
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		var acc model.Account
		json.Unmarshal(s.mustDo("POST", "/api/v1/accounts", `{"group":"sales","name":"Ada","email":"ada@example.com"}`, 201), &acc)
		send, err := s.app.Domain.Links.Send(ctx, acc.Username, model.SendRequest{Channel: model.ChannelEmail}, by)
		if err != nil {
			t.Fatal(err)
		}
		var token string
		for tries := 0; token == ""; tries++ {
			if tries == 100 {
				t.Fatal("the link never reached the outbox")
			}
			items, _ := s.app.Domain.Messages.Outbox(ctx, 10, by)
			for _, it := range items {
				if it.MessageID == send.Message.ID {
					whole, err := s.app.Domain.Messages.OutboxItem(ctx, it.ID, by)
					if err != nil {
						t.Fatal(err)
					}
					token = secret.LinkTokens.FindString(whole.Body)
				}
			}
			waitABit()
		}
		if _, err := s.app.Domain.Devices.Redeem(ctx, model.RedeemRequest{Token: token, Device: model.DeviceInfo{ID: "phone-1", Platform: "android"}}); err != nil {
			t.Fatal(err)
		}
		d, _ := s.app.Domain.Accounts.Get(ctx, acc.Username, by)
		devPath := "/api/v1/accounts/" + acc.Username + "/devices/" + itoa(d.Devices[0].ID) + "/deactivate"

		if code, body, _ := s.do("POST", "/api/v1/accounts/"+acc.Username+"/devices/x/deactivate", "", ""); code != 400 || apiError(t, body).Field != "id" {
			t.Errorf("a device id that is not a number: %d %s", code, body)
		}
		var res model.KeysRevoked
		json.Unmarshal(s.mustDo("POST", devPath, "", 200), &res)
		if res != (model.KeysRevoked{Devices: 1, SIPPassword: true}) {
			t.Errorf("deactivate answered %+v", res)
		}
		e := lastAudit(t, s)
		if e.Action != "POST /api/v1/accounts/{username}/devices/{id}/deactivate" || e.Target != "account:"+acc.Username || e.Status != 200 ||
			strings.Contains(e.Before, "revoked_at") || !strings.Contains(e.After, "revoked_at") {
			t.Errorf("the deactivation's audit entry: %+v", e)
		}
		if code, body, _ := s.do("POST", devPath, "", ""); code != http.StatusNotFound || apiError(t, body).Code != "device_not_found" {
			t.Errorf("deactivating it again: %d %s", code, body)
		}
		json.Unmarshal(s.mustDo("POST", "/api/v1/accounts/"+acc.Username+"/revoke-keys", "", 200), &res)
		if res.Devices != 0 || !res.SIPPassword {
			t.Errorf("revoke-keys answered %+v", res)
		}
		if e := lastAudit(t, s); e.Action != "POST /api/v1/accounts/{username}/revoke-keys" || e.Status != 200 {
			t.Errorf("the revocation's audit entry: %+v", e)
		}
		if code, _, _ := s.do("POST", "/api/v1/accounts/0000000/revoke-keys", "", ""); code != http.StatusNotFound {
			t.Errorf("revoke-keys of an unknown account: %d", code)
		}
	})
}
