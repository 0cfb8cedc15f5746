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

// TestSIPNames: every organisation's SIP domain names its organisations
// (two that both fall back to the listen address's host share one), its
// hosts name the service, and a change through Settings or Organisations
// shows at once, cached or not.
func TestSIPNames(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		provider := Caller{Name: "test", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
		if _, err := dom.Settings.SIPNames(ctx); err != nil { // cached before the changes
			t.Fatal(err)
		}
		mk := func(slug string, domain *string) int64 {
			t.Helper()
			o, err := dom.Organisations.Create(ctx, model.OrganisationInput{Name: strp(strings.ToUpper(slug)), Slug: &slug, SIPDomain: domain}, provider)
			if err != nil {
				t.Fatal(err)
			}
			return o.ID
		}
		a, b := mk("a", strp("A.example")), mk("b", nil)
		if _, err := dom.Settings.Set(ctx, model.SettingSIPHost, "sip.a.example", Caller{Name: "test", OrgID: a}); err != nil {
			t.Fatal(err)
		}
		n, err := dom.Settings.SIPNames(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := n.Realm("a.EXAMPLE"); !ok || r.Realm != "A.example" || !r.Has(a) || r.Has(b) || r.Has(model.DefaultOrgID) {
			t.Errorf("a.example: %+v %v, want organisation %d's realm A.example", r, ok, a)
		}
		// Neither the default organisation nor b sets a SIP domain: both
		// have the listen address's host.
		if r, ok := n.Realm("127.0.0.1"); !ok || !r.Has(model.DefaultOrgID) || !r.Has(b) || r.Has(a) {
			t.Errorf("127.0.0.1: %+v %v, want the default organisation and b", r, ok)
		}
		if n.Default.Realm != "127.0.0.1" {
			t.Errorf("default realm %q, want 127.0.0.1", n.Default.Realm)
		}
		for host, want := range map[string]bool{"sip.a.example": true, "a.example": true, "127.0.0.1": true, "sip.b.example": false} {
			if n.Names(host) != want {
				t.Errorf("Names(%s) = %v, want %v", host, !want, want)
			}
		}
		if _, ok := n.Realm("sip.a.example"); ok {
			t.Error("a SIP host is no realm")
		}
		if _, err := dom.Settings.Set(ctx, model.SettingSIPDomain, "b.example", Caller{Name: "test", OrgID: b}); err != nil {
			t.Fatal(err)
		}
		if n, err = dom.Settings.SIPNames(ctx); err != nil {
			t.Fatal(err)
		}
		if r, ok := n.Realm("b.example"); !ok || len(r.Orgs) != 1 || !r.Has(b) {
			t.Errorf("b.example after the change: %+v %v", r, ok)
		}
		if r, _ := n.Realm("127.0.0.1"); r.Has(b) {
			t.Errorf("127.0.0.1 still names b: %+v", r)
		}
	})
}
