package activation

import (
	"errors"
	"fmt"

	"github.com/activator-voip/activator/internal/store"
)

// ErrorKind classifies a domain error; the web layer turns each into one
// status (internal/web/status).
type ErrorKind int

// Error kinds.
const (
	KindInvalid      ErrorKind = iota + 1 // bad input: 400
	KindNotFound                          // 404
	KindConflict                          // 409
	KindGone                              // 410
	KindUnauthorized                      // 401
	KindForbidden                         // 403
)

// Error is a domain error with a stable code and, for bad input, the field.
// Its message never holds a secret.
type Error struct {
	Kind    ErrorKind
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func invalid(field, format string, args ...any) error {
	return &Error{Kind: KindInvalid, Code: "invalid_field", Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(code, format string, args ...any) error {
	return &Error{Kind: KindNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

func conflict(code, field, format string, args ...any) error {
	return &Error{Kind: KindConflict, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Link errors a device or a page can meet. Their codes are part of the
// device contract (docs/protocol.md).
var (
	ErrLinkUnknown = &Error{Kind: KindNotFound, Code: "link_unknown", Message: "this link is not known"}
	ErrLinkExpired = &Error{Kind: KindGone, Code: "link_expired", Message: "this link has expired"}
	ErrLinkRevoked = &Error{Kind: KindGone, Code: "link_revoked", Message: "this link was revoked"}
	ErrLinkUsed    = &Error{Kind: KindGone, Code: "link_used", Message: "this link was already used to activate a device"}

	ErrDeviceCredential = &Error{Kind: KindUnauthorized, Code: "device_credential_invalid", Message: "the device credential is missing, unknown or revoked"}
	ErrAccountDisabled  = &Error{Kind: KindForbidden, Code: "account_disabled", Message: "the account is disabled"}
	ErrAccountBound     = &Error{Kind: KindConflict, Code: "account_bound", Message: "this account is bound to one device and is active on another: " +
		"ask customer service to deactivate that device first"}
)

// Faults of the database rather than of the request, classified by the
// store (store.FaultError): the database cannot be reached, or its disk is
// full. A domain error wraps them with %w, so errors.Is finds them; the
// web layer answers them with 503 and 507 (internal/web/status).
var (
	ErrUnavailable = store.ErrUnavailable
	ErrDiskFull    = store.ErrDiskFull
)

// FaultError is a database fault, with the database it is about.
type FaultError = store.FaultError

// mapStore turns store errors into domain errors for what was being done.
func mapStore(what, field string, err error) error {
	var ce *store.ConflictError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		f := ce.Column
		if field != "" && f == "name" {
			f = field
		}
		return conflict("already_exists", f, "%s: %s", what, ce.Error())
	case errors.Is(err, store.ErrInUse):
		return conflict("in_use", "", "%s: still in use", what)
	case errors.Is(err, store.ErrNotFound):
		return notFound("not_found", "%s: not found", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// invalidFrom turns a not-found of something named in the input into a
// bad-input error on that field.
func invalidFrom(field string, err error) error {
	var de *Error
	if errors.As(err, &de) && de.Kind == KindNotFound {
		return invalid(field, "%s", de.Message)
	}
	return err
}
