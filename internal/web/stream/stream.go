// Package stream streams a large answer, such as an export of a million
// accounts, past the server's write timeout, and marks a complete one so
// that a cut one can be told from it.
package stream

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// RowsTrailer is the HTTP trailer a complete download ends with: how many
// rows it holds. A download cut short (the connection lost, the server
// stopped, a database error half-way) has no trailer, and its chunked body
// ends without its last chunk, so a client sees an error instead of a file
// that looks whole.
const RowsTrailer = "Activator-Rows"

// Window is how long each part of a download may take to be written: the
// write deadline is moved this far ahead before each part, so the server's
// WriteTimeout (which guards every other answer against a client that
// stops reading) does not cut a download that keeps moving.
var Window = 60 * time.Second

// Write writes a download's body to w, calling progress after each part it
// has written (rows: how many so far); it returns the rows written.
type Write func(w io.Writer, progress func(rows int) error) (int, error)

// CSV streams a CSV download named fileName. Errors before the first byte
// are the caller's to check (a bad filter is still a JSON 400); an error
// after it is logged and the connection aborted, never a second answer
// written into the file.
func CSV(w http.ResponseWriter, r *http.Request, log *slog.Logger, fileName string, write Write) {
	rc := http.NewResponseController(w)
	extend := func() error {
		if err := rc.SetWriteDeadline(time.Now().Add(Window)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+fileName+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Trailer", RowsTrailer)
	if err := extend(); err != nil {
		log.Warn("stream: extending the write deadline", "route", r.Pattern, "err", err)
	}
	n, err := write(w, func(int) error {
		if err := extend(); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	})
	if err != nil {
		if r.Context().Err() == nil {
			log.Error("stream cut short", "route", r.Pattern, "rows", n, "err", err)
		}
		// No trailer and no last chunk: the client sees the download fail.
		panic(http.ErrAbortHandler)
	}
	h.Set(RowsTrailer, strconv.Itoa(n))
}
