package web_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

var wholeLinkRe = regexp.MustCompile(`avl_[a-z2-7]{32}`)

// roleToken issues an API token of role for the tests.
func (s *testServer) roleToken(role model.Role) string {
	s.t.Helper()
	ctx := context.Background()
	tok, hash := secret.NewToken(secret.PrefixAPIToken)
	err := s.app.Store.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.CreateAPIToken(ctx, model.DefaultOrgID, string(role)+" token", role, secret.Display(tok), hash)
		return err
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

func (s *testServer) get(path, token string, want int) []byte {
	s.t.Helper()
	code, body, _ := s.do("GET", path, "", token)
	if code != want {
		s.t.Fatalf("GET %s: want %d, got %d: %s", path, want, code, body)
	}
	return body
}

// sendAndKeep sends an activation e-mail through the outbox and returns
// the outbox item's id once the worker has kept it.
func (s *testServer) sendAndKeep(username string) int64 {
	s.t.Helper()
	var sent model.SendResult
	json.Unmarshal(s.mustDo("POST", "/api/v1/accounts/"+username+"/send", `{"channel":"email"}`, 201), &sent)
	for range 100 {
		var list struct{ Outbox []model.OutboxItem }
		json.Unmarshal(s.mustDo("GET", "/api/v1/outbox", "", 200), &list)
		for _, it := range list.Outbox {
			if it.MessageID == sent.Message.ID {
				return it.ID
			}
		}
		waitABit()
	}
	s.t.Fatalf("message %d never reached the outbox", sent.Message.ID)
	return 0
}

// TestOnlyAnAdminReadsALiveLink: an auditor or a CSR holding a live link
// could redeem it, get the SIP password and cut the real user off. The
// outbox shows a link whole to an admin only, and only while it can still
// be used; every other place a message is shown, in the API and in the
// console, never shows it whole.
func TestOnlyAnAdminReadsALiveLink(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		csr, auditor := s.roleToken("csr"), s.roleToken("auditor")
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		var acc model.Account
		json.Unmarshal(s.mustDo("POST", "/api/v1/accounts", `{"group":"sales","name":"Ada","email":"ada@example.com"}`, 201), &acc)
		item := "/api/v1/outbox/" + itoa(s.sendAndKeep(acc.Username))

		var whole model.OutboxItem
		json.Unmarshal(s.get(item, "", 200), &whole)
		live := wholeLinkRe.FindString(whole.Body)
		if live == "" || !strings.Contains(whole.HTML, live) {
			t.Fatalf("the admin does not read the live link whole: %q", whole.Body)
		}
		everywhere := []string{item, "/api/v1/outbox", "/api/v1/messages", "/api/v1/accounts", "/api/v1/accounts/" + acc.Username,
			"/api/v1/accounts/" + acc.Username + "/events", "/api/v1/audit"}
		for _, tok := range []string{csr, auditor} {
			for _, path := range everywhere {
				code, body, _ := s.do("GET", path, "", tok)
				if code == 200 && strings.Contains(string(body), live) {
					t.Errorf("GET %s shows the live link to the %s", path, map[string]string{csr: "csr", auditor: "auditor"}[tok])
				}
			}
			var masked model.OutboxItem
			json.Unmarshal(s.get(item, tok, 200), &masked)
			if !strings.Contains(masked.Body, live[:10]+"…") || wholeLinkRe.MatchString(masked.Body+masked.HTML+masked.Subject) {
				t.Errorf("the outbox message as a non-admin: %q", masked.Body)
			}
		}

		// Once the link can no longer be used, nobody reads it whole: revoked,
		revealed := func(item string) bool {
			var it model.OutboxItem
			json.Unmarshal(s.get(item, "", 200), &it)
			return wholeLinkRe.MatchString(it.Body + it.HTML)
		}
		s.mustDo("POST", "/api/v1/accounts/"+acc.Username+"/revoke", "", 200)
		if revealed(item) {
			t.Error("a revoked link is shown whole")
		}
		// used,
		used := "/api/v1/outbox/" + itoa(s.sendAndKeep(acc.Username))
		var it model.OutboxItem
		json.Unmarshal(s.get(used, "", 200), &it)
		redeem, _ := json.Marshal(model.RedeemRequest{Token: wholeLinkRe.FindString(it.Body), Device: model.DeviceInfo{ID: "d1", Platform: "android"}})
		s.mustDo("POST", "/api/v1/device/activate", string(redeem), 200)
		if revealed(used) {
			t.Error("a used link is shown whole")
		}
		// and expired.
		expired := "/api/v1/outbox/" + itoa(s.sendAndKeep(acc.Username))
		if !revealed(expired) {
			t.Fatal("a new live link is not shown to the admin")
		}
		err := s.app.Store.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecRaw(ctx, `UPDATE invitations SET expires_at = $1 WHERE revoked_at IS NULL AND redeemed_at IS NULL`, time.Now().Add(-time.Minute).UnixMilli())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if revealed(expired) {
			t.Error("an expired link is shown whole")
		}
	})
}

var deviceCredentialRe = regexp.MustCompile(`avd_[a-z2-7]{32}`)

// liveLink sends an activation link and reads it whole, as the admin.
func (s *testServer) liveLink(username string) string {
	s.t.Helper()
	var it model.OutboxItem
	json.Unmarshal(s.get("/api/v1/outbox/"+itoa(s.sendAndKeep(username)), "", 200), &it)
	link := wholeLinkRe.FindString(it.Body)
	if link == "" {
		s.t.Fatalf("no live link in %q", it.Body)
	}
	return link
}

// TestLinphoneURLOnlyProvisionsLinphone: the credential in a Linphone
// provisioning URL fetches the lpconfig (digest hashes, no password) within
// its window, and nothing else: it is no bearer token for the device API,
// which answers the SIP password in clear. A native client's credential is
// no Linphone URL either.
func TestLinphoneURLOnlyProvisionsLinphone(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		ctx := context.Background()
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		var acc model.Account
		json.Unmarshal(s.mustDo("POST", "/api/v1/accounts", `{"group":"sales","name":"Ada","email":"ada@example.com"}`, 201), &acc)

		linphone := func() string {
			t.Helper()
			code, page, _ := s.do("POST", "/a/"+s.liveLink(acc.Username)+"/linphone", "", "-")
			cred := deviceCredentialRe.FindString(string(page))
			if code != 200 || cred == "" {
				t.Fatalf("Open in Linphone: %d, credential found: %v", code, cred != "")
			}
			return cred
		}
		cred := linphone()
		if code, body, _ := s.do("GET", "/p/linphone/"+cred, "", "-"); code != 200 || !strings.Contains(string(body), "ha1") {
			t.Fatalf("the Linphone URL within its window: %d %.200s", code, body)
		}
		code, body, _ := s.do("GET", "/api/v1/device/config", "", cred)
		if code != 401 || apiError(t, body).Code != "device_credential_invalid" {
			t.Errorf("the Linphone URL's credential on the device API: %d %.300s", code, body)
		}
		if code, _, _ := s.do("GET", "/p/linphone/"+cred, "", "-"); code != 200 {
			t.Errorf("Linphone's next fetch (re-provisioning at its start): %d", code)
		}

		// Not fetched within its window: the URL is dead, and still no device credential.
		late := linphone()
		err := s.app.Store.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecRaw(ctx, `UPDATE linphone_devices SET fetch_by = $1 WHERE first_fetched_at IS NULL`, time.Now().Add(-time.Second).UnixMilli())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if code, _, _ := s.do("GET", "/p/linphone/"+late, "", "-"); code != 410 {
			t.Errorf("a Linphone URL first fetched after its window: %d, want 410", code)
		}
		if code, _, _ := s.do("GET", "/api/v1/device/config", "", late); code != 401 {
			t.Errorf("a late Linphone URL's credential on the device API: %d, want 401", code)
		}

		// A native client's credential works on the device API only.
		redeem, _ := json.Marshal(model.RedeemRequest{Token: s.liveLink(acc.Username), Device: model.DeviceInfo{ID: "d1", Platform: "android"}})
		var res model.RedeemResponse
		json.Unmarshal(s.mustDo("POST", "/api/v1/device/activate", string(redeem), 200), &res)
		if code, _, _ := s.do("GET", "/api/v1/device/config", "", res.DeviceCredential); code != 200 {
			t.Errorf("the native credential on the device API: %d", code)
		}
		if code, _, _ := s.do("GET", "/p/linphone/"+res.DeviceCredential, "", "-"); code != 401 {
			t.Errorf("the native credential as a Linphone URL: %d, want 401", code)
		}
	})
}

// TestReceiptKeysAreForAdminsOnly: a gateway's receipt URL ends with the
// key that authenticates its provider's delivery receipts; with it anyone
// can mark messages delivered. Only an admin reads it whole, in the
// gateway's answers; a CSR and an auditor read it masked.
func TestReceiptKeysAreForAdminsOnly(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		roles := map[string]string{"csr": s.roleToken("csr"), "auditor": s.roleToken("auditor")}
		var gw model.Gateway
		json.Unmarshal(s.mustDo("POST", "/api/v1/gateways", `{"name":"sms-main","kind":"twilio","settings":{"account_sid":"AC1","auth_token":"tok-secret-1","from":"+15005550006"}}`, 201), &gw)
		key := gw.ReceiptURL[strings.LastIndex(gw.ReceiptURL, "/")+1:]
		if !strings.HasPrefix(key, "avr_") || len(key) != secret.TokenLen {
			t.Fatalf("the admin's receipt URL %q holds no key", gw.ReceiptURL)
		}
		for _, path := range []string{"/api/v1/gateways/sms-main", "/api/v1/gateways"} {
			if body := s.get(path, "", 200); !strings.Contains(string(body), key) {
				t.Errorf("GET %s: the admin does not read the receipt key", path)
			}
			for role, tok := range roles {
				body := string(s.get(path, tok, 200))
				if strings.Contains(body, key) {
					t.Errorf("GET %s shows the receipt key to the %s", path, role)
				}
				if !strings.Contains(body, "/api/v1/receipts/sms-main/"+key[:10]+"…") {
					t.Errorf("GET %s as the %s: want the receipt URL masked, got %.400s", path, role, body)
				}
			}
		}
	})
}
