// Package status maps domain errors to HTTP statuses, for the API and the
// console alike, so both answer the same error with the same status.
package status

import (
	"errors"
	"net/http"

	"github.com/activator-voip/activator/internal/activation"
)

// Of is the HTTP status that answers a domain error of kind k.
func Of(k activation.ErrorKind) int {
	switch k {
	case activation.KindInvalid:
		return http.StatusBadRequest
	case activation.KindNotFound:
		return http.StatusNotFound
	case activation.KindConflict:
		return http.StatusConflict
	case activation.KindGone:
		return http.StatusGone
	case activation.KindUnauthorized:
		return http.StatusUnauthorized
	case activation.KindForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// RetryAfter is the Retry-After header's value, in seconds, of an answer
// to a database fault: about how long a PostgreSQL restart takes.
const RetryAfter = "5"

// Fault is how to answer err when it is a database fault rather than a
// fault of the request (activation.ErrUnavailable, activation.ErrDiskFull):
// its status, its stable code and a message an operator can act on. ok is
// false for any other error.
func Fault(err error) (status int, code, msg string, ok bool) {
	var fe *activation.FaultError
	where := "the database"
	if errors.As(err, &fe) && fe.Where != "" {
		where = fe.Where
	}
	switch {
	case errors.Is(err, activation.ErrDiskFull):
		return http.StatusInsufficientStorage, "disk_full",
			where + " is full: nothing can be saved until space is made there; reading still works", true
	case errors.Is(err, activation.ErrUnavailable):
		return http.StatusServiceUnavailable, "database_unavailable",
			"the database is unavailable for now (" + where + "); try again in a few seconds", true
	}
	return 0, "", "", false
}
