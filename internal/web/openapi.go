package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
)

// openAPIDoc builds the OpenAPI 3 document from the route table: the routes
// served and the routes described are the same list.
func (s *Server) openAPIDoc() map[string]any {
	schemas := map[string]any{}
	paths := map[string]any{}
	for _, rt := range s.routes {
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": operationID(rt),
			"tags":        []string{rt.tag},
		}
		var params []any
		for _, seg := range strings.Split(rt.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
			}
		}
		for _, q := range rt.query {
			params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.help, "schema": map[string]string{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch rt.access {
		case token:
			op["security"] = []any{map[string]any{"apiToken": []string{}}}
			op["x-permission"] = rt.perm
		case device:
			op["security"] = []any{map[string]any{"deviceCredential": []string{}}}
		default:
			op["security"] = []any{}
		}
		if rt.body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(rt.body), schemas)}}}
		}
		ok := map[string]any{"description": http.StatusText(rt.status)}
		if rt.resp != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(rt.resp), schemas)}}
		}
		responses := map[string]any{itoa(rt.status): ok}
		errResp := map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]string{"$ref": "#/components/schemas/ErrorBody"}}}}
		if strings.HasPrefix(rt.path, "/api/") && rt.path != "/api/v1/openapi.json" {
			responses["default"] = errResp
		}
		if rt.access != token && rt.unlimited == "" { // guard.go: the public rate limit
			limited := map[string]any{"description": "too many requests from this address; Retry-After says in how many seconds to try again"}
			if strings.HasPrefix(rt.path, "/api/") {
				limited["content"] = errResp["content"]
			}
			responses["429"] = limited
		}
		op["responses"] = responses
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = op
	}
	schemaRef(reflect.TypeOf(errorBodyDoc{}), schemas)
	schemas["ErrorBody"] = schemas["errorBodyDoc"]
	delete(schemas, "errorBodyDoc")
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "activator API",
			"version":     s.version,
			"description": "Admin API (API token), device API (device credential) and the public pages of secure links. Errors are {\"error\":{\"code\",\"message\",\"field\"}}.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"apiToken":         map[string]any{"type": "http", "scheme": "bearer", "description": "an API token (" + secret.PrefixAPIToken + "...)"},
				"deviceCredential": map[string]any{"type": "http", "scheme": "bearer", "description": "a device credential (" + secret.PrefixDevice + "...) from the redeem answer"},
			},
		},
	}
}

type errorBodyDoc struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, seg := range strings.Split(rt.path, "/") {
		seg = strings.Trim(seg, "{}")
		seg = strings.NewReplacer(".", "_", "-", "_").Replace(seg)
		if seg == "" || seg == "api" || seg == "v1" {
			continue
		}
		b.WriteString("_" + seg)
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

var timeType = reflect.TypeOf(time.Time{})

// wireNames are the schema names of the types whose Go name is not the
// one the API has always used: the document keeps the wire's vocabulary.
var wireNames = map[reflect.Type]string{
	reflect.TypeFor[model.Link](): "Invitation",
}

// schemaRef returns the JSON schema of t, registering named structs in schemas.
func schemaRef(t reflect.Type, schemas map[string]any) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == reflect.TypeOf(json.RawMessage{}):
		return map[string]any{"type": "object", "description": "a JSON object"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaRef(t.Elem(), schemas)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaRef(t.Elem(), schemas)}
	case reflect.Struct:
		name := t.Name()
		if n, ok := wireNames[t]; ok {
			name = n
		}
		if name != "" {
			if _, ok := schemas[name]; !ok {
				schemas[name] = map[string]any{} // placeholder against recursion
				schemas[name] = structSchema(t, schemas)
			}
			return map[string]any{"$ref": "#/components/schemas/" + name}
		}
		return structSchema(t, schemas)
	}
	return map[string]any{}
}

func structSchema(t reflect.Type, schemas map[string]any) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || !f.IsExported() {
				continue
			}
			if f.Anonymous && tag == "" {
				walk(f.Type)
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" {
				name = f.Name
			}
			props[name] = schemaRef(f.Type, schemas)
			if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := map[string]any{"type": "object", "properties": props}
	if required != nil {
		out["required"] = required
	}
	return out
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, _ *activation.Caller) error {
	return writeJSON(w, 200, s.openAPIDoc())
}
