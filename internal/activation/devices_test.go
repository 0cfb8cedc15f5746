package activation

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func redeemReq(token string) model.RedeemRequest {
	return model.RedeemRequest{Token: token, Device: model.DeviceInfo{ID: "dev-1", Platform: "android", Model: "Pixel", AppVersion: "1.0"}}
}

func TestConcurrentRedeemsHaveExactlyOneWinner(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		token := sendToken(t, dom, a.Username, model.LinkActivation)
		const n = 50
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			wins     int
			used     int
			others   []error
			password string
		)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				req := redeemReq(token)
				req.Device.ID = "dev-" + string(rune('a'+i%26))
				resp, err := dom.Devices.Redeem(ctx, req)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
					password = resp.Config.Account.Password
				case err == ErrLinkUsed:
					used++
				default:
					others = append(others, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins != 1 || used != n-1 || len(others) > 0 {
			t.Fatalf("%d redeems: %d won, %d told used, other errors %v", n, wins, used, others)
		}
		d, err := dom.Accounts.Get(ctx, a.Username, admin)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Devices) != 1 || !d.Account.SIPEnabled || d.Account.Status != model.StageActivated || password == "" {
			t.Fatalf("after the race: %d devices, account %+v", len(d.Devices), d.Account)
		}
	})
}

func TestRedeemRefusals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)

		// Bad requests name the field.
		bad := redeemReq("")
		_, err := dom.Devices.Redeem(ctx, bad)
		wantField(t, err, "token")
		bad = redeemReq("avl_x")
		bad.Device.Platform = "palm"
		_, err = dom.Devices.Redeem(ctx, bad)
		wantField(t, err, "device.platform")
		bad = redeemReq("avl_x")
		bad.Device.ID = ""
		_, err = dom.Devices.Redeem(ctx, bad)
		wantField(t, err, "device.id")

		if _, err := dom.Devices.Redeem(ctx, redeemReq("avl_"+strings.Repeat("b", 32))); err != ErrLinkUnknown {
			t.Fatalf("unknown: %v", err)
		}
		install := sendToken(t, dom, a.Username, model.LinkInstallation)
		if _, err := dom.Devices.Redeem(ctx, redeemReq(install)); err != ErrLinkUnknown {
			t.Fatalf("an installation link cannot activate: %v", err)
		}

		// Expired.
		token := sendToken(t, dom, a.Username, model.LinkActivation)
		setNow(dom, func() time.Time { return time.Now().Add(8 * 24 * time.Hour) })
		if _, err := dom.Devices.Redeem(ctx, redeemReq(token)); err != ErrLinkExpired {
			t.Fatalf("expired: %v", err)
		}
		if _, err := dom.Links.Open(ctx, token, ""); err != ErrLinkExpired {
			t.Fatalf("expired page: %v", err)
		}
		setNow(dom, time.Now)

		// Revoked.
		if n, err := dom.Links.Revoke(ctx, a.Username, admin); err != nil || n != 1 {
			t.Fatalf("revoke: %d %v", n, err)
		}
		if _, err := dom.Devices.Redeem(ctx, redeemReq(token)); err != ErrLinkRevoked {
			t.Fatalf("revoked: %v", err)
		}

		// Disabled: refused, and the link stays usable for after enabling.
		token = sendToken(t, dom, a.Username, model.LinkActivation)
		if _, err := dom.Accounts.SetDisabled(ctx, a.Username, true, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Devices.Redeem(ctx, redeemReq(token)); err != ErrAccountDisabled {
			t.Fatalf("disabled: %v", err)
		}
		if _, err := dom.Accounts.SetDisabled(ctx, a.Username, false, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Devices.Redeem(ctx, redeemReq(token)); err != nil {
			t.Fatalf("after enabling: %v", err)
		}
	})
}

func TestReprovisioningFollowsTheProfileAndStopsWhenRevoked(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		resp, err := dom.Devices.Redeem(ctx, redeemReq(sendToken(t, dom, a.Username, model.LinkActivation)))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Config.Account.Username != a.Username || resp.Config.Security.Model != model.EndToEnd ||
			resp.Config.Security.MediaEncryption != "zrtp" || len(resp.Config.SIP.Servers) == 0 || resp.Config.SIP.Servers[0].Transport != "tls" {
			t.Fatalf("configuration: %+v", resp.Config)
		}
		row, _ := st.AccountByUsername(ctx, model.DefaultOrgID, a.Username)
		wantMD5, _ := ha1(a.Username, resp.Config.SIP.Realm, resp.Config.Account.Password)
		if row.HA1MD5 != wantMD5 || strings.Contains(string(row.SIPPassword), resp.Config.Account.Password) {
			t.Fatal("the SIP password must be kept only sealed, with its digest hash beside it")
		}

		if _, err := dom.Profiles.Update(ctx, "default", nil, []byte(`{"keep_alive_seconds": 45, "pin": {"forced": true}}`), admin); err != nil {
			t.Fatal(err)
		}
		cfg, err := dom.Devices.Config(ctx, resp.DeviceCredential)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Profile.KeepAliveSeconds != 45 || !cfg.Profile.PIN.Forced || cfg.Profile.PIN.Attempts != 5 || cfg.Account.Password != resp.Config.Account.Password {
			t.Fatalf("re-provisioned profile: %+v", cfg.Profile)
		}

		// A new activation (a new phone) rotates the password and cuts the old device off.
		second, err := dom.Devices.Redeem(ctx, redeemReq(sendToken(t, dom, a.Username, model.LinkActivation)))
		if err != nil {
			t.Fatal(err)
		}
		if second.Config.Account.Password == resp.Config.Account.Password {
			t.Fatal("activation must rotate the SIP password")
		}
		if _, err := dom.Devices.Config(ctx, resp.DeviceCredential); err != ErrDeviceCredential {
			t.Fatalf("old device after a new activation: %v", err)
		}
		if n, err := dom.Devices.RevokeAccess(ctx, a.Username, admin); err != nil || n != 1 {
			t.Fatalf("revoke device access: %d %v", n, err)
		}
		if _, err := dom.Devices.Config(ctx, second.DeviceCredential); err != ErrDeviceCredential {
			t.Fatalf("after revoke: %v", err)
		}
		if _, err := dom.Devices.Config(ctx, "avd_garbage"); err != ErrDeviceCredential {
			t.Fatalf("malformed credential: %v", err)
		}
		ev, _ := dom.Accounts.Events(ctx, a.Username, admin)
		var kinds []string
		for _, e := range ev {
			kinds = append(kinds, string(e.Kind))
		}
		want := "created message_queued activated refreshed message_queued activated device_access_revoked"
		if strings.Join(kinds, " ") != want {
			t.Fatalf("timeline:\n got %s\nwant %s", strings.Join(kinds, " "), want)
		}
	})
}

// A redeem configures the phone from the settings and the profile as they
// are at its moment: a change of either reaches the next redeem at once.
func TestRedeemFollowsTheSettingsAndProfileOfTheMoment(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		redeem := func() *model.RedeemResponse {
			t.Helper()
			resp, err := dom.Devices.Redeem(ctx, redeemReq(sendToken(t, dom, a.Username, model.LinkActivation)))
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		first := redeem()
		if first.Config.Profile.KeepAliveSeconds == 45 || len(first.Config.SIP.Servers) == 0 || first.Config.SIP.Servers[0].Host == "sip2.example.org" {
			t.Fatalf("first configuration: %+v", first.Config)
		}

		// The organisation's default profile and a setting change.
		if _, err := dom.Profiles.Update(ctx, "default", nil, []byte(`{"keep_alive_seconds": 45}`), admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Settings.Set(ctx, model.SettingSIPHost, "sip2.example.org", admin); err != nil {
			t.Fatal(err)
		}
		second := redeem()
		if second.Config.Profile.KeepAliveSeconds != 45 {
			t.Fatalf("the redeem after the profile changed: %+v", second.Config.Profile)
		}
		for _, srv := range second.Config.SIP.Servers {
			if srv.Host != "sip2.example.org" {
				t.Fatalf("the redeem after sip_host changed: %+v", second.Config.SIP.Servers)
			}
		}

		// The account is given a profile of its own, then that profile changes.
		if _, err := dom.Profiles.Create(ctx, "vip", []byte(`{"keep_alive_seconds": 20}`), admin); err != nil {
			t.Fatal(err)
		}
		vip := "vip"
		if _, err := dom.Accounts.Update(ctx, a.Username, model.AccountInput{Profile: &vip}, admin); err != nil {
			t.Fatal(err)
		}
		if got := redeem().Config.Profile.KeepAliveSeconds; got != 20 {
			t.Fatalf("the redeem after the account got its own profile: keep_alive_seconds %d, want 20", got)
		}
		if _, err := dom.Profiles.Update(ctx, "vip", nil, []byte(`{"keep_alive_seconds": 30}`), admin); err != nil {
			t.Fatal(err)
		}
		if got := redeem().Config.Profile.KeepAliveSeconds; got != 30 {
			t.Fatalf("the redeem after the account's profile changed: keep_alive_seconds %d, want 30", got)
		}
	})
}
