// Package messaging carries activator's SMS and e-mail: the Gateway interface
// every provider implements, the templates, and the durable delivery worker
// that drains the messages table.
package messaging

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// Gateway hands one message to a provider. It returns the provider's
// message id. An error is temporary (retried with backoff) unless wrapped by
// Permanent; Temporary can carry the provider's Retry-After.
type Gateway interface {
	Name() string
	Send(ctx context.Context, m *model.Message) (providerID string, err error)
}

// PermanentError is a failure no retry can fix: a bad number, bad
// credentials, no credit, an opted-out recipient.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

// TemporaryError is a failure worth retrying, after RetryAfter when the
// provider said so.
type TemporaryError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *TemporaryError) Error() string { return e.Err.Error() }
func (e *TemporaryError) Unwrap() error { return e.Err }

// Temporary marks err as retryable after at least retryAfter (0: the worker's backoff).
func Temporary(err error, retryAfter time.Duration) error {
	return &TemporaryError{Err: err, RetryAfter: retryAfter}
}

// Registry finds a gateway by name: one of the built-in gateways it was
// made with, else the one its loader finds (the database's gateways).
type Registry struct {
	gateways map[string]Gateway
	loader   Loader
}

// Loader finds a gateway an organisation configured outside the registry
// (in the database). An unknown name must come back as a Permanent error.
type Loader func(ctx context.Context, orgID int64, name string) (Gateway, error)

// NewRegistry returns a registry of the builtin gateways that asks load for
// every other name; with a nil load, the builtins are all there is.
func NewRegistry(load Loader, builtin ...Gateway) *Registry {
	r := &Registry{gateways: map[string]Gateway{}, loader: load}
	for _, g := range builtin {
		r.gateways[g.Name()] = g
	}
	return r
}

// Get finds a built-in gateway by name.
func (r *Registry) Get(name string) (Gateway, error) {
	g, ok := r.gateways[name]
	if !ok {
		return nil, Permanent(fmt.Errorf("no gateway named %q is configured", name))
	}
	return g, nil
}

// Lookup finds a gateway of an organisation by name: a built-in one, else
// the loader's.
func (r *Registry) Lookup(ctx context.Context, orgID int64, name string) (Gateway, error) {
	if _, ok := r.gateways[name]; ok || r.loader == nil {
		return r.Get(name)
	}
	return r.loader(ctx, orgID, name)
}

// isPermanent reports whether err must not be retried.
func isPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

func retryAfter(err error) time.Duration {
	var t *TemporaryError
	if errors.As(err, &t) {
		return t.RetryAfter
	}
	return 0
}
