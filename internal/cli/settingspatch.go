package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/activator-voip/activator/internal/model"
)

// jsonField is one field of a struct as JSON names it.
type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists t's JSON fields in declaration order, embedded structs
// flattened the way encoding/json flattens them.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, typ: f.Type})
	}
	return out
}

// fieldNames lists the JSON names of t's fields.
func fieldNames(t reflect.Type) []string {
	fs := jsonFields(t)
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return names
}

// profileSettingKeys lists the top-level keys of a profile's settings.
func profileSettingKeys() []string { return fieldNames(reflect.TypeFor[model.ProfileSettings]()) }

// settingType walks path through model.ProfileSettings and returns the type
// found at its end. The keys come from the struct's JSON tags, so a field
// added to the model is settable with no change here. Unknown struct keys and
// unknown security models are refused with the list of valid ones.
func settingType(path []string) (reflect.Type, error) {
	t := reflect.TypeFor[model.ProfileSettings]()
	for i, p := range path {
		switch t.Kind() {
		case reflect.Struct:
			var next reflect.Type
			for _, f := range jsonFields(t) {
				if f.name == p {
					next = f.typ
					break
				}
			}
			if next == nil {
				if i == 0 {
					return nil, fmt.Errorf("unknown setting %q; valid keys: %s", p, strings.Join(fieldNames(t), ", "))
				}
				return nil, fmt.Errorf("unknown setting %q; valid keys under %s: %s",
					strings.Join(path[:i+1], "."), strings.Join(path[:i], "."), strings.Join(fieldNames(t), ", "))
			}
			t = next
		case reflect.Map:
			if t.Key() == reflect.TypeFor[model.SecurityModel]() && !model.SecurityModel(p).Valid() {
				return nil, fmt.Errorf("unknown security model %q in %s; valid: %s",
					p, strings.Join(path[:i+1], "."), joinModels())
			}
			t = t.Elem()
		default:
			return nil, fmt.Errorf("%s is a single value; it has no key %q", strings.Join(path[:i], "."), p)
		}
	}
	return t, nil
}

func joinModels() string {
	s := make([]string, len(model.SecurityModels))
	for i, m := range model.SecurityModels {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

// settingValue turns the text of a --set value into the JSON for a field of
// type t: strings are taken as written, lists of strings are split on commas,
// everything else must be JSON of the field's type (true, 5, {"k":"v"}).
func settingValue(t reflect.Type, val string) (json.RawMessage, error) {
	switch {
	case t.Kind() == reflect.String:
		return json.Marshal(val)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		trimmed := strings.TrimSpace(val)
		if strings.HasPrefix(trimmed, "[") {
			var list []string
			if err := json.Unmarshal([]byte(trimmed), &list); err == nil {
				return json.Marshal(list)
			}
		}
		list := []string{}
		for _, item := range strings.Split(val, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		return json.Marshal(list)
	}
	trimmed := strings.TrimSpace(val)
	if !json.Valid([]byte(trimmed)) {
		return nil, fmt.Errorf("%q is not %s", val, describeType(t))
	}
	if err := json.Unmarshal([]byte(trimmed), reflect.New(t).Interface()); err != nil {
		return nil, fmt.Errorf("%q is not %s", val, describeType(t))
	}
	return json.RawMessage(trimmed), nil
}

// describeType names what a value of t looks like, for error messages.
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct:
		return "a JSON object with keys " + strings.Join(fieldNames(t), ", ")
	case reflect.Map:
		return "a JSON object"
	case reflect.Slice:
		return "a JSON list"
	}
	return "valid JSON"
}

// parseSets builds the nested partial settings object that the --set values
// describe. The same path given twice keeps the last value; a path and a path
// inside it (pin={...} and pin.forced=true) conflict.
func parseSets(sets []string) (map[string]any, error) {
	tree := map[string]any{}
	for _, s := range sets {
		key, val, ok := strings.Cut(s, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("--set %q: want key=value, such as pin.forced=true", s)
		}
		path := strings.Split(key, ".")
		for _, p := range path {
			if p == "" {
				return nil, fmt.Errorf("--set %q: empty part in the key %q", s, key)
			}
		}
		t, err := settingType(path)
		if err != nil {
			return nil, fmt.Errorf("--set %s: %w", key, err)
		}
		v, err := settingValue(t, val)
		if err != nil {
			return nil, fmt.Errorf("--set %s: %w", key, err)
		}
		if err := insertPath(tree, path, v); err != nil {
			return nil, err
		}
	}
	return tree, nil
}

// insertPath puts v at path in tree, creating the objects on the way.
func insertPath(tree map[string]any, path []string, v json.RawMessage) error {
	node := tree
	for i, p := range path[:len(path)-1] {
		switch next := node[p].(type) {
		case nil:
			m := map[string]any{}
			node[p] = m
			node = m
		case map[string]any:
			node = next
		default:
			return fmt.Errorf("--set %s conflicts with --set %s", strings.Join(path, "."), strings.Join(path[:i+1], "."))
		}
	}
	last := path[len(path)-1]
	if _, ok := node[last].(map[string]any); ok {
		return fmt.Errorf("--set %s conflicts with the --set values inside it", strings.Join(path, "."))
	}
	node[last] = v
	return nil
}

// parseSettingsFile reads a partial settings object from a file's content.
// Its keys and value types are checked against model.ProfileSettings.
func parseSettingsFile(name string, data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("reading settings file %s: want a JSON object of profile settings: %w", name, err)
	}
	if m == nil {
		return nil, fmt.Errorf("reading settings file %s: want a JSON object of profile settings", name)
	}
	for k := range m {
		if _, err := settingType([]string{k}); err != nil {
			return nil, fmt.Errorf("reading settings file %s: %w", name, err)
		}
	}
	strict := json.NewDecoder(bytes.NewReader(data))
	strict.DisallowUnknownFields()
	var check model.ProfileSettings
	if err := strict.Decode(&check); err != nil {
		return nil, fmt.Errorf("reading settings file %s: %w", name, err)
	}
	return m, nil
}

// mergeInto copies src over dst, recursing where both hold an object.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// errNoSettings says a profile edit had nothing to send.
var errNoSettings = errors.New("no settings given")

// settingsPatch builds the partial settings of --file (when fileData is not
// nil) with the --set values over it. It returns errNoSettings when neither
// was given.
func settingsPatch(sets []string, fileName string, fileData []byte) (map[string]any, error) {
	if len(sets) == 0 && fileData == nil {
		return nil, errNoSettings
	}
	patch := map[string]any{}
	if fileData != nil {
		m, err := parseSettingsFile(fileName, fileData)
		if err != nil {
			return nil, err
		}
		patch = m
	}
	tree, err := parseSets(sets)
	if err != nil {
		return nil, err
	}
	mergeInto(patch, tree)
	return patch, nil
}
