package store

import "fmt"

// Page asks for one page of a listing, newest first, by keyset (the rows'
// ids) rather than by offset: every page is read from an index at the
// place it starts, however deep in the listing it is.
type Page struct {
	// Limit is the page's size; 0 or less: 100.
	Limit int
	// Before asks for the rows older than this id: the next page (0: from
	// the newest).
	Before int64
	// After asks for the rows newer than this id, the nearest first: the
	// previous page. It wins over Before.
	After int64
	// Offset skips rows first: the listings' old paging, kept for
	// compatibility (the domain bounds it); it walks the skipped rows.
	Offset int
}

// PageInfo says where a listing's neighbouring pages start: the id to ask
// Before for the next (older) page and After for the previous (newer) one;
// 0: there is none.
type PageInfo struct {
	Next, Prev int64
}

func (p Page) limit() int {
	if p.Limit <= 0 {
		return 100
	}
	return p.Limit
}

// clause is the page's condition on col (empty: none), its ORDER BY and
// LIMIT (one row more than the page, to tell whether there is another),
// with the arguments arg adds.
func (p Page) clause(col string, arg func(any) string) (cond, tail string) {
	switch {
	case p.After > 0:
		cond = col + " > " + arg(p.After)
		tail = " ORDER BY " + col + " ASC LIMIT " + arg(p.limit()+1)
	default:
		if p.Before > 0 {
			cond = col + " < " + arg(p.Before)
		}
		tail = " ORDER BY " + col + " DESC LIMIT " + arg(p.limit()+1)
		if p.Offset > 0 {
			tail += " OFFSET " + arg(p.Offset)
		}
	}
	return cond, tail
}

// finish turns the rows a page's query read (one more than the page when
// there is another, in the query's order) into the page, newest first,
// and where its neighbours start.
func finish[T any](p Page, rows []T, id func(T) int64) ([]T, PageInfo) {
	var info PageInfo
	more := len(rows) > p.limit()
	if more {
		rows = rows[:p.limit()]
	}
	if p.After > 0 {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
		if len(rows) > 0 {
			info.Next = id(rows[len(rows)-1])
			if more {
				info.Prev = id(rows[0])
			}
		}
		return rows, info
	}
	if len(rows) > 0 {
		if more {
			info.Next = id(rows[len(rows)-1])
		}
		if p.Before > 0 || p.Offset > 0 {
			info.Prev = id(rows[0])
		}
	}
	return rows, info
}

// args collects a query's arguments as $n placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}
