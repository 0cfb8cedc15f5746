package activation

import (
	"context"
	"errors"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

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
