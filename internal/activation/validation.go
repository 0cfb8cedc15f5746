package activation

import (
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/activator-voip/activator/internal/model"
)

func validName(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid(field, "%s is required", field)
	}
	if len(v) > 100 {
		return invalid(field, "%s: at most 100 characters", field)
	}
	if v != strings.TrimSpace(v) || strings.ContainsAny(v, "/\\?#%") || hasControl(v) {
		return invalid(field, "%s must not start or end with spaces nor hold control characters or / \\ ? # %%", field)
	}
	return nil
}

func hasControl(v string) bool {
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func validEmail(field, v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !strings.Contains(v[strings.LastIndex(v, "@")+1:], ".") {
		return invalid(field, "%q is not an e-mail address like name@example.com", v)
	}
	return nil
}

// normaliseMobile returns a mobile number in E.164, reading numbers without
// a country code in region.
func normaliseMobile(v, region string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if strings.HasPrefix(v, "00") {
		v = "+" + v[2:]
	}
	num, err := phonenumbers.Parse(v, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", invalid("mobile", "%q is not a valid phone number (numbers without +country code are read as %s numbers)", v, region)
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.FIXED_LINE:
		return "", invalid("mobile", "%q is a landline number; SMS needs a mobile number", v)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// validPlatform refuses a platform activator has no download or
// configuration for, naming the ones it has.
func validPlatform(field, v string) error {
	if !model.ValidPlatform(v) {
		return invalid(field, "unknown platform %q: want one of %s", v, strings.Join(model.Platforms, ", "))
	}
	return nil
}
