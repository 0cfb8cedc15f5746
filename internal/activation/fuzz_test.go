package activation

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// FuzzImportCSV previews arbitrary files as CSV imports over a real SQLite
// store. Whatever the file, the preview is refused as bad input on the
// file (never another error), or every row is counted once and every bad
// cell is named by a row of the file and a column it can have; the rows
// it would create hold no control character and a mobile number in
// E.164; and a file written back from those rows previews the same.
//
//	go test -run='^$' -fuzz=FuzzImportCSV -fuzztime=20s ./internal/activation/
func FuzzImportCSV(f *testing.F) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(f.TempDir(), "activator.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	dom := newDomain(f, st)
	mustGroup(f, dom, "sales")
	if _, err := dom.Profiles.Create(ctx, "road", nil, admin); err != nil {
		f.Fatal(err)
	}
	// The seed corpus is testdata/fuzz/FuzzImportCSV; this one is the
	// import's documented example.
	f.Add([]byte("Full name,Mobile number,E-mail,Group\nAda Lovelace,+39 333 123 4567,ada@example.com,sales\n"))

	e164 := regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	f.Fuzz(func(t *testing.T, file []byte) {
		p, err := dom.Imports.Preview(ctx, "fuzz.csv", file, ImportOptions{Group: "sales"}, admin)
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Kind != KindInvalid || de.Field != "file" || de.Message == "" {
				t.Fatalf("a file refused with %#v (%v), want bad input on the file", de, err)
			}
			return
		}
		if p.Create+p.Exists+p.Invalid != p.Total || p.Total < 1 {
			t.Fatalf("counts do not add up: %+v", p)
		}
		lines := bytes.Count(file, []byte("\n")) + 1
		for _, e := range p.Errors {
			if e.Row < 2 || e.Row > lines || e.Message == "" || (e.Column != "" && !slices.Contains(ImportColumns, e.Column)) {
				t.Fatalf("an error names no row of the file or no column: %+v (%d lines)", e, lines)
			}
		}
		var again bytes.Buffer
		w := csv.NewWriter(&again)
		w.Write([]string{ColName, ColMobile, ColEmail, ColGroup})
		var created []model.ImportRow
		for _, r := range p.Rows {
			if r.Action != "create" {
				continue
			}
			if lineProblem("name", r.Name, true, 200) != "" || hasControlChar(r.Email) || (r.Mobile != "" && !e164.MatchString(r.Mobile)) {
				t.Fatalf("a row to create holds what validation refuses: %+v", r)
			}
			created = append(created, r)
			w.Write([]string{csvSafe(r.Name), r.Mobile, csvSafe(r.Email), r.Group})
		}
		w.Flush()
		if len(created) == 0 {
			return
		}
		q, err := dom.Imports.Preview(ctx, "again.csv", again.Bytes(), ImportOptions{}, admin)
		if err != nil {
			t.Fatalf("the rows written back are refused: %v\n%s", err, again.Bytes())
		}
		if q.Invalid != 0 || len(q.Rows) != len(created) {
			t.Fatalf("the rows written back preview differently: %+v\n%s", q, again.Bytes())
		}
		for i, r := range q.Rows {
			c := created[i]
			if r.Name != c.Name || r.Mobile != c.Mobile || r.Email != c.Email || r.Group != c.Group {
				t.Fatalf("row %d written back reads %+v, was %+v", i, r, c)
			}
		}
	})
}

func hasControlChar(v string) bool {
	_, _, found := firstControl(v, "")
	return found
}

// FuzzNormaliseMobile reads arbitrary text as a mobile number. It is
// refused as bad input on the mobile field, or read as E.164 that reads
// back as itself and is a valid number that is not a landline.
//
//	go test -run='^$' -fuzz=FuzzNormaliseMobile -fuzztime=20s ./internal/activation/
func FuzzNormaliseMobile(f *testing.F) {
	// The seed corpus is testdata/fuzz/FuzzNormaliseMobile.
	f.Add("+39 333 123 4567", "IT")
	e164 := regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	f.Fuzz(func(t *testing.T, number, region string) {
		if !phonenumbers.GetSupportedRegions()[region] {
			region = "IT" // the region is a setting, validated when it is set
		}
		got, err := normaliseMobile(number, region)
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Kind != KindInvalid || de.Field != "mobile" || !utf8.ValidString(de.Message) {
				t.Fatalf("%q refused with %#v (%v)", number, de, err)
			}
			return
		}
		if strings.TrimSpace(number) == "" {
			if got != "" {
				t.Fatalf("an empty number read as %q", got)
			}
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("%q read as %q, not E.164", number, got)
		}
		back, err := normaliseMobile(got, region)
		if err != nil || back != got {
			t.Fatalf("%q read as %q, which reads back as %q (%v)", number, got, back, err)
		}
		for _, other := range []string{"US", "DE"} {
			if b, err := normaliseMobile(got, other); err != nil || b != got {
				t.Fatalf("%q in E.164 reads as %q in region %s (%v)", got, b, other, err)
			}
		}
	})
}
