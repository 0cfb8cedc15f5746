package model

// Cursors are where the pages beside a listing's page start: pass one as
// the listing's cursor parameter to get that page. Empty: there is none.
type Cursors struct {
	Next string `json:"next_cursor,omitempty"` // the next (older) rows
	Prev string `json:"prev_cursor,omitempty"` // the previous (newer) rows
}
