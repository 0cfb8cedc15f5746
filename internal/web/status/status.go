// Package status maps domain errors to HTTP statuses, for the API and the
// console alike, so both answer the same error with the same status.
package status

import (
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
