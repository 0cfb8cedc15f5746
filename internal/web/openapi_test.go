package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
)

// The document types what it describes: integer parameters as integers,
// the fixed sets of values as enums from model's constants, required
// fields and bodies (the CSV upload's too), the 4xx answers of every
// operation, the media type of every answer that is not JSON, and the
// server it is served from.
func TestOpenAPITypesTheContract(t *testing.T) {
	z := newRedeemFuzz(t)
	raw := httptest.NewRecorder()
	z.srv.ServeHTTP(raw, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		Servers []struct{ URL string }
		Tags    []struct{ Name, Description string }
		Paths   map[string]map[string]struct {
			Parameters []struct {
				Name, In string
				Schema   struct {
					Type string
					Enum []string
				}
			}
			RequestBody *struct {
				Required bool
				Content  map[string]any
			}
			Responses map[string]struct {
				Content map[string]any
			}
		}
		Components struct {
			Schemas map[string]struct {
				Required   []string
				Properties map[string]struct {
					Type string
					Enum []string
				}
			}
		}
	}
	if err := json.Unmarshal(raw.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tag := range doc.Tags {
		if tag.Description == "" {
			t.Errorf("tag %q has no description: add it to tagHelp", tag.Name)
		}
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "http://127.0.0.1:8080" {
		t.Errorf("servers: %+v, want the public base URL", doc.Servers)
	}
	// An upload still being checked answers 202, with the same preview.
	up := doc.Paths["/api/v1/imports"]["post"].Responses
	if _, ok := up["202"].Content["application/json"]; !ok {
		t.Errorf("POST /api/v1/imports documents no 202 answer with its preview: %v", up)
	}
	param := func(method, path, name string) (typ string, enum []string) {
		for _, p := range doc.Paths[path][method].Parameters {
			if p.Name == name {
				return p.Schema.Type, p.Schema.Enum
			}
		}
		t.Fatalf("%s %s has no parameter %s", method, path, name)
		return "", nil
	}
	for _, c := range []struct{ method, path, name string }{
		{"get", "/api/v1/accounts", "limit"}, {"get", "/api/v1/accounts", "offset"}, {"get", "/api/v1/audit", "before"},
		{"get", "/api/v1/outbox/{id}", "id"}, {"delete", "/api/v1/tokens/{id}", "id"}, {"post", "/api/v1/imports/{id}/send", "limit"},
	} {
		if typ, _ := param(c.method, c.path, c.name); typ != "integer" {
			t.Errorf("%s %s parameter %s is a %s, want an integer", c.method, c.path, c.name, typ)
		}
	}
	for _, c := range []struct {
		method, path, name string
		want               []string
	}{
		{"get", "/api/v1/accounts", "status", append(slices.Clone(model.Stages), "disabled")},
		{"get", "/api/v1/messages", "state", []string{"queued", "sending", "sent", "delivered", "failed"}},
		{"delete", "/api/v1/apps/{platform}", "security_model", []string{"end-to-end", "end-to-site"}},
		{"delete", "/api/v1/apps/{platform}", "platform", model.Platforms},
		{"put", "/api/v1/groups/{name}/gateways/{channel}", "channel", []string{"sms", "email"}},
		{"post", "/api/v1/imports", "send", []string{"sms", "email"}},
	} {
		if _, enum := param(c.method, c.path, c.name); !slices.Equal(enum, c.want) {
			t.Errorf("%s %s parameter %s: enum %v, want %v", c.method, c.path, c.name, enum, c.want)
		}
	}
	prop := func(schema, name string) []string {
		p, ok := doc.Components.Schemas[schema].Properties[name]
		if !ok {
			t.Fatalf("schema %s has no property %s", schema, name)
		}
		return p.Enum
	}
	for _, c := range []struct {
		schema, name string
		want         []string
	}{
		{"Operator", "role", []string{"provider", "admin", "csr", "auditor"}},
		{"Account", "security_model", []string{"end-to-end", "end-to-site"}},
		{"Account", "status", append(slices.Clone(model.Stages), "disabled")},
		{"Message", "state", []string{"queued", "sending", "sent", "delivered", "failed"}},
		{"Message", "channel", []string{"sms", "email"}},
		{"ImportStatus", "state", []string{"previewed", "importing", "sending", "done", "failed", "cancelled"}},
		{"AppURL", "platform", model.Platforms},
	} {
		if got := prop(c.schema, c.name); !slices.Equal(got, c.want) {
			t.Errorf("%s.%s: enum %v, want %v", c.schema, c.name, got, c.want)
		}
	}
	if req := doc.Components.Schemas["groupGatewayInput"].Required; !slices.Contains(req, "gateway") {
		t.Errorf("the group gateway body does not require gateway: %v", req)
	}
	if rb := doc.Paths["/api/v1/imports"]["post"].RequestBody; rb == nil || !rb.Required || rb.Content["text/csv"] == nil {
		t.Errorf("the import upload's body: %+v, want a required text/csv body", rb)
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			has4xx := false
			for code := range op.Responses {
				has4xx = has4xx || strings.HasPrefix(code, "4")
			}
			if !has4xx {
				t.Errorf("%s %s documents no 4xx answer", method, path)
			}
		}
	}
	for _, rt := range z.srv.routes {
		if rt.resp != nil || rt.status == http.StatusNoContent || rt.status == http.StatusFound {
			continue
		}
		ok := doc.Paths[rt.path][strings.ToLower(rt.method)].Responses[itoa(rt.status)]
		if len(ok.Content) == 0 {
			t.Errorf("%s %s: its %d answer has no media type: add it to pageMedia", rt.method, rt.path, rt.status)
		}
	}
	if c := doc.Paths["/a/{token}"]["get"].Responses["200"].Content; c["text/html"] == nil {
		t.Errorf("the landing page's answer: %v, want text/html", c)
	}
}
