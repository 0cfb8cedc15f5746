package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

const maxBody = 1 << 20

// bodyTooLarge is a 413 answer: the body is over its route's bound, in bytes.
type bodyTooLarge int64

func (e bodyTooLarge) Error() string { return "the request body is too large: at most " + e.bound() }

// bound is the bound in the largest unit that says it exactly.
func (e bodyTooLarge) bound() string {
	n := int64(e)
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// badRequest is a 400 answer naming the field.
type badRequest struct {
	code, field, msg string
}

func (e *badRequest) Error() string { return e.msg }

// decode reads a JSON body into v. A body that is not application/json
// (415), null, unknown fields, wrong types, trailing data and oversize
// bodies are refused with the field named where there is one.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyTooLarge(mbe.Limit)
		}
		return &badRequest{"invalid_json", "", "reading the request body: " + err.Error()}
	}
	if len(body) > 0 || r.Header.Get("Content-Type") != "" { // no body at all: the 400 below says what is missing
		if err := requireMediaType(r, "application/json"); err != nil {
			return err
		}
	}
	switch string(bytes.TrimSpace(body)) {
	case "":
		return &badRequest{"invalid_json", "", "a JSON request body is required"}
	case "null": // would decode as nothing given: a PUT or PATCH that silently does nothing
		return &badRequest{"invalid_json", "", "the request body must be a JSON object, not null"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			path, blank := unknownFieldPath(body, reflect.TypeOf(v))
			if path == "" && !blank {
				path = strings.Trim(f, `"`)
				blank = path == ""
			}
			if blank { // a key with no name: its parent is the field
				return &badRequest{"unknown_field", strings.TrimSuffix(path, "."), fmt.Sprintf("unknown field %q: a key with no name", path)}
			}
			return &badRequest{"unknown_field", path, fmt.Sprintf("unknown field %q", path)}
		}
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &badRequest{"invalid_json", "", "the request body holds more than one JSON value"}
	}
	return nil
}

func jsonError(err error) error {
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
	)
	switch {
	case errors.As(err, &te) && te.Field == "":
		return &badRequest{"invalid_json", "", fmt.Sprintf("the request body must be a JSON object, not %s", te.Value)}
	case errors.As(err, &te):
		field := te.Field
		return &badRequest{"invalid_field", field, fmt.Sprintf("%s must be %s, not %s", field, jsonType(te.Type.String()), te.Value)}
	case errors.As(err, &se):
		return &badRequest{"invalid_json", "", fmt.Sprintf("the request body is not valid JSON (at byte %d): %v", se.Offset, se)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequest{"invalid_json", "", "the request body is cut short"}
	}
	return &badRequest{"invalid_json", "", "the request body is not valid: " + strings.TrimPrefix(err.Error(), "json: ")}
}

func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "*"):
		return jsonType(goType[1:])
	case goType == "string", strings.HasSuffix(goType, "SecurityModel"):
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map"):
		return "an object"
	}
	return "an object"
}

// queryInt reads an optional integer query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &badRequest{"invalid_field", name, fmt.Sprintf("%s must be a whole number", name)}
	}
	return n, nil
}

// unknownFieldPath finds the dotted path of the first key in body that the
// type t has no field for; encoding/json names only the key itself.
func unknownFieldPath(body []byte, t reflect.Type) (path string, blank bool) {
	var generic any
	if json.Unmarshal(body, &generic) != nil {
		return "", false
	}
	return findUnknown(generic, t, "")
}

// findUnknown finds the first unknown key of v, by key order so the same
// body always names the same one: its path (keys joined by dots) and
// whether the key itself is empty, which a path cannot tell from a key
// named ".".
func findUnknown(v any, t reflect.Type, prefix string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		if t.Kind() == reflect.Map {
			for _, k := range keys {
				if p, blank := findUnknown(x[k], t.Elem(), prefix+k+"."); p != "" || blank {
					return p, blank
				}
			}
			return "", false
		}
		if t.Kind() != reflect.Struct {
			return "", false
		}
		fields := jsonFields(t)
		for _, k := range keys {
			ft, ok := fields[strings.ToLower(k)]
			if !ok {
				return prefix + k, k == ""
			}
			if p, blank := findUnknown(x[k], ft, prefix+k+"."); p != "" || blank {
				return p, blank
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, sub := range x {
				if p, blank := findUnknown(sub, t.Elem(), prefix); p != "" || blank {
					return p, blank
				}
			}
		}
	}
	return "", false
}

// jsonFields maps a struct's JSON names (lower-cased, as encoding/json
// matches them) to their types, embedded structs included.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[strings.ToLower(name)] = f.Type
	}
	return out
}
