package activation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func TestSendQueuesLinkAndMessageTogetherAndResendKillsTheOldLink(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		a := mustAccount(t, dom)

		first := sendToken(t, dom, a.Username, model.LinkActivation)
		if _, err := dom.Links.Open(ctx, first, "android"); err != nil {
			t.Fatalf("first link: %v", err)
		}
		second := sendToken(t, dom, a.Username, model.LinkActivation)
		if _, err := dom.Links.Open(ctx, first, ""); err != ErrLinkRevoked {
			t.Fatalf("old link after resend: want revoked, got %v", err)
		}
		if _, err := dom.Links.Open(ctx, second, ""); err != nil {
			t.Fatalf("new link: %v", err)
		}
		// An installation link leaves the activation link alive.
		sendToken(t, dom, a.Username, model.LinkInstallation)
		if _, err := dom.Links.Open(ctx, second, ""); err != nil {
			t.Fatalf("activation link after an installation link: %v", err)
		}
		d, err := dom.Accounts.Get(ctx, a.Username, admin)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Links) != 3 || len(d.Messages) != 3 || d.Account.Stage != model.StageOpened {
			t.Fatalf("after three sends: %d links, %d messages, stage %s", len(d.Links), len(d.Messages), d.Account.Stage)
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
		if d, _ := dom.Accounts.Get(ctx, b.Username, admin); len(d.Links) != 0 || len(d.Messages) != 0 {
			t.Fatalf("a refused send left %d links and %d messages", len(d.Links), len(d.Messages))
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
		token := sendToken(t, dom, a.Username, model.LinkActivation)
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
