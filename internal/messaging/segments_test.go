package messaging

import (
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/model"
)

func TestSMSSegments(t *testing.T) {
	for _, tc := range []struct {
		text string
		enc  string
		n    int
	}{
		{"", GSM7, 0},
		{strings.Repeat("a", 160), GSM7, 1},
		{strings.Repeat("a", 161), GSM7, 2},
		{strings.Repeat("a", 306), GSM7, 2},
		{strings.Repeat("a", 307), GSM7, 3},
		{strings.Repeat("€", 80), GSM7, 1}, // extension characters take two septets
		{strings.Repeat("€", 81), GSM7, 2},
		{"Grüße, àèìòù £$¥ Ñ", GSM7, 1},
		{strings.Repeat("ç", 70), UCS2, 1}, // ç is not GSM-7 (only Ç is)
		{strings.Repeat("ç", 71), UCS2, 2},
		{strings.Repeat("✓", 134), UCS2, 2},
		{strings.Repeat("✓", 135), UCS2, 3},
		{strings.Repeat("😀", 35), UCS2, 1}, // surrogate pairs count two units
		{strings.Repeat("😀", 36), UCS2, 2},
	} {
		enc, n := SMSSegments(tc.text)
		if enc != tc.enc || n != tc.n {
			t.Errorf("%.20q…(%d runes): got %s %d, want %s %d", tc.text, len([]rune(tc.text)), enc, n, tc.enc, tc.n)
		}
	}
}

// Every SMS template, with a real link (the longest a default install
// makes), must fit in two segments in every language.
func TestSMSTemplatesFitTwoSegments(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := NewTemplates(cat)
	if err != nil {
		t.Fatal(err)
	}
	link := "https://activate.example-company.com/a/avl_abcdefghijklmnopqrstuvwxyz234567"
	for _, lang := range cat.Languages() {
		for _, kind := range model.LinkKinds {
			r, err := tm.Render(lang, model.ChannelSMS, kind, MessageVars{Name: "Maximiliane Zimmermann-Lüdenscheid", Link: link,
				Company: "Example Telecommunications", ExpiresAt: time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			if enc, n := SMSSegments(r.Text); n > 2 {
				t.Errorf("%s %s SMS takes %d %s segments (flagged: more than two): %q", lang, kind, n, enc, r.Text)
			}
		}
	}
}
