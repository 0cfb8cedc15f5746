package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// asJSON marshals v, so trees with raw leaves compare as text.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, want)
	}
	return asJSON(t, g) == asJSON(t, w)
}

func TestParseSets(t *testing.T) {
	tests := []struct {
		name string
		sets []string
		want string
	}{
		{"boolean", []string{"pin.forced=true"}, `{"pin":{"forced":true}}`},
		{"number", []string{"pin.attempts=5"}, `{"pin":{"attempts":5}}`},
		{"top-level number", []string{"keep_alive_seconds=45"}, `{"keep_alive_seconds":45}`},
		{"string stays a string", []string{"customer_service_email=a@b.c"}, `{"customer_service_email":"a@b.c"}`},
		{"string that looks like JSON stays a string", []string{"customer_service_phone=12345", "oem_licence_code=true"},
			`{"customer_service_phone":"12345","oem_licence_code":"true"}`},
		{"string keeps = and spaces", []string{"oem_licence_code= a=b "}, `{"oem_licence_code":" a=b "}`},
		{"list split on commas", []string{"codecs=opus, pcma,,g722"}, `{"codecs":["opus","pcma","g722"]}`},
		{"list as JSON", []string{`codecs=["opus","pcmu"]`}, `{"codecs":["opus","pcmu"]}`},
		{"empty list", []string{"codecs="}, `{"codecs":[]}`},
		{"map of structs", []string{"security.end-to-end.transport=tls", "security.end-to-end.media_encryption_mandatory=false"},
			`{"security":{"end-to-end":{"transport":"tls","media_encryption_mandatory":false}}}`},
		{"list inside a map", []string{"security.end-to-site.srtp_suites=AES_CM_128_HMAC_SHA1_80"},
			`{"security":{"end-to-site":{"srtp_suites":["AES_CM_128_HMAC_SHA1_80"]}}}`},
		{"free map keys", []string{"platform_options.android.foo=bar", "platform_options.ios.background=5"},
			`{"platform_options":{"android":{"foo":"bar"},"ios":{"background":"5"}}}`},
		{"object value", []string{`privacy={"history_size":50}`}, `{"privacy":{"history_size":50}}`},
		{"siblings merge", []string{"pin.forced=true", "pin.attempts=3", "privacy.history_size=10"},
			`{"pin":{"forced":true,"attempts":3},"privacy":{"history_size":10}}`},
		{"same path twice: last wins", []string{"logging=off", "logging=debug"}, `{"logging":"debug"}`},
		{"nothing", nil, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSets(tt.sets)
			if err != nil {
				t.Fatalf("parseSets(%q): %v", tt.sets, err)
			}
			if g := asJSON(t, got); !sameJSON(t, g, tt.want) {
				t.Errorf("parseSets(%q) = %s, want %s", tt.sets, g, tt.want)
			}
		})
	}
}

func TestParseSetsRefuses(t *testing.T) {
	tests := []struct {
		name    string
		sets    []string
		wantErr []string // all must appear in the error
	}{
		{"unknown top-level key lists the valid ones", []string{"colour=blue"},
			[]string{`unknown setting "colour"`, "valid keys:", "customer_service_email", "pin", "codecs", "platform_options"}},
		{"unknown nested key", []string{"pin.colour=1"},
			[]string{`unknown setting "pin.colour"`, "valid keys under pin:", "forced", "attempts"}},
		{"unknown security model", []string{"security.end-to-moon.transport=tls"},
			[]string{`unknown security model "end-to-moon"`, "end-to-end, end-to-site"}},
		{"key below a single value", []string{"logging.level=1"}, []string{"logging is a single value"}},
		{"key below a string map value", []string{"platform_options.android.foo.bar=1"}, []string{"platform_options.android.foo is a single value"}},
		{"not a boolean", []string{"pin.forced=yes"}, []string{"--set pin.forced", `"yes" is not true or false`}},
		{"not a number", []string{"pin.attempts=five"}, []string{`"five" is not a whole number`}},
		{"not a whole number", []string{"pin.attempts=2.5"}, []string{"not a whole number"}},
		{"object of the wrong shape", []string{`privacy={"history_size":"many"}`}, []string{"not a JSON object with keys"}},
		{"no equals sign", []string{"pin.forced"}, []string{"want key=value"}},
		{"empty key", []string{"=true"}, []string{"want key=value"}},
		{"empty path part", []string{"pin..forced=true"}, []string{"empty part"}},
		{"whole and part", []string{`pin={"forced":true}`, "pin.attempts=3"}, []string{"--set pin.attempts conflicts with --set pin"}},
		{"part then whole", []string{"pin.attempts=3", `pin={"forced":true}`}, []string{"--set pin conflicts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSets(tt.sets)
			if err == nil {
				t.Fatalf("parseSets(%q) succeeded, want an error", tt.sets)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("parseSets(%q) error %q, want it to contain %q", tt.sets, err, w)
				}
			}
		})
	}
}

func TestProfileSettingKeysFollowTheModel(t *testing.T) {
	keys := profileSettingKeys()
	want := []string{"customer_service_email", "customer_service_phone", "logging", "read_only_settings",
		"secure_messaging", "privacy", "pin", "oem_licence_code", "keep_alive_seconds", "rtp_obfuscation",
		"codecs", "security", "platform_options"}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("profileSettingKeys() = %v, want %v", keys, want)
	}
}

func TestSettingsPatchFileAndSets(t *testing.T) {
	file := []byte(`{"pin":{"forced":false,"attempts":7},"codecs":["g722"],"logging":"debug"}`)
	got, err := settingsPatch([]string{"pin.forced=true", "codecs=opus"}, "s.json", file)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"pin":{"forced":true,"attempts":7},"codecs":["opus"],"logging":"debug"}`
	if g := asJSON(t, got); !sameJSON(t, g, want) {
		t.Errorf("settingsPatch = %s, want %s", g, want)
	}

	if _, err := settingsPatch(nil, "", nil); err != errNoSettings {
		t.Errorf("settingsPatch with nothing: err %v, want errNoSettings", err)
	}
	for _, bad := range []struct{ file, want string }{
		{`{"colour":"blue"}`, `unknown setting "colour"`},
		{`{"pin":{"colour":1}}`, `unknown field "colour"`},
		{`{"pin":{"forced":"yes"}}`, "s.json"},
		{`[1,2]`, "want a JSON object"},
		{`null`, "want a JSON object"},
		{`{`, "want a JSON object"},
	} {
		_, err := settingsPatch(nil, "s.json", []byte(bad.file))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("settingsPatch(file %s) error %v, want one containing %q", bad.file, err, bad.want)
		}
	}
}
