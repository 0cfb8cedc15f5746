package audit

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTyped is the most an entry keeps of what an unknown caller typed, in
// bytes before the mark of a cut: the longest operator name fits.
const maxTyped = 100

// Bounded is what an entry may keep of a name someone typed before anyone
// knows who they are, such as a failed login's: at most 100 bytes, cut
// with "…", with control and invisible formatting characters (such as
// bidirectional overrides), backslashes and bytes that are not UTF-8
// written as Go escapes (\x1b, \u202e, \\, \xff). Operator names never
// hold any of those, so a real name is kept as it is.
func Bounded(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		part := s[i : i+size]
		switch {
		case r == utf8.RuneError && size == 1:
			part = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\\':
			part = `\\`
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			if r < 0x10000 {
				part = fmt.Sprintf(`\u%04x`, r)
			} else {
				part = fmt.Sprintf(`\U%08x`, r)
			}
			if r < 0x80 {
				part = fmt.Sprintf(`\x%02x`, r)
			}
		}
		if b.Len()+len(part) > maxTyped {
			b.WriteString("…")
			break
		}
		b.WriteString(part)
		i += size
	}
	return b.String()
}
