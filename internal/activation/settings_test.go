package activation

import (
	"context"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

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
