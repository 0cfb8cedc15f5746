package activation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// Each refused value is told what is wrong with it: a control character
// is named as one (with where it is), a long value by its length, a
// missing one as missing; never a rule that the value does not break.
func TestValidationSaysWhatIsWrong(t *testing.T) {
	long := strings.Repeat("é", 201) // 201 characters, 402 bytes
	cases := []struct {
		what      string
		err       error
		want, not string
	}{
		{"NUL in a name", checkLine("name", "name", "Ada\x00Lovelace", true, 200), "control character (U+0000, character 4)", "1 to 200"},
		{"escape in a name", checkLine("name", "name", "Ada\x1b[31m", true, 200), "control character (U+001B, character 4)", "long"},
		{"C1 control in a name", checkLine("name", "name", "Ada\u0085", true, 200), "control character (U+0085", "long"},
		{"line break in a name", checkLine("name", "name", "Ada\nLovelace", true, 200), "control character (U+000A", "required"},
		{"too long", checkLine("name", "name", long, true, 200), "201 characters long: at most 200", "control"},
		{"empty", checkLine("name", "name", "  ", true, 200), "name is required", "control"},
		{"group name with NUL", validName("name", "sales\x00"), "control character (U+0000, character 6)", "/"},
		{"group name with a slash", validName("name", "a/b"), `holds "/"`, "control"},
		{"group name with spaces around", validName("name", " a "), "starts or ends with a space", "control"},
		{"group name too long", validName("name", strings.Repeat("g", 101)), "101 characters long: at most 100", "control"},
		{"description with NUL", invalidText("description", "line one\nline\x00two", 1000), "control character (U+0000, character 14)", "long"},
		{"description too long", invalidText("description", strings.Repeat("d", 1001), 1000), "1001 characters long", "control"},
		{"e-mail with NUL", validEmail("email", "ada\x00@example.com"), "control character (U+0000, character 4)", "like name@"},
		{"gateway name with NUL", validGatewayName("sms\x00"), "control character (U+0000, character 4)", "lower-case"},
		{"gateway name empty", validGatewayName(""), "name is required: 1 to 63 lower-case", "control"},
		{"gateway name with a capital", validGatewayName("Sms"), `holds 'S' at character 1`, "control"},
		{"gateway name too long", validGatewayName(strings.Repeat("g", 64)), "64 characters long: at most 63", "control"},
	}
	for _, c := range cases {
		var de *Error
		if !errors.As(c.err, &de) || de.Kind != KindInvalid {
			t.Errorf("%s: want a bad-input error, got %v", c.what, c.err)
			continue
		}
		if !strings.Contains(de.Message, c.want) || (c.not != "" && strings.Contains(de.Message, c.not)) {
			t.Errorf("%s: message %q, want it to say %q and not %q", c.what, de.Message, c.want, c.not)
		}
	}
	// What is fine passes: multi-line descriptions, names in any script.
	for _, err := range []error{
		checkLine("name", "name", "Zoë Ōtani 王", true, 200),
		checkLine("name", "name", strings.Repeat("é", 200), true, 200),
		invalidText("description", "two\r\nlines\tand a tab", 1000),
		validName("name", "sales-emea"),
		validGatewayName("sms.backup_2"),
	} {
		if err != nil {
			t.Errorf("a valid value refused: %v", err)
		}
	}
}

func invalidText(field, v string, max int) error {
	if p := textProblem(field, v, max); p != "" {
		return invalid(field, "%s", p)
	}
	return nil
}

// Through the domain, on both engines: an account's name or description
// with a NUL is refused as holding a control character (PostgreSQL would
// refuse the NUL itself, as an internal error), and an import row's cell
// is reported the same way.
func TestNULInNamesIsReportedAsAControlCharacter(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		for field, in := range map[string]model.AccountInput{
			"name":        {Group: strp("sales"), Name: strp("Ada\x00")},
			"description": {Group: strp("sales"), Name: strp("Ada"), Description: strp("VIP\x00")},
		} {
			_, err := dom.Accounts.Create(ctx, in, admin)
			wantField(t, err, field)
			if !strings.Contains(err.Error(), "control character (U+0000") {
				t.Errorf("%s with NUL: %q does not say it holds a control character", field, err)
			}
		}
		// A NUL refuses the whole file (no text file holds one); other
		// control characters are named in their cells.
		_, err := dom.Imports.Preview(ctx, "people.csv", []byte("Full name\nAda\nBob\x00\n"), ImportOptions{Group: "sales"}, admin)
		if wantField(t, err, "file"); !strings.Contains(err.Error(), "line 3: the file holds a NUL byte") {
			t.Errorf("a file with NUL: %v", err)
		}
		file := "Full name,E-mail,Description\n" +
			"Ada\x01 Lovelace,ada@example.com,\n" +
			strings.Repeat("n", 201) + ",long@example.com,\n" +
			",empty@example.com,\n" +
			"Charles,charles@example.com,note\x1b\n"
		p, err := dom.Imports.Preview(ctx, "people.csv", []byte(file), ImportOptions{Group: "sales"}, admin)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]string{
			2: "the full name holds a control character (U+0001, character 4)",
			3: "the full name is 201 characters long: at most 200",
			4: "the full name is required",
			5: "the description holds a control character (U+001B, character 5)",
		}
		got := map[int]string{}
		for _, e := range p.Errors {
			got[e.Row] = e.Message
		}
		for row, msg := range want {
			if !strings.HasPrefix(got[row], msg) {
				t.Errorf("row %d: %q, want %q", row, got[row], msg)
			}
		}
		if p.Invalid != 4 {
			t.Errorf("%d invalid rows, want 4: %+v", p.Invalid, p.Errors)
		}
	})
}
