package activation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func strp(s string) *string { return &s }

func mustAccount(t *testing.T, dom Domain) *model.Account {
	t.Helper()
	a, err := dom.Accounts.Create(context.Background(), model.AccountInput{
		Group: strp("sales"), Name: strp("Ada Lovelace"), Email: strp("ada@example.com"), Mobile: strp("+39 333 123 4567"),
	}, admin)
	if err != nil {
		t.Fatalf("creating account: %v", err)
	}
	return a
}

// sendToken sends an activation link and digs its token out of the queued message.
func sendToken(t *testing.T, dom Domain, username, kind string) string {
	t.Helper()
	res, err := dom.Links.Send(context.Background(), username, model.SendRequest{Channel: model.ChannelSMS, Kind: kind}, admin)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	m, err := dom.Links.store.MessageByID(context.Background(), res.Message.ID)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(m.Body, secret.PrefixLink)
	if i < 0 {
		t.Fatalf("no link in message body %q", m.Body)
	}
	return m.Body[i : i+secret.TokenLen]
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) || de.Field != field {
		t.Fatalf("want an error naming field %q, got %#v (%v)", field, de, err)
	}
}

func redeemReq(token string) model.RedeemRequest {
	return model.RedeemRequest{Token: token, Device: model.DeviceInfo{ID: "dev-1", Platform: "android", Model: "Pixel", AppVersion: "1.0"}}
}

func TestAccountInputIsValidated(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		base := func() model.AccountInput {
			return model.AccountInput{Group: strp("sales"), Name: strp("Ada")}
		}
		cases := []struct {
			field string
			edit  func(in *model.AccountInput)
		}{
			{"group", func(in *model.AccountInput) { in.Group = nil }},
			{"group", func(in *model.AccountInput) { in.Group = strp("nope") }},
			{"name", func(in *model.AccountInput) { in.Name = strp("  ") }},
			{"email", func(in *model.AccountInput) { in.Email = strp("not-an-address") }},
			{"mobile", func(in *model.AccountInput) { in.Mobile = strp("12") }},
			{"mobile", func(in *model.AccountInput) { in.Mobile = strp("+39 06 1234 5678") }}, // a Rome landline
			{"security_model", func(in *model.AccountInput) { in.SecurityModel = strp("paranoid") }},
			{"profile", func(in *model.AccountInput) { in.Profile = strp("missing") }},
			{"language", func(in *model.AccountInput) { in.Language = strp("tlh") }},
			{"virtual_number", func(in *model.AccountInput) { in.VirtualNumber = strp("12ab") }},
		}
		for _, c := range cases {
			in := base()
			c.edit(&in)
			_, err := dom.Accounts.Create(ctx, in, admin)
			wantField(t, err, c.field)
		}
		if got, _ := st.Accounts(ctx, model.DefaultOrgID, store.AccountFilter{}); len(got) != 0 {
			t.Fatalf("refused input left %d accounts behind", len(got))
		}

		in := base()
		in.Mobile = strp("333 123 4567") // national: read in the default region, IT
		in.VirtualNumber = strp("5000")
		a, err := dom.Accounts.Create(ctx, in, admin)
		if err != nil {
			t.Fatal(err)
		}
		if a.Mobile != "+393331234567" || a.VirtualNumber != "5000" || len(a.Username) != 10 || a.SIPEnabled || a.Status != model.StageNew {
			t.Fatalf("created account: %+v", a)
		}
		for _, r := range a.Username {
			if r < '0' || r > '9' {
				t.Fatalf("username %q is not numeric", a.Username)
			}
		}
		_, err = dom.Accounts.Create(ctx, in, admin)
		var de *Error
		if !errors.As(err, &de) || de.Kind != KindConflict || de.Field != "virtual_number" {
			t.Fatalf("duplicate virtual number: %v", err)
		}
		// The default region is a setting.
		if _, err := dom.Settings.Set(ctx, model.SettingPhoneRegion, "DE", admin); err != nil {
			t.Fatal(err)
		}
		in = base()
		in.Mobile = strp("0151 23456789")
		if a, err = dom.Accounts.Create(ctx, in, admin); err != nil || a.Mobile != "+4915123456789" {
			t.Fatalf("German national number: %v %+v", err, a)
		}
	})
}

func TestVirtualNumbersComeFromTheRangeAndStayUnique(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		if _, err := dom.Settings.Set(ctx, model.SettingVirtualNumberRange, "0100-0104", admin); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for range 5 {
			a, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin)
			if err != nil {
				t.Fatalf("account %d: %v", len(seen)+1, err)
			}
			if seen[a.VirtualNumber] || a.VirtualNumber < "0100" || a.VirtualNumber > "0104" {
				t.Fatalf("virtual number %q repeated or out of range", a.VirtualNumber)
			}
			seen[a.VirtualNumber] = true
		}
		// The range is full: a clear conflict, not a loop.
		if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin); err == nil {
			t.Fatal("a full range must refuse a new account")
		}
	})
}

func TestSendQueuesLinkAndMessageTogetherAndResendKillsTheOldLink(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)

		first := sendToken(t, dom, a.Username, model.KindActivation)
		if _, err := dom.Links.Open(ctx, first, "android"); err != nil {
			t.Fatalf("first link: %v", err)
		}
		second := sendToken(t, dom, a.Username, model.KindActivation)
		if _, err := dom.Links.Open(ctx, first, ""); err != ErrLinkRevoked {
			t.Fatalf("old link after resend: want revoked, got %v", err)
		}
		if _, err := dom.Links.Open(ctx, second, ""); err != nil {
			t.Fatalf("new link: %v", err)
		}
		// An installation link leaves the activation link alive.
		sendToken(t, dom, a.Username, model.KindInstallation)
		if _, err := dom.Links.Open(ctx, second, ""); err != nil {
			t.Fatalf("activation link after an installation link: %v", err)
		}
		d, err := dom.Accounts.Get(ctx, a.Username, admin)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Invitations) != 3 || len(d.Messages) != 3 || d.Account.Stage != model.StageOpened {
			t.Fatalf("after three sends: %d links, %d messages, stage %s", len(d.Invitations), len(d.Messages), d.Account.Stage)
		}
		for _, m := range d.Messages {
			if m.State != model.MessageQueued || m.Gateway != "outbox" || m.Recipient != "+393331234567" {
				t.Fatalf("queued message: %+v", m)
			}
		}

		// No mobile: refused, and nothing written.
		b, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("Bob")}, admin)
		if err != nil {
			t.Fatal(err)
		}
		_, err = dom.Links.Send(ctx, b.Username, model.SendRequest{Channel: model.ChannelSMS}, admin)
		wantField(t, err, "channel")
		_, err = dom.Links.Send(ctx, b.Username, model.SendRequest{Channel: "pigeon"}, admin)
		wantField(t, err, "channel")
		_, err = dom.Links.Send(ctx, b.Username, model.SendRequest{Channel: model.ChannelEmail, Kind: "party"}, admin)
		wantField(t, err, "kind")
		if d, _ := dom.Accounts.Get(ctx, b.Username, admin); len(d.Invitations) != 0 || len(d.Messages) != 0 {
			t.Fatalf("a refused send left %d links and %d messages", len(d.Invitations), len(d.Messages))
		}
		// Disabled: refused.
		if _, err := dom.Accounts.SetDisabled(ctx, a.Username, true, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: model.ChannelSMS}, admin); err == nil {
			t.Fatal("sending to a disabled account must be refused")
		}
	})
}

func TestPagesNeverUseTheLinkUp(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		if _, err := dom.Downloads.Set(ctx, model.AppURL{Platform: "android", URL: "https://play.example.com/fallback"}, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Downloads.Set(ctx, model.AppURL{Platform: "android", SecurityModel: model.EndToEnd, URL: "https://play.example.com/e2e"}, admin); err != nil {
			t.Fatal(err)
		}
		token := sendToken(t, dom, a.Username, model.KindActivation)
		for range 3 {
			if _, err := dom.Links.Open(ctx, token, "android"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := dom.Links.ActivationFile(ctx, token); err != nil {
				t.Fatal(err)
			}
		}
		u, _, err := dom.Links.InstallURL(ctx, token, "android")
		if err != nil || u != "https://play.example.com/e2e" {
			t.Fatalf("install URL for an end-to-end account: %q %v", u, err)
		}
		_, _, err = dom.Links.InstallURL(ctx, token, "ios")
		if de := (*Error)(nil); !errors.As(err, &de) || de.Code != "no_download" {
			t.Fatalf("no iOS download configured: %v", err)
		}
		if _, err := dom.Devices.Redeem(ctx, redeemReq(token)); err != nil {
			t.Fatalf("redeem after views and downloads: %v", err)
		}
		if _, err := dom.Links.Open(ctx, token, ""); err != ErrLinkUsed {
			t.Fatalf("page after redeem: want used, got %v", err)
		}
		if _, err := dom.Links.Open(ctx, "avl_"+strings.Repeat("a", 32), ""); err != ErrLinkUnknown {
			t.Fatalf("unknown token: %v", err)
		}
		if _, err := dom.Links.Open(ctx, "garbage", ""); err != ErrLinkUnknown {
			t.Fatalf("malformed token: %v", err)
		}
	})
}

func TestConcurrentRedeemsHaveExactlyOneWinner(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		token := sendToken(t, dom, a.Username, model.KindActivation)
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
		install := sendToken(t, dom, a.Username, model.KindInstallation)
		if _, err := dom.Devices.Redeem(ctx, redeemReq(install)); err != ErrLinkUnknown {
			t.Fatalf("an installation link cannot activate: %v", err)
		}

		// Expired.
		token := sendToken(t, dom, a.Username, model.KindActivation)
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
		token = sendToken(t, dom, a.Username, model.KindActivation)
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
		resp, err := dom.Devices.Redeem(ctx, redeemReq(sendToken(t, dom, a.Username, model.KindActivation)))
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
		second, err := dom.Devices.Redeem(ctx, redeemReq(sendToken(t, dom, a.Username, model.KindActivation)))
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
			kinds = append(kinds, e.Kind)
		}
		want := "created message_queued activated refreshed message_queued activated device_access_revoked"
		if strings.Join(kinds, " ") != want {
			t.Fatalf("timeline:\n got %s\nwant %s", strings.Join(kinds, " "), want)
		}
	})
}

func TestEffectiveProfileComesFromAccountThenGroupThenDefault(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		check := func(profile, source string) {
			t.Helper()
			ep, err := dom.Accounts.EffectiveProfile(ctx, a.Username, admin)
			if err != nil || ep.Profile != profile || ep.Source != source {
				t.Fatalf("effective profile: want %s from %s, got %+v %v", profile, source, ep, err)
			}
		}
		check("default", "default")
		if _, err := dom.Profiles.Create(ctx, "sales-profile", []byte(`{"customer_service_email":"sales@example.com"}`), admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Profiles.Create(ctx, "vip", nil, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Groups.Update(ctx, "sales", model.GroupInput{Profile: strp("sales-profile")}, admin); err != nil {
			t.Fatal(err)
		}
		check("sales-profile", "group")
		if _, err := dom.Accounts.Update(ctx, a.Username, model.AccountInput{Profile: strp("vip")}, admin); err != nil {
			t.Fatal(err)
		}
		check("vip", "account")
		if err := dom.Profiles.Delete(ctx, "vip", admin); err == nil {
			t.Fatal("a profile in use must not be deleted")
		}
		if err := dom.Profiles.Delete(ctx, "default", admin); err == nil {
			t.Fatal("the default profile must not be deleted")
		}
		if _, err := dom.Accounts.Update(ctx, a.Username, model.AccountInput{Profile: strp("")}, admin); err != nil {
			t.Fatal(err)
		}
		check("sales-profile", "group")
		if err := dom.Profiles.Delete(ctx, "vip", admin); err != nil {
			t.Fatalf("deleting an unused profile: %v", err)
		}
	})
}

func TestProfileSettingsAreValidatedByField(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		cases := map[string]string{
			`{"pin": {"atempts": 3}}`:                                "settings.atempts",
			`{"nonsense": 1}`:                                        "settings.nonsense",
			`{"keep_alive_seconds": "often"}`:                        "settings.keep_alive_seconds",
			`{"keep_alive_seconds": -1}`:                             "settings.keep_alive_seconds",
			`{"logging": "loud"}`:                                    "settings.logging",
			`{"customer_service_email": ""}`:                         "settings.customer_service_email",
			`{"security": {"end-to-end": {"transport": "carrier"}}}`: "settings.security.end-to-end.transport",
			`{"security": {"end-to-everywhere": {}}}`:                "settings.security.end-to-everywhere",
			`{"platform_options": {"palm": {"x": "y"}}}`:             "settings.platform_options.palm",
			`[1,2]`: "settings",
		}
		for patch, field := range cases {
			_, err := dom.Profiles.Create(ctx, "p", []byte(patch), admin)
			var de *Error
			if !errors.As(err, &de) || de.Field != field {
				t.Errorf("patch %s: want field %s, got %v (%v)", patch, field, de, err)
			}
		}
		if ps, _ := dom.Profiles.List(ctx, admin); len(ps) != 1 {
			t.Fatalf("refused profiles were stored: %d profiles", len(ps))
		}
		p, err := dom.Profiles.Create(ctx, "p", []byte(`{"security": {"end-to-site": {"transport": "tcp"}}, "codecs": ["opus"]}`), admin)
		if err != nil {
			t.Fatal(err)
		}
		if p.Settings.Security[model.EndToSite].Transport != "tcp" || p.Settings.Security[model.EndToSite].MediaEncryption != "srtp" ||
			p.Settings.Security[model.EndToEnd].MediaEncryption != "zrtp" || len(p.Settings.Codecs) != 1 {
			t.Fatalf("merged settings: %+v", p.Settings)
		}
		if _, err := dom.Profiles.Create(ctx, "p", nil, admin); err == nil {
			t.Fatal("a duplicate profile name must be refused")
		}
	})
}

func TestSettingsAreValidatedAndShapeLinks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		bad := map[string]string{
			"no_such_key":                   "x",
			model.SettingPublicBaseURL:      "ftp://example.com",
			model.SettingLinkExpiry:         "forever",
			model.SettingSIPTLSPort:         "70000",
			model.SettingSIPTransports:      "tls,carrier-pigeon",
			model.SettingPhoneRegion:        "XX",
			model.SettingVirtualNumberRange: "9-1",
			model.SettingActivationFileExt:  ".act",
			model.SettingActivationMIMEType: "not a type",
		}
		for k, v := range bad {
			if _, err := dom.Settings.Set(ctx, k, v, admin); err == nil {
				t.Errorf("setting %s=%q must be refused", k, v)
			}
		}
		if _, err := dom.Settings.Set(ctx, model.SettingPublicBaseURL, "https://activate.example.com/", admin); err != nil {
			t.Fatal(err)
		}
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)
		res, err := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: model.ChannelEmail}, admin)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := st.MessageByID(ctx, res.Message.ID)
		if !strings.Contains(m.Body, "https://activate.example.com/a/avl_") || m.Subject == "" || m.HTML == "" {
			t.Fatalf("e-mail built from the public base URL: %+v", m.Message)
		}
		st2, _ := dom.Settings.Current(ctx, model.DefaultOrgID)
		if st2.SIPDomain != "activate.example.com" {
			t.Fatalf("SIP domain defaults to the base URL's host, got %q", st2.SIPDomain)
		}
	})
}

// A range is usable to its last number: every creation finds a free number
// while one exists, and the one after the last is refused by name.
func TestAVirtualNumberRangeFillsToItsLastFreeNumber(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		if _, err := dom.Settings.Set(ctx, model.SettingVirtualNumberRange, "0100-0199", admin); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i := 1; i <= 100; i++ {
			a, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin)
			if err != nil {
				t.Fatalf("account %d of 100: %v", i, err)
			}
			if seen[a.VirtualNumber] || a.VirtualNumber < "0100" || a.VirtualNumber > "0199" {
				t.Fatalf("account %d: virtual number %q repeated or out of range", i, a.VirtualNumber)
			}
			seen[a.VirtualNumber] = true
		}
		_, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin)
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != "virtual_numbers_exhausted" || !strings.Contains(ae.Message, "0100-0199 has no free number left") {
			t.Fatalf("the 101st account: want virtual_numbers_exhausted naming the range, got %v", err)
		}
		// A number given by hand is still accepted outside the range.
		if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x"), VirtualNumber: strp("5000")}, admin); err != nil {
			t.Fatalf("a given number outside the full range: %v", err)
		}
	})
}

// An import that needs more numbers than are free is refused at preview,
// saying how many are free and how many the file needs; one that fits
// takes the range to its last number.
func TestImportPreviewCountsTheFreeVirtualNumbers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		if _, err := dom.Settings.Set(ctx, model.SettingVirtualNumberRange, "10-19", admin); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp("x")}, admin); err != nil {
				t.Fatal(err)
			}
		}
		file := func(n int) []byte {
			var b strings.Builder
			b.WriteString("full name,group\n")
			for i := range n {
				fmt.Fprintf(&b, "Person %d,sales\n", i)
			}
			return []byte(b.String())
		}
		_, err := dom.Imports.Preview(ctx, "big.csv", file(8), ImportOptions{}, admin)
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != "virtual_numbers_exhausted" ||
			!strings.Contains(ae.Message, "needs 8 new virtual numbers") || !strings.Contains(ae.Message, "has only 7 free") {
			t.Fatalf("8 rows for 7 free numbers: want a refusal with both counts, got %v", err)
		}
		p, err := dom.Imports.Preview(ctx, "fits.csv", file(7), ImportOptions{}, admin)
		if err != nil {
			t.Fatalf("7 rows for 7 free numbers: %v", err)
		}
		done, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
		if err != nil || done.Created != 7 {
			t.Fatalf("confirming 7 rows: %+v %v", done, err)
		}
		all, err := dom.Accounts.List(ctx, "", "", "", 100, 0, admin)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, a := range all {
			if seen[a.VirtualNumber] || a.VirtualNumber < "10" || a.VirtualNumber > "19" {
				t.Fatalf("virtual number %q repeated or out of range", a.VirtualNumber)
			}
			seen[a.VirtualNumber] = true
		}
		if len(seen) != 10 {
			t.Fatalf("want the 10 numbers of the range in use, got %d", len(seen))
		}
	})
}
