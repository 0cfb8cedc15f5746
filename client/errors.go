package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Sentinels for errors.Is. An *APIError matches the one its code names.
var (
	// ErrLinkUnknown: the server does not know the link (404 link_unknown).
	ErrLinkUnknown = errors.New("activation link unknown")
	// ErrLinkUsed: the link was already redeemed (410 link_used).
	ErrLinkUsed = errors.New("activation link already used")
	// ErrLinkExpired: the link expired (410 link_expired).
	ErrLinkExpired = errors.New("activation link expired")
	// ErrLinkRevoked: an operator revoked the link or issued a newer one (410 link_revoked).
	ErrLinkRevoked = errors.New("activation link revoked")
	// ErrUnauthorized: the device credential is missing, unknown or revoked
	// (401 device_credential_invalid). The device must be activated again.
	ErrUnauthorized = errors.New("device credential not accepted")
	// ErrAccountDisabled: an operator disabled the account (403 account_disabled).
	ErrAccountDisabled = errors.New("account disabled")
	// ErrAccountBound: the account is bound to one device and another
	// device of it is active (409 account_bound); the link is not used up.
	ErrAccountBound = errors.New("account bound to another device")
	// ErrOtherServer: the activation file is signed by a key other than the
	// one this device pinned when it was first activated.
	ErrOtherServer = errors.New("activation file is signed by another server's key")
	// ErrTLSPinMismatch: the server's TLS key is not the one the activation
	// file (or the pinned server record) names.
	ErrTLSPinMismatch = errors.New("server TLS key does not match the pin")
	// ErrNotActivated: Refresh found no credential or pinned server in Dir.
	ErrNotActivated = errors.New("device not activated")
	// ErrInsecureServer: the link, the file or the server is plain http,
	// which a device accepts only when told to (Options.AllowHTTP).
	ErrInsecureServer = errors.New("the server is not https")
)

// Error codes of the device contract (docs/protocol.md).
const (
	CodeInvalidField            = "invalid_field"
	CodeInvalidJSON             = "invalid_json"
	CodeLinkUnknown             = "link_unknown"
	CodeLinkUsed                = "link_used"
	CodeLinkExpired             = "link_expired"
	CodeLinkRevoked             = "link_revoked"
	CodeDeviceCredentialInvalid = "device_credential_invalid"
	CodeAccountDisabled         = "account_disabled"
	CodeAccountBound            = "account_bound"
)

// APIError is an error answer from the server: its HTTP status and the
// code, message and field of the JSON error body it carried
// (docs/protocol.md, section 7). Code is empty when the body was not one.
type APIError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("server answered %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	return s
}

// Is lets errors.Is match an *APIError against the sentinel of its code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrLinkUnknown:
		return e.Code == CodeLinkUnknown
	case ErrLinkUsed:
		return e.Code == CodeLinkUsed
	case ErrLinkExpired:
		return e.Code == CodeLinkExpired
	case ErrLinkRevoked:
		return e.Code == CodeLinkRevoked
	case ErrUnauthorized:
		return e.Code == CodeDeviceCredentialInvalid || e.Status == http.StatusUnauthorized
	case ErrAccountDisabled:
		return e.Code == CodeAccountDisabled
	case ErrAccountBound:
		return e.Code == CodeAccountBound
	}
	return false
}

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 16 << 10

// apiError reads an error answer. A body that is not an error body still
// gives an error with the status.
func apiError(resp *http.Response) *APIError {
	e := &APIError{Status: resp.StatusCode}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var eb errorBody
	if err == nil && json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
		e.Code, e.Message, e.Field = eb.Error.Code, eb.Error.Message, eb.Error.Field
	} else {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}
