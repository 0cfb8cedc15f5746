// Package i18n holds every text activator shows to end users (landing pages,
// error pages, SMS and e-mail), one embedded JSON catalogue per language.
//
// Keys are flat ("landing.title", "sms.activation"). A text that needs values
// carries Go text/template placeholders such as {{.Name}}; Format renders
// them. Every catalogue has exactly the keys of the English one, which is the
// fallback for a missing language or key (the package test enforces it).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// Fallback is the language used when none, or an unsupported one, is asked for.
const Fallback = "en"

//go:embed locales/*.json
var locales embed.FS

// Catalogue is the parsed set of texts in every supported language. It is
// read-only after Load, so one value is safely shared by every request.
type Catalogue struct {
	langs []string
	texts map[string]map[string]string
	// tmpls holds the texts that carry placeholders, parsed once by Load.
	tmpls map[string]map[string]*template.Template
}

// Load parses the embedded catalogues. It fails when a supported language has
// no catalogue, a file names an unsupported language, or a placeholder does
// not parse. Call it once at start and share the result.
func Load() (*Catalogue, error) {
	entries, err := fs.ReadDir(locales, "locales")
	if err != nil {
		return nil, fmt.Errorf("i18n: reading catalogues: %w", err)
	}
	c := &Catalogue{
		texts: make(map[string]map[string]string, len(entries)),
		tmpls: make(map[string]map[string]*template.Template, len(entries)),
	}
	for _, e := range entries {
		name := e.Name()
		lang := strings.TrimSuffix(name, ".json")
		if e.IsDir() || lang == name {
			continue
		}
		if lang == "" || !model.ValidLanguage(lang) {
			return nil, fmt.Errorf("i18n: catalogue %s: language %q is not supported", name, lang)
		}
		raw, err := locales.ReadFile(path.Join("locales", name))
		if err != nil {
			return nil, fmt.Errorf("i18n: reading catalogue %s: %w", name, err)
		}
		texts := map[string]string{}
		if err := json.Unmarshal(raw, &texts); err != nil {
			return nil, fmt.Errorf("i18n: parsing catalogue %s: %w", name, err)
		}
		tmpls := map[string]*template.Template{}
		for key, text := range texts {
			if !strings.Contains(text, "{{") {
				continue
			}
			t, err := template.New(lang + ":" + key).Option("missingkey=error").Parse(text)
			if err != nil {
				return nil, fmt.Errorf("i18n: parsing %s key %q: %w", name, key, err)
			}
			tmpls[key] = t
		}
		c.texts[lang] = texts
		c.tmpls[lang] = tmpls
	}
	for _, lang := range model.Languages {
		if _, ok := c.texts[lang]; !ok {
			return nil, fmt.Errorf("i18n: no catalogue for language %q", lang)
		}
		c.langs = append(c.langs, lang)
	}
	return c, nil
}

// Languages lists the supported language codes, English first.
func (c *Catalogue) Languages() []string {
	return append([]string(nil), c.langs...)
}

// Keys lists, sorted, the keys of the English catalogue, which every other
// catalogue has too.
func (c *Catalogue) Keys() []string {
	keys := make([]string, 0, len(c.texts[Fallback]))
	for k := range c.texts[Fallback] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lang returns the catalogue language to use for lang: itself when it has a
// catalogue, else its normalised form.
func (c *Catalogue) lang(lang string) string {
	if _, ok := c.texts[lang]; ok {
		return lang
	}
	return Normalize(lang)
}

// T returns the raw text of key in lang, placeholders included. A missing
// language or key falls back to English, then to the key itself, so a page
// never shows an empty string.
func (c *Catalogue) T(lang, key string) string {
	if s, ok := c.texts[c.lang(lang)][key]; ok {
		return s
	}
	if s, ok := c.texts[Fallback][key]; ok {
		return s
	}
	return key
}

// Format returns the text of key in lang with its placeholders rendered from
// data (a struct or a map[string]string), with the fallbacks of T. The
// templates were parsed by Load, so this only executes them.
func (c *Catalogue) Format(lang, key string, data any) (string, error) {
	lang = c.lang(lang)
	t, ok := c.tmpls[lang][key]
	if !ok {
		if _, plain := c.texts[lang][key]; !plain {
			t, ok = c.tmpls[Fallback][key]
		}
	}
	if !ok {
		return c.T(lang, key), nil
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("i18n: rendering %s key %q: %w", lang, key, err)
	}
	return b.String(), nil
}

// dateParts are the placeholders of the "date.format" text.
type dateParts struct {
	Day, Month, Year, Time, Zone string
}

// FormatDate writes t, in its own location, the way lang writes a date and a
// time, with the month spelled out ("9 January 2026, 14:30 UTC").
func (c *Catalogue) FormatDate(lang string, t time.Time) string {
	return c.formatTime(lang, "date.format", t, "2006-01-02 15:04 MST")
}

// FormatDay writes the date of t, in its own location, the way lang writes it
// ("9 January 2026"): for texts that must stay short, such as an SMS.
func (c *Catalogue) FormatDay(lang string, t time.Time) string {
	return c.formatTime(lang, "date.format.day", t, "2006-01-02")
}

func (c *Catalogue) formatTime(lang, key string, t time.Time, fallback string) string {
	parts := dateParts{
		Day:   strconv.Itoa(t.Day()),
		Month: c.T(lang, "date.month."+strconv.Itoa(int(t.Month()))),
		Year:  strconv.Itoa(t.Year()),
		Time:  t.Format("15:04"),
		Zone:  t.Format("MST"),
	}
	s, err := c.Format(lang, key, parts)
	if err != nil {
		// The catalogue test renders every date format; this is only a guard.
		return t.Format(fallback)
	}
	return s
}

// Normalize maps a language tag ("it", "it-IT", "IT", "it_IT") or an
// Accept-Language header value ("fr-CH, fr;q=0.9, en;q=0.8") to a supported
// language code. It picks the supported language with the highest quality,
// the first one on a tie, and returns English when none is supported.
func Normalize(lang string) string {
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(lang, ",") {
		tag, params, _ := strings.Cut(part, ";")
		primary, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
		primary, _, _ = strings.Cut(primary, "_")
		primary = strings.ToLower(primary)
		code := supported(primary)
		if code == "" {
			continue
		}
		q, ok := quality(params)
		if ok && q > bestQ {
			best, bestQ = code, q
		}
	}
	if best == "" {
		return Fallback
	}
	return best
}

// supported returns the supported language code equal to primary, or "".
func supported(primary string) string {
	for _, l := range model.Languages {
		if l == primary {
			return l
		}
	}
	return ""
}

// quality reads the q parameter of one Accept-Language entry. An entry with
// no q has quality 1; a malformed q makes the entry unusable.
func quality(params string) (float64, bool) {
	for p := range strings.SplitSeq(params, ";") {
		p = strings.TrimSpace(p)
		v, ok := strings.CutPrefix(p, "q=")
		if !ok {
			v, ok = strings.CutPrefix(p, "Q=")
		}
		if !ok {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0, false
		}
		return q, true
	}
	return 1, true
}
