package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/provisioning"
	"github.com/activator-voip/activator/internal/secret"
)

// openAPIDoc builds the OpenAPI 3 document from the route table: the routes
// served and the routes described are the same list. Its server is the
// public base URL r's organisation builds links on.
func (s *Server) openAPIDoc(r *http.Request) map[string]any {
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
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				name = strings.TrimSuffix(name, "}")
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": paramSchema(name, true)})
			}
		}
		for _, q := range rt.query {
			params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.help, "schema": paramSchema(q.name, false)})
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
		} else if u, ok := uploads[rt.method+" "+rt.path]; ok {
			op["requestBody"] = map[string]any{"required": true, "description": u.help, "content": u.content()}
		}
		op["responses"] = s.responses(rt, schemas)
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
	server := "/"
	if st, err := s.dom.Settings.Current(r.Context(), model.DefaultOrgID); err == nil && st.BaseURL != "" {
		server = strings.TrimRight(st.BaseURL, "/")
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "activator API",
			"version": s.version,
			"description": "Admin API (API token), device API (device credential) and the public pages of secure links. " +
				"Errors are {\"error\":{\"code\",\"message\",\"field\"}}. A method a path does not take answers 405 with Allow; " +
				"a body of another media type than the operation's 415.",
		},
		"servers": []any{map[string]any{"url": server, "description": "this activator, at its public base URL"}},
		"tags":    tags(s.routes),
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"apiToken":         map[string]any{"type": "http", "scheme": "bearer", "description": "an API token (" + secret.PrefixAPIToken + "...)"},
				"deviceCredential": map[string]any{"type": "http", "scheme": "bearer", "description": "a device credential (" + secret.PrefixDevice + "...) from the redeem answer"},
			},
		},
	}
}

// tagHelp describes each tag of the route table.
var tagHelp = map[string]string{
	"meta":      "this document",
	"groups":    "groups of accounts, their IT contact and profile",
	"profiles":  "provisioning profiles",
	"apps":      "the client's download URLs per platform",
	"settings":  "the organisation's settings",
	"templates": "the organisation's own texts of its SMS and e-mail messages",
	"accounts":  "VoIP accounts, their links, devices, timeline and registrations",
	"messages":  "delivery state of SMS and e-mail, and the outbox",
	"device":    "the device contract (docs/protocol.md)",
	"pages":     "the pages a secure link opens, for people",
	"operators": "operators and their API tokens",
	"audit":     "the audit log",
	"import":    "CSV import and export of accounts",
	"gateways":  "message gateways, their routing and delivery receipts",
	"orgs":      "the provider's organisations: create, suspend, count and delete them (provider admins only)",
}

func tags(routes []route) []any {
	var names []string
	for _, rt := range routes {
		if !slices.Contains(names, rt.tag) {
			names = append(names, rt.tag)
		}
	}
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = map[string]any{"name": n, "description": tagHelp[n]}
	}
	return out
}

// upload is a request body that is not JSON.
type upload struct {
	types []string
	help  string
}

func (u upload) content() map[string]any {
	c := map[string]any{}
	for _, t := range u.types {
		c[t] = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
	}
	return c
}

// uploads are the routes whose body is not JSON, by method and pattern.
var uploads = map[string]upload{
	"POST /api/v1/imports": {csvMediaTypes, "the CSV file, UTF-8, separated by commas, semicolons or tabs, its header naming the columns"},
}

// pageMedia are the media types of success answers that are not JSON
// (rt.resp nil), by method and pattern; a 302's Location is its answer.
var pageMedia = map[string][]string{
	"GET /api/v1/openapi.json":      {"application/json"},
	"GET /a/{token}":                {"text/html"},
	"GET /a/{token}/activation":     {provisioning.DefaultActivationMIMEType + " (the activation_mime_type setting)"},
	"GET /a/{token}/qr.svg":         {"image/svg+xml"},
	"POST /a/{token}/linphone":      {"text/html"},
	"GET /p/linphone/{credential}":  {provisioning.LinphoneContentType},
	"GET /api/v1/export/accounts":   {"text/csv"},
	"GET /api/v1/exports/{id}/file": {"text/csv"},
	"GET /api/v1/audit":             {"text/csv (format=csv)"},
}

// accepted are the operations that may also answer 202 with the same
// schema as their success, and when.
var accepted = map[string]string{
	"POST /api/v1/imports":              "the file is still being checked (state checking): GET /api/v1/imports/{id} follows its progress",
	"POST /api/v1/imports/{id}/confirm": "the import goes on as a job on the server (state importing): GET /api/v1/imports/{id} follows its progress (done of total)",
}

// mediaOf reads a pageMedia entry: the media type, before any note.
func mediaOf(v string) string {
	mt, _, _ := strings.Cut(v, " ")
	return mt
}

// responses documents what rt answers: its success, and every error
// status it can answer, each with its reason.
func (s *Server) responses(rt route, schemas map[string]any) map[string]any {
	ok := map[string]any{"description": http.StatusText(rt.status)}
	content := map[string]any{}
	if rt.resp != nil {
		content["application/json"] = map[string]any{"schema": schemaRef(reflect.TypeOf(rt.resp), schemas)}
	}
	for _, v := range pageMedia[rt.method+" "+rt.path] {
		sch := map[string]any{"type": "string"}
		if mt := mediaOf(v); mt == "application/json" {
			sch = map[string]any{"type": "object", "description": "the OpenAPI 3 document"}
		} else if !strings.HasPrefix(mt, "text/") && mt != "image/svg+xml" {
			sch["format"] = "binary"
		}
		content[mediaOf(v)] = map[string]any{"schema": sch}
	}
	if len(content) > 0 {
		ok["content"] = content
	}
	if rt.status == http.StatusFound {
		ok["headers"] = map[string]any{"Location": map[string]any{"description": "where to go", "schema": map[string]any{"type": "string", "format": "uri"}}}
	}
	out := map[string]any{itoa(rt.status): ok}
	if why, ok2 := accepted[rt.method+" "+rt.path]; ok2 {
		out[itoa(http.StatusAccepted)] = map[string]any{"description": why, "content": content}
	}
	api := strings.HasPrefix(rt.path, "/api/")
	for code, why := range errorsOf(rt) {
		e := map[string]any{"description": why}
		if api {
			e["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]string{"$ref": "#/components/schemas/ErrorBody"}}}
		} else {
			e["content"] = map[string]any{"text/html": map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		switch code {
		case http.StatusUnauthorized:
			e["headers"] = map[string]any{"WWW-Authenticate": map[string]any{"description": "Bearer", "schema": map[string]any{"type": "string"}}}
		case http.StatusTooManyRequests:
			e["headers"] = map[string]any{"Retry-After": map[string]any{"description": "seconds to wait", "schema": map[string]any{"type": "integer"}}}
		}
		out[itoa(code)] = e
	}
	if api && rt.path != "/api/v1/openapi.json" {
		out["default"] = map[string]any{"description": "an unexpected error (5xx); the server log has the details",
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]string{"$ref": "#/components/schemas/ErrorBody"}}}}
	}
	return out
}

// errorsOf lists the error statuses rt can answer, with why.
func errorsOf(rt route) map[int]string {
	out := map[int]string{}
	hasBody := rt.body != nil
	if _, ok := uploads[rt.method+" "+rt.path]; ok {
		hasBody = true
	}
	wildcards := strings.Contains(rt.path, "{")
	if hasBody || len(rt.query) > 0 || wildcards {
		out[http.StatusBadRequest] = "bad input: the error's field names what is wrong"
	}
	if hasBody {
		out[http.StatusRequestEntityTooLarge] = "the body is over this route's bound"
		out[http.StatusUnsupportedMediaType] = "the body's Content-Type is not the operation's"
	}
	switch rt.access {
	case token:
		out[http.StatusUnauthorized] = "no API token, or one unknown, revoked or expired"
		out[http.StatusForbidden] = "the token's role may not do this (" + rt.perm + ")"
		out[http.StatusTooManyRequests] = "too many failed authentications from this address; Retry-After says when to try again"
		if wildcards {
			out[http.StatusNotFound] = "nothing of that name"
		}
		if rt.method != http.MethodGet {
			out[http.StatusConflict] = "in conflict with what exists: a name taken, a thing in use, a state that does not allow it"
		}
	case device:
		out[http.StatusUnauthorized] = "the device credential is missing, unknown or revoked"
		out[http.StatusForbidden] = "the account is disabled"
	default:
		if wildcards {
			out[http.StatusNotFound] = "no such link, credential or gateway"
		}
		if strings.HasPrefix(rt.path, "/a/") || rt.path == "/api/v1/device/activate" {
			out[http.StatusGone] = "the link has expired, was revoked or was used"
		}
		if strings.HasPrefix(rt.path, "/api/v1/receipts/") {
			out[http.StatusForbidden] = "the receipt key or the provider's signature does not authenticate the callback"
		}
		if rt.path == "/api/v1/device/activate" {
			out[http.StatusForbidden] = "the account is disabled"
		}
		if rt.unlimited == "" {
			out[http.StatusTooManyRequests] = "too many requests from this address; Retry-After says when to try again"
		}
	}
	return out
}

// paramSchema is the schema of a path or query parameter, by its name.
func paramSchema(name string, inPath bool) map[string]any {
	switch name {
	case "limit":
		return map[string]any{"type": "integer", "minimum": 1}
	case "offset":
		return map[string]any{"type": "integer", "minimum": 0}
	case "before":
		return map[string]any{"type": "integer", "format": "int64", "minimum": 1}
	case "id":
		return map[string]any{"type": "integer", "format": "int64"}
	case "format":
		return enumSchema([]string{"csv"})
	case "key":
		var keys []string
		for _, d := range model.SettingDefs {
			keys = append(keys, d.Key)
		}
		return enumSchema(keys)
	case "username":
		return map[string]any{"type": "string", "pattern": "^[0-9]+$"}
	}
	if vs, ok := fieldEnums[name]; ok {
		return enumSchema(vs)
	}
	if name == "status" && !inPath {
		return enumSchema(accountStatuses())
	}
	return map[string]any{"type": "string"}
}

func enumSchema(vs []string) map[string]any {
	return map[string]any{"type": "string", "enum": vs}
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func accountStatuses() []string { return append(slices.Clone(model.Stages), "disabled") }

// Enumerations of the wire: the values of each typed constant of model,
// and of the string fields that hold one of a fixed set.
var (
	channels      = []string{model.ChannelSMS, model.ChannelEmail}
	messageStates = []string{model.MessageQueued, model.MessageSending, model.MessageSent, model.MessageDelivered, model.MessageFailed}
	typeEnums     = map[reflect.Type][]string{
		reflect.TypeFor[model.Role]():          strs(model.Roles),
		reflect.TypeFor[model.SecurityModel](): strs(model.SecurityModels),
		reflect.TypeFor[model.LinkKind]():      strs(model.LinkKinds),
		reflect.TypeFor[model.AccountKind]():   {string(model.AccountWizard), string(model.AccountPlain)},
		reflect.TypeFor[model.MessageKind]():   {string(model.MessageActivation), string(model.MessageInstallation), string(model.MessageTest)},
		reflect.TypeFor[model.ImportState](): {string(model.ImportPreviewed), string(model.ImportImporting), string(model.ImportSending),
			string(model.ImportDone), string(model.ImportFailed), string(model.ImportCancelled)},
	}
	// fieldEnums are string fields (and parameters) of these names,
	// wherever they are.
	fieldEnums = map[string][]string{
		"channel":        channels,
		"send":           channels,
		"platform":       model.Platforms,
		"language":       model.Languages,
		"security_model": strs(model.SecurityModels),
		"state":          messageStates,
	}
	// structFieldEnums are string fields of a fixed set in one type only.
	structFieldEnums = map[reflect.Type]map[string][]string{
		reflect.TypeFor[model.Account]():          {"status": accountStatuses()},
		reflect.TypeFor[model.ImportRow]():        {"action": {"create", "exists", "error"}},
		reflect.TypeFor[model.EffectiveProfile](): {"source": {"account", "group", "default"}},
	}
)

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
	if vs, ok := typeEnums[t]; ok {
		return enumSchema(vs)
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int64, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
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
	own := structFieldEnums[t]
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
			sch := schemaRef(f.Type, schemas)
			if sch["type"] == "string" && sch["enum"] == nil && sch["format"] == nil {
				if vs, ok := own[name]; ok {
					sch = enumSchema(vs)
				} else if vs, ok := fieldEnums[name]; ok {
					sch = enumSchema(vs)
				}
			}
			props[name] = sch
			if (!strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer) || f.Tag.Get("required") == "true" {
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
	return writeJSON(w, 200, s.openAPIDoc(r))
}
