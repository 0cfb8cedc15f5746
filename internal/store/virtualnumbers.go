package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// NumberRange is a range of virtual numbers: FROM to TO, each written with
// Digits digits (leading zeros kept), as the virtual_number_range setting
// says.
type NumberRange struct {
	From, To uint64
	Digits   int
}

// Format writes n as a virtual number of the range.
func (nr NumberRange) Format(n uint64) string {
	v := strconv.FormatUint(n, 10)
	if len(v) < nr.Digits {
		v = strings.Repeat("0", nr.Digits-len(v)) + v
	}
	return v
}

// Size is how many numbers the range holds.
func (nr NumberRange) Size() uint64 { return nr.To - nr.From + 1 }

// inRange is the condition that a's virtual number is one of the range's:
// the same length and between its ends. Such a number is all digits (FROM
// starts with a digit and a virtual number is digits after an optional +),
// so it can be read as an integer.
const inRange = `a.org_id = $1 AND LENGTH(a.virtual_number) = $2 AND a.virtual_number >= $3 AND a.virtual_number <= $4`

// FreeVirtualNumber finds a virtual number of the range that no account of
// the organisation holds: start itself if free, else the first free number
// after it, else the first free number from the range's start. It reports
// false only when the range is full. One query: each branch walks the
// unique index on (org_id, virtual_number) from where it starts to the first
// gap, so a range filled at random is searched in a few index steps.
func (r *Reader) FreeVirtualNumber(ctx context.Context, orgID int64, nr NumberRange, start uint64) (string, bool, error) {
	if start < nr.From || start > nr.To {
		return "", false, fmt.Errorf("finding a free virtual number: start %d is outside %d-%d", start, nr.From, nr.To)
	}
	// next is the number after a's, written with the range's digits.
	next := `printf('%0' || $2 || 'd', CAST(a.virtual_number AS BIGINT) + 1)`
	if r.dialect == Postgres {
		next = `LPAD((CAST(a.virtual_number AS BIGINT) + 1)::TEXT, $2, '0')`
	}
	// A taken number whose successor is free, at or after lo and below the
	// range's end (so the successor is in the range), the lowest first.
	gapAfter := func(lo, hi string) string {
		return `SELECT * FROM (SELECT ` + next + ` AS n FROM accounts a
			WHERE a.org_id = $1 AND LENGTH(a.virtual_number) = $2 AND a.virtual_number >= ` + lo + ` AND a.virtual_number < ` + hi + `
			AND NOT EXISTS (SELECT 1 FROM accounts b WHERE b.org_id = $1 AND b.virtual_number = ` + next + `)
			ORDER BY a.virtual_number LIMIT 1) g`
	}
	free := func(v string) string {
		return `NOT EXISTS (SELECT 1 FROM accounts b WHERE b.org_id = $1 AND b.virtual_number = ` + v + `)`
	}
	q := `SELECT n FROM (
		SELECT 0 AS o, CAST($5 AS TEXT) AS n WHERE ` + free("$5") + `
		UNION ALL SELECT 1, n FROM (` + gapAfter("$5", "$4") + `) g1
		UNION ALL SELECT 2, CAST($3 AS TEXT) WHERE ` + free("$3") + `
		UNION ALL SELECT 3, n FROM (` + gapAfter("$3", "$5") + `) g2
	) c ORDER BY o LIMIT 1`
	var n string
	err := r.q.QueryRowContext(ctx, q, orgID, nr.Digits, nr.Format(nr.From), nr.Format(nr.To), nr.Format(start)).Scan(&n)
	if err = mapErr(err); err == ErrNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("finding a free virtual number: %w", err)
	}
	return n, true, nil
}

// VirtualNumbersUsed counts the organisation's accounts whose virtual number
// is in the range.
func (r *Reader) VirtualNumbersUsed(ctx context.Context, orgID int64, nr NumberRange) (uint64, error) {
	var n uint64
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts a WHERE `+inRange,
		orgID, nr.Digits, nr.Format(nr.From), nr.Format(nr.To)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting virtual numbers in use: %w", err)
	}
	return n, nil
}
