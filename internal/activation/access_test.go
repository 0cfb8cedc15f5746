package activation

import (
	"strings"
	"testing"
)

func TestBoundedName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ada", "ada"},
		{"Zoë Ångström", "Zoë Ångström"},
		{"ada\x1b[31m\r\nadmin", `ada\x1b[31m\r\nadmin`},
		{"a\\x1b", `a\\x1b`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"rtl\u202eoverride", `rtl\u202eoverride`},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), strings.Repeat("a", 61) + "..."},
		{strings.Repeat("é", 40), strings.Repeat("é", 30) + "..."},
		{strings.Repeat("\x00", 100), strings.Repeat(`\x00`, 15) + "..."},
	} {
		got := BoundedName(c.in)
		if got != c.want {
			t.Errorf("BoundedName(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > 64 {
			t.Errorf("BoundedName(%q) is %d bytes", c.in, len(got))
		}
	}
	if got := BoundedName(strings.Repeat("x", 1<<20)); len(got) != 64 {
		t.Errorf("a megabyte name keeps %d bytes", len(got))
	}
}
