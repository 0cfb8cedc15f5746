package i18n

import (
	"encoding/json"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

func load(t *testing.T) *Catalogue {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestLanguagesAreTheModelLanguages(t *testing.T) {
	c := load(t)
	if got := c.Languages(); !slices.Equal(got, model.Languages) {
		t.Fatalf("Languages() = %v, want %v", got, model.Languages)
	}
}

var actionRE = regexp.MustCompile(`\{\{[^}]*\}\}`)

// placeholders returns the sorted, distinct template actions of s.
func placeholders(s string) []string {
	found := actionRE.FindAllString(s, -1)
	slices.Sort(found)
	return slices.Compact(found)
}

func TestCataloguesMatchEnglish(t *testing.T) {
	c := load(t)
	en := c.texts[Fallback]
	if len(en) == 0 {
		t.Fatal("English catalogue is empty")
	}
	for _, lang := range c.Languages() {
		texts := c.texts[lang]
		for key := range en {
			if _, ok := texts[key]; !ok {
				t.Errorf("%s: missing key %q", lang, key)
			}
		}
		same := 0
		for key, text := range texts {
			enText, ok := en[key]
			if !ok {
				t.Errorf("%s: key %q is not in en", lang, key)
				continue
			}
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: key %q is empty", lang, key)
			}
			if got, want := placeholders(text), placeholders(enText); !slices.Equal(got, want) {
				t.Errorf("%s: key %q has placeholders %v, en has %v", lang, key, got, want)
			}
			if strings.Count(text, "{{") != strings.Count(text, "}}") {
				t.Errorf("%s: key %q has unbalanced braces", lang, key)
			}
			if text == enText {
				same++
			}
		}
		// Brand and platform names stay the same; a copied catalogue does not.
		if lang != Fallback && same*5 > len(en) {
			t.Errorf("%s: %d of %d texts are identical to English: is it translated?", lang, same, len(en))
		}
	}
}

// TestNoDuplicateKeys reads the files token by token, because decoding into a
// map silently keeps the last of two equal keys.
func TestNoDuplicateKeys(t *testing.T) {
	entries, err := fs.ReadDir(locales, "locales")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := locales.ReadFile(path.Join("locales", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		if _, err := dec.Token(); err != nil { // {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			key := tok.(string)
			if seen[key] {
				t.Errorf("%s: duplicate key %q", e.Name(), key)
			}
			seen[key] = true
			if _, err := dec.Token(); err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
		}
	}
}

// TestEveryPlaceholderRenders renders every text of every language with every
// placeholder the catalogues use, so a typo such as {{.Nmae}} fails here and
// not in front of a user.
func TestEveryPlaceholderRenders(t *testing.T) {
	c := load(t)
	data := map[string]string{
		"Name": "Ada", "Company": "ACME", "Link": "https://example.com/a/x",
		"Date": "1 January 2030", "Platform": "Android", "ITEmail": "it@example.com", "N": "6",
		"Day": "1", "Month": "January", "Year": "2030", "Time": "10:00", "Zone": "UTC",
	}
	for _, lang := range c.Languages() {
		for _, key := range c.Keys() {
			got, err := c.Format(lang, key, data)
			if err != nil {
				t.Errorf("%s %s: %v", lang, key, err)
				continue
			}
			if strings.Contains(got, "{{") || strings.Contains(got, "<no value>") {
				t.Errorf("%s %s: rendered to %q", lang, key, got)
			}
		}
	}
}

func TestTFallbacks(t *testing.T) {
	c := load(t)
	if got, want := c.T("it", "landing.title"), c.texts["it"]["landing.title"]; got != want {
		t.Errorf("T(it) = %q, want %q", got, want)
	}
	if got, want := c.T("it-IT", "landing.title"), c.texts["it"]["landing.title"]; got != want {
		t.Errorf("T(it-IT) = %q, want %q", got, want)
	}
	for _, lang := range []string{"", "xx", "pt-BR"} {
		if got, want := c.T(lang, "landing.title"), c.texts["en"]["landing.title"]; got != want {
			t.Errorf("T(%q) = %q, want English %q", lang, got, want)
		}
	}
	if got := c.T("it", "no.such.key"); got != "no.such.key" {
		t.Errorf("T(missing key) = %q, want the key", got)
	}
	if got, err := c.Format("de", "no.such.key", nil); err != nil || got != "no.such.key" {
		t.Errorf("Format(missing key) = %q, %v", got, err)
	}
}

func TestFormat(t *testing.T) {
	c := load(t)
	got, err := c.Format("it", "landing.greeting", struct{ Name string }{"Ada <b>"})
	if err != nil {
		t.Fatal(err)
	}
	if got != "Buongiorno Ada <b>," {
		t.Errorf("Format = %q", got)
	}
	if _, err := c.Format("en", "landing.greeting", map[string]string{}); err == nil {
		t.Error("Format with a missing placeholder value: no error")
	}
}

func TestFormatDate(t *testing.T) {
	c := load(t)
	at := time.Date(2026, time.March, 9, 14, 30, 0, 0, time.UTC)
	want := map[string]string{
		"en": "9 March 2026, 14:30 UTC",
		"it": "9 marzo 2026, ore 14:30 UTC",
		"de": "9. März 2026, 14:30 Uhr UTC",
		"fr": "9 mars 2026 à 14:30 UTC",
		"es": "9 de marzo de 2026, 14:30 UTC",
	}
	for lang, w := range want {
		if got := c.FormatDate(lang, at); got != w {
			t.Errorf("FormatDate(%s) = %q, want %q", lang, got, w)
		}
	}
	wantDay := map[string]string{
		"en": "9 March 2026",
		"it": "9 marzo 2026",
		"de": "9. März 2026",
		"fr": "9 mars 2026",
		"es": "9 de marzo de 2026",
	}
	for lang, w := range wantDay {
		if got := c.FormatDay(lang, at); got != w {
			t.Errorf("FormatDay(%s) = %q, want %q", lang, got, w)
		}
	}
	for m := time.January; m <= time.December; m++ {
		for _, lang := range c.Languages() {
			if got := c.FormatDate(lang, time.Date(2026, m, 1, 0, 0, 0, 0, time.UTC)); strings.Contains(got, "date.month") {
				t.Errorf("FormatDate(%s, %v) = %q", lang, m, got)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "en"},
		{"en", "en"},
		{"it", "it"},
		{"IT", "it"},
		{"it-IT", "it"},
		{"it_IT", "it"},
		{"de-CH", "de"},
		{"Fr", "fr"},
		{"es-419", "es"},
		{"pt-BR", "en"},
		{"xx", "en"},
		{"*", "en"},
		{"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"},
		{"pt-BR,pt;q=0.9,es;q=0.8,en;q=0.7", "es"},
		{"en;q=0.5, de", "de"},
		{"de;q=0, it;q=0.1", "it"},
		{"de;q=abc, es;q=0.2", "es"},
		{"  it-IT ; q=0.8 ", "it"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
