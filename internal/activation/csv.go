package activation

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// formulaStart holds the first characters that make a spreadsheet read a
// cell as a formula (OWASP's CSV injection list, and a line feed).
const formulaStart = "=+-@\t\r\n"

// signedNumber says whether a cell is one a spreadsheet reads as a plain
// number, such as a phone number in E.164 (+393331234567): no formula can
// hide in it, and scripts reading the export get the number as it is. It
// matches ^[+-][0-9]{1,20}$, without a regular expression: an export asks
// it of every phone number.
func signedNumber(v string) bool {
	if len(v) < 2 || len(v) > 21 || (v[0] != '+' && v[0] != '-') {
		return false
	}
	for i := 1; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: such a cell
// gets a leading ', which spreadsheets show as text and hide. csvPlain takes
// it off again, so an export imports back unchanged.
func csvSafe(v string) string {
	if v != "" && strings.IndexByte(formulaStart, v[0]) >= 0 && !signedNumber(v) {
		return "'" + v
	}
	return v
}

// csvPlain undoes csvSafe on a cell read from a file.
func csvPlain(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.IndexByte(formulaStart, v[1]) >= 0 {
		return v[1:]
	}
	return v
}

// safeCSV writes CSV whose every cell is csvSafe, whatever column it is
// in: a value's source (a name, a login attempt, an audit target) never
// decides whether it is neutralised.
type safeCSV struct{ w *csv.Writer }

func newSafeCSV(w io.Writer) safeCSV { return safeCSV{csv.NewWriter(w)} }

func (c safeCSV) Write(rec []string) error {
	for i, v := range rec {
		rec[i] = csvSafe(v)
	}
	return c.w.Write(rec)
}

func (c safeCSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
