package activation

import (
	"context"
	"encoding/base64"
	"errors"
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

// TestOrgNames: every organisation's SIP domain names its organisations
// (two that both fall back to the listen address's host share one), its
// hosts name the service, and a change through Settings or Organisations
// shows at once, cached or not.
func TestOrgNames(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		provider := Caller{Name: "test", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
		if _, err := dom.Settings.Names(ctx); err != nil { // cached before the changes
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
		n, err := dom.Settings.Names(ctx)
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
			if n.IsSIPHost(host) != want {
				t.Errorf("Names(%s) = %v, want %v", host, !want, want)
			}
		}
		if _, ok := n.Realm("sip.a.example"); ok {
			t.Error("a SIP host is no realm")
		}
		if _, err := dom.Settings.Set(ctx, model.SettingSIPDomain, "b.example", Caller{Name: "test", OrgID: b}); err != nil {
			t.Fatal(err)
		}
		if n, err = dom.Settings.Names(ctx); err != nil {
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

// TestSIPDomainsAreEachOrganisationsOwn: a SIP domain another
// organisation has (its setting, or the default organisation's base URL
// host it falls back to) is refused with sip_domain_taken, at creation
// and as a setting; clearing a domain, which moves the organisation's
// accounts into the provider's namespace, is refused naming a username
// that would collide there, and the domain stays.
func TestSIPDomainsAreEachOrganisationsOwn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		provider := Caller{Name: "test", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
		if _, err := dom.Settings.Set(ctx, model.SettingSIPDomain, "sip.example", provider); err != nil {
			t.Fatal(err)
		}
		a, err := dom.Organisations.Create(ctx, model.OrganisationInput{Name: strp("A"), Slug: strp("a"), SIPDomain: strp("a.example")}, provider)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dom.Organisations.Create(ctx, model.OrganisationInput{Name: strp("B"), Slug: strp("b")}, provider)
		if err != nil {
			t.Fatal(err)
		}
		taken := func(what string, err error, field string) {
			t.Helper()
			var de *Error
			if !errors.As(err, &de) || de.Code != "sip_domain_taken" || de.Field != field || de.Kind != KindConflict {
				t.Errorf("%s: want a sip_domain_taken conflict on %s, got %v", what, field, err)
			}
		}
		_, err = dom.Organisations.Create(ctx, model.OrganisationInput{Name: strp("C"), Slug: strp("c"), SIPDomain: strp("A.EXAMPLE")}, provider)
		taken("a new organisation with a's domain", err, "sip_domain")
		_, err = dom.Settings.Set(ctx, model.SettingSIPDomain, "a.example", Caller{Name: "test", OrgID: b.ID})
		taken("b taking a's domain", err, "value")
		_, err = dom.Settings.Set(ctx, model.SettingSIPDomain, "sip.example", Caller{Name: "test", OrgID: b.ID})
		taken("b taking the provider's domain", err, "value")
		_, err = dom.Settings.Set(ctx, model.SettingSIPDomain, "a.example", provider)
		taken("the provider taking a's domain", err, "value")
		// a's own domain, in another spelling, is a's to keep.
		if _, err := dom.Settings.Set(ctx, model.SettingSIPDomain, "A.example", Caller{Name: "test", OrgID: a.ID}); err != nil {
			t.Fatalf("a setting its own domain again: %v", err)
		}

		// b (the provider's namespace) and a both have 1001: a cannot
		// join the provider's namespace.
		err = st.Tx(ctx, func(tx *store.Tx) error {
			for _, o := range []int64{a.ID, b.ID} {
				g := &store.GroupRow{Group: model.Group{Name: "g"}}
				if err := tx.CreateGroup(ctx, o, g); err != nil {
					return err
				}
				if err := tx.CreateAccount(ctx, &store.AccountRow{OrgID: o, Account: model.Account{GroupID: g.ID, Username: "1001",
					DisplayName: "x", SecurityModel: model.EndToEnd, VirtualNumber: "1001", Kind: "wizard", Stage: model.StageNew}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = dom.Settings.Set(ctx, model.SettingSIPDomain, "", Caller{Name: "test", OrgID: a.ID})
		var de *Error
		if !errors.As(err, &de) || de.Code != "username_taken_in_sip_domain" || de.Field != "value" || !strings.Contains(de.Message, "1001") {
			t.Fatalf("clearing a's domain: want username_taken_in_sip_domain naming 1001, got %v", err)
		}
		if cur, err := dom.Settings.Current(ctx, a.ID); err != nil || cur.SIPDomain != "A.example" {
			t.Fatalf("a's domain after the refusal: %q, %v", cur.SIPDomain, err)
		}
	})
}

// TestBrandSettingsAreValidated: the brand settings refuse what the pages
// and messages could not show, or could be led astray by, naming the
// setting; what they can show is taken.
func TestBrandSettingsAreValidated(t *testing.T) {
	png := "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAQAAAABCAIAAAB2XpiaAAAAEUlEQVR4nGPgDr/w/6o/hAQAKGEGq9d/VOQAAAAASUVORK5CYII=" // 4x1
	svg := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="40" height="10"/>`))
	big := "data:image/png;base64," + base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, MaxLogoBytes)...))
	for _, c := range []struct{ key, value, problem string }{
		{model.SettingBrandLogoURL, "http://cdn.example.com/logo.png", "https"},
		{model.SettingBrandLogoURL, "//cdn.example.com/logo.png", "https"},
		{model.SettingBrandLogoURL, "/logo.png", "https"},
		{model.SettingBrandLogoURL, "javascript:alert(1)", "https"},
		{model.SettingBrandLogoURL, "https://user:pw@cdn.example.com/logo.png", "https"},
		{model.SettingBrandLogoURL, `https://cdn.example.com/logo.png"onerror="x`, "quote"},
		{model.SettingBrandLogoURL, "https://cdn.example.com/a logo.png", "space"},
		{model.SettingBrandLogoURL, "https://cdn_example;com/logo.png", "host"},
		{model.SettingBrandLogoURL, "https://cdn.example.com/" + strings.Repeat("a", 2048), "2048"},
		{model.SettingBrandLogoURL, "data:image/gif;base64,R0lGODlh", "data:image/png;base64,"},
		{model.SettingBrandLogoURL, "data:text/html;base64,PHNjcmlwdD4=", "data:image/png;base64,"},
		{model.SettingBrandLogoURL, "data:image/svg+xml,<svg/>", "data:image/png;base64,"},
		{model.SettingBrandLogoURL, "data:image/png;base64,not base64!", "base64"},
		{model.SettingBrandLogoURL, "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("GIF89a")), "no PNG"},
		{model.SettingBrandLogoURL, "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte("<html><svg/></html>")), "no SVG"},
		{model.SettingBrandLogoURL, "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nnot a header")), "no PNG"},
		{model.SettingBrandLogoURL, big, "64 KiB"},
		{model.SettingBrandColour, "red", "#rrggbb"},
		{model.SettingBrandColour, "#fff", "#rrggbb"},
		{model.SettingBrandColour, "#12345g", "#rrggbb"},
		{model.SettingBrandColour, "#123456;}", "#rrggbb"},
		{model.SettingITContact, "it department", "e-mail address"},
		{model.SettingITContact, "mailto:it@example.com", "e-mail address"},
		{model.SettingITContact, "http://help.example.com", "https"},
		{model.SettingITContact, "javascript://x@example.com", "https"},
		{model.SettingITContact, "Ada <it@example.com>", "e-mail address"},
	} {
		err := validateSetting(c.key, c.value)
		var de *Error
		short := c.value
		if len(short) > 60 {
			short = short[:60] + "..."
		}
		if !errors.As(err, &de) || de.Field != "value" || !strings.HasPrefix(de.Message, c.key+": ") || !strings.Contains(de.Message, c.problem) {
			t.Errorf("%s=%q: %v, want a refusal naming %s and saying %q", c.key, short, err, c.key, c.problem)
		}
	}
	for _, c := range []struct{ key, value string }{
		{model.SettingBrandLogoURL, ""}, {model.SettingBrandLogoURL, "https://cdn.example.com/img/logo.svg?v=2"},
		{model.SettingBrandLogoURL, "https://cdn.example.com:8443/logo.png"}, {model.SettingBrandLogoURL, png}, {model.SettingBrandLogoURL, svg},
		{model.SettingBrandColour, ""}, {model.SettingBrandColour, "#0B57D0"}, {model.SettingBrandColour, "#fff59d"},
		{model.SettingITContact, ""}, {model.SettingITContact, "it@example.com"}, {model.SettingITContact, "https://help.example.com/phones"},
		{model.SettingCompanyName, ""},
	} {
		if err := validateSetting(c.key, c.value); err != nil {
			t.Errorf("%s=%.60q refused: %v", c.key, c.value, err)
		}
	}
}

// TestOrganisationBrand: an organisation's display name is its own name
// until it sets company_name (the default organisation, named "default",
// stays "activator"); its brand settings are resolved for the pages, and
// its e-mails carry its logo, colour and name.
func TestOrganisationBrand(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		provider := Caller{Name: "provider", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
		name, slug := "Brand Co", "brandco"
		o, err := dom.Organisations.Create(ctx, model.OrganisationInput{Name: &name, Slug: &slug}, provider)
		if err != nil {
			t.Fatal(err)
		}
		acme := Caller{Name: "acme-admin", Role: model.RoleAdmin, OrgID: o.ID}
		if r, _ := dom.Settings.Current(ctx, model.DefaultOrgID); r.Company != "activator" {
			t.Errorf("the default organisation's display name is %q, want activator", r.Company)
		}
		r, err := dom.Settings.Current(ctx, o.ID)
		if err != nil || r.Company != "Brand Co" || r.BrandLogoURL != "" || r.BrandColour != "" || r.ITContact != "" {
			t.Fatalf("a new organisation's brand: %+v %v", r, err)
		}
		for k, v := range map[string]string{
			model.SettingBrandLogoURL: "https://cdn.brand.example/logo.png", model.SettingBrandColour: "#FFF59D",
			model.SettingITContact: "https://help.brand.example", model.SettingCompanyName: "Brand Company",
		} {
			if _, err := dom.Settings.Set(ctx, k, v, acme); err != nil {
				t.Fatalf("setting %s: %v", k, err)
			}
		}
		if r, _ = dom.Settings.Current(ctx, o.ID); r.Company != "Brand Company" || r.BrandLogoURL != "https://cdn.brand.example/logo.png" ||
			r.BrandColour != "#fff59d" || r.ITContact != "https://help.brand.example" {
			t.Errorf("the organisation's brand after setting it: %+v", r)
		}
		if d, _ := dom.Settings.Current(ctx, model.DefaultOrgID); d.Company != "activator" || d.BrandColour != "" {
			t.Errorf("another organisation's brand changed the default one's: %+v", d)
		}

		group := "sales"
		if _, err := dom.Groups.Create(ctx, model.GroupInput{Name: &group}, acme); err != nil {
			t.Fatal(err)
		}
		a, err := dom.Accounts.Create(ctx, model.AccountInput{Group: &group, Name: strp("Ada"), Email: strp("ada@brand.example")}, acme)
		if err != nil {
			t.Fatal(err)
		}
		res, err := dom.Links.Send(ctx, a.Username, model.SendRequest{Channel: model.ChannelEmail}, acme)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := st.MessageByID(ctx, res.Message.ID)
		for _, want := range []string{`<img src="https://cdn.brand.example/logo.png"`, ">Brand Company</p>", "background:#fff59d;color:#000000;"} {
			if !strings.Contains(m.HTML, want) {
				t.Errorf("the organisation's e-mail lacks %s:\n%s", want, m.HTML)
			}
		}

		if _, err := dom.Settings.Set(ctx, model.SettingCompanyName, "", acme); err != nil {
			t.Fatal(err)
		}
		if r, _ = dom.Settings.Current(ctx, o.ID); r.Company != "Brand Co" {
			t.Errorf("company_name emptied: the display name is %q, want the organisation's name", r.Company)
		}
	})
}

// TestRouteHost: any host is the provider's while no customer has a base
// URL; afterwards an organisation's host is its own, an address or
// localhost the provider's, and any other name no one's.
func TestRouteHost(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		provider := Caller{Name: "provider", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
		if r, err := dom.Settings.RouteHost(ctx, "anything.example"); err != nil || r.Unknown || r.Named || r.Org != model.DefaultOrgID {
			t.Fatalf("a single organisation at another name: %+v %v", r, err)
		}
		name, slug := "ACME", "acme"
		o, err := dom.Organisations.Create(ctx, model.OrganisationInput{Name: &name, Slug: &slug, BaseURL: strp("https://acme.activate.example")}, provider)
		if err != nil {
			t.Fatal(err)
		}
		for host, want := range map[string]HostRoute{
			"acme.activate.example":     {Org: o.ID, Named: true},
			"ACME.activate.example:443": {Org: o.ID, Named: true},
			"127.0.0.1:8080":            {Org: model.DefaultOrgID},
			"[::1]:8080":                {Org: model.DefaultOrgID},
			"203.0.113.7":               {Org: model.DefaultOrgID},
			"localhost:8080":            {Org: model.DefaultOrgID},
			"":                          {Org: model.DefaultOrgID},
			"anything.example":          {Org: model.DefaultOrgID, Unknown: true},
			"acme.activate.example:444": {Org: model.DefaultOrgID, Unknown: true},
			"evil-localhost.example":    {Org: model.DefaultOrgID, Unknown: true},
		} {
			if got, err := dom.Settings.RouteHost(ctx, host); err != nil || got != want {
				t.Errorf("RouteHost(%q) = %+v %v, want %+v", host, got, err, want)
			}
		}
	})
}
