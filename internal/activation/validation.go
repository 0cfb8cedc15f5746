package activation

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/activator-voip/activator/internal/model"
)

// Every check of a text says what is wrong with it: missing, too long (in
// characters, as people count them), or holding a control character
// (which no name needs, and which PostgreSQL refuses in the case of NUL),
// naming the character and where it is.

// lineProblem says what is wrong with v as one line of at most max
// characters, required or not, or "" when nothing is; what names it.
func lineProblem(what, v string, required bool, max int) string {
	if required && strings.TrimSpace(v) == "" {
		return what + " is required"
	}
	if n := utf8.RuneCountInString(v); n > max {
		return fmt.Sprintf("%s is %d characters long: at most %d", what, n, max)
	}
	if at, r, ok := firstControl(v, ""); ok {
		return fmt.Sprintf("%s holds a control character (%U, character %d): it must be one line of plain text", what, r, at)
	}
	return ""
}

// textProblem is lineProblem for a text of several lines: line breaks
// and tabs are allowed, other control characters are not.
func textProblem(what, v string, max int) string {
	if n := utf8.RuneCountInString(v); n > max {
		return fmt.Sprintf("%s is %d characters long: at most %d", what, n, max)
	}
	if at, r, ok := firstControl(v, "\n\r\t"); ok {
		return fmt.Sprintf("%s holds a control character (%U, character %d): only line breaks and tabs may be in it", what, r, at)
	}
	return ""
}

// checkLine is lineProblem as a bad-input error on field.
func checkLine(field, what, v string, required bool, max int) error {
	if p := lineProblem(what, v, required, max); p != "" {
		return invalid(field, "%s", p)
	}
	return nil
}

// firstControl finds the first control character of v other than those
// in allowed, and its position counted in characters from 1.
func firstControl(v, allowed string) (at int, r rune, found bool) {
	for _, c := range v {
		at++
		if unicode.IsControl(c) && !strings.ContainsRune(allowed, c) {
			return at, c, true
		}
	}
	return 0, 0, false
}

// validName checks the name of a group, profile, operator or API token:
// names appear in URLs and command lines, so they are kept plain.
func validName(field, v string) error {
	if p := lineProblem(field, v, true, 100); p != "" {
		return invalid(field, "%s", p)
	}
	if v != strings.TrimSpace(v) {
		return invalid(field, "%s %q starts or ends with a space", field, v)
	}
	if i := strings.IndexAny(v, "/\\?#%"); i >= 0 {
		return invalid(field, "%s %q holds %q: a name cannot hold / \\ ? # or %% (names are part of URLs)", field, v, v[i:i+1])
	}
	return nil
}

func validEmail(field, v string) error {
	if p := lineProblem("an e-mail address", v, true, 254); p != "" {
		return invalid(field, "%s", p)
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !strings.Contains(v[strings.LastIndex(v, "@")+1:], ".") {
		return invalid(field, "%q is not an e-mail address like name@example.com", v)
	}
	return nil
}

// normaliseMobile returns a mobile number in E.164, reading numbers without
// a country code in region.
func normaliseMobile(v, region string) (string, error) {
	v = mobileText(v)
	if v == "" {
		return "", nil
	}
	n, how := readMobile(v, region)
	return n, mobileError(v, region, how)
}

// mobileText is a mobile number's cell as it is read: without spaces
// around it, and 00 for a country code taken as +.
func mobileText(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "00") {
		v = "+" + v[2:]
	}
	return v
}

// How a mobile number reads (readMobile).
const (
	mobileOK mobileRead = iota
	mobileInvalid
	mobileLandline
)

type mobileRead uint8

// readMobile reads a mobileText as a number of region: in E.164 when it is
// a valid number that is not a landline.
func readMobile(v, region string) (string, mobileRead) {
	num, err := phonenumbers.Parse(v, region)
	if err != nil {
		return "", mobileInvalid
	}
	// The number's type is found once: a number is valid exactly when its
	// type is known (phonenumbers.IsValidNumber finds the type as well, and
	// finding it is most of the cost of a number: its region, then the
	// patterns of each type).
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.UNKNOWN:
		return "", mobileInvalid
	case phonenumbers.FIXED_LINE:
		return "", mobileLandline
	}
	return phonenumbers.Format(num, phonenumbers.E164), mobileOK
}

// mobileError is the refusal of mobileText v that reads as how.
func mobileError(v, region string, how mobileRead) error {
	switch how {
	case mobileInvalid:
		return invalid("mobile", "%q is not a valid phone number (numbers without +country code are read as %s numbers)", v, region)
	case mobileLandline:
		return invalid("mobile", "%q is a landline number; SMS needs a mobile number", v)
	}
	return nil
}

// validPlatform refuses a platform activator has no download or
// configuration for, naming the ones it has.
func validPlatform(field, v string) error {
	if !model.ValidPlatform(v) {
		return invalid(field, "unknown platform %q: want one of %s", v, strings.Join(model.Platforms, ", "))
	}
	return nil
}

// validGatewayName checks a gateway's name, which is part of its receipt
// URL: 1 to 63 lower-case letters, digits, '.', '_' or '-', a letter or
// digit first.
func validGatewayName(v string) error {
	const want = "1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
	if v == "" {
		return invalid("name", "name is required: %s", want)
	}
	if p := lineProblem("name", v, true, 63); p != "" {
		return invalid("name", "%s", p)
	}
	if !gatewayNameRe.MatchString(v) {
		for i, r := range v {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (i > 0 && strings.ContainsRune("._-", r))) {
				return invalid("name", "name %q holds %q at character %d: %s", v, r, utf8.RuneCountInString(v[:i])+1, want)
			}
		}
		return invalid("name", "name %q: %s", v, want)
	}
	return nil
}
