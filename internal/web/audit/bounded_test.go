package audit

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBoundedKeepsAShortEscapedPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"ada":                    "ada",
		"Zoë Ødegård":            "Zoë Ødegård",
		"ada\x1b[31m":            `ada\x1b[31m`,
		"ada\nadmin logged in":   `ada\x0aadmin logged in`,
		"nimda\u202eadmin":       `nimda\u202eadmin`,
		"a\u200bb":               `a\u200bb`,
		"back\\slash":            `back\\slash`,
		"bad\xffutf8":            `bad\xffutf8`,
		"\u0085next line":        `\u0085next line`,
		strings.Repeat("x", 100): strings.Repeat("x", 100),
		strings.Repeat("x", 101): strings.Repeat("x", 100) + "…",
	} {
		if got := Bounded(in); got != want {
			t.Errorf("Bounded(%q) = %q, want %q", in, got, want)
		}
	}
	// Two megabytes of anything: a short, valid, printable prefix.
	huge := strings.Repeat("é\x00\u202e", 1<<20)
	got := Bounded(huge)
	if len(got) > maxTyped+len("…") || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, `é\x00\u202e`) {
		t.Fatalf("Bounded of 2 MiB: %d bytes, %q", len(got), got)
	}
	for _, r := range got {
		if r < 0x20 || r == 0x7f || r == '\u202e' {
			t.Fatalf("Bounded kept %U: %q", r, got)
		}
	}
	// An escape is never cut in half.
	if got := Bounded(strings.Repeat("x", 98) + "\x00"); got != strings.Repeat("x", 98)+"…" {
		t.Fatalf("cut escape: %q", got)
	}
}
