// Package messagingtest is the harness the gateway adapters' tests share:
// a stand-in HTTP server of a provider that records every breach of the
// provider's documented contract and fails the test for each, a gateway
// built from settings the way activator builds one, and a send bounded in
// time. What a provider documents (its paths, headers, fields and odd
// answers) stays in each adapter's own test. Only test files import this
// package.
package messagingtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
)

// StandIn is a provider's stand-in server. An adapter's test embeds it in
// its own type, whose handler checks the provider's contract, calls Bad for
// each breach and Accept for each request that kept it. R is what the test
// keeps of an accepted request (its form, its JSON body...). The zero value
// is ready; Start serves it.
type StandIn[R any] struct {
	// Refuse answers a request that breaks the contract the way the
	// provider answers a malformed one; msg says what was wrong. nil: HTTP
	// 400 with msg as the body. Set it before Start.
	Refuse func(w http.ResponseWriter, msg string)

	mu       sync.Mutex
	problems []string
	requests int
	accepted []R
}

// Start serves h on a loopback httptest server until t ends and returns
// the server's URL, the base_url to configure. When t ends it closes the
// server, then fails t once for each breach the handler reported.
func (s *StandIn[R]) Start(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		t.Helper() // the failures name the test's line that started the stand-in
		srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range s.problems {
			t.Errorf("stand-in refused the request: %s", p)
		}
	})
	return srv.URL
}

// Bad reports a breach of the provider's contract, which fails the test
// when it ends, and answers it with Refuse.
func (s *StandIn[R]) Bad(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.problems = append(s.problems, msg)
	s.mu.Unlock()
	if s.Refuse == nil {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	s.Refuse(w, msg)
}

// Accept keeps what a request that kept the contract carried, and returns
// how many have been accepted so far, this one included.
func (s *StandIn[R]) Accept(r R) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted = append(s.accepted, r)
	return len(s.accepted)
}

// Accepted returns the accepted requests, oldest first.
func (s *StandIn[R]) Accepted() []R {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]R(nil), s.accepted...)
}

// Requests returns how many requests reached the stand-in, accepted or not.
func (s *StandIn[R]) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Build makes a gateway of kind from settings as activator does: the
// settings pass the kind's validation, get its defaults, and the kind
// builds the gateway, named after the kind. A refused setting or a failed
// build fails the test at once.
func Build(t testing.TB, kind messaging.Kind, settings map[string]string, o messaging.Options) messaging.Gateway {
	t.Helper()
	if err := kind.Validate(settings); err != nil {
		t.Fatalf("%s settings refused: %v", kind.Name, err)
	}
	g, err := kind.New(kind.Name, kind.WithDefaults(settings), o)
	if err != nil {
		t.Fatalf("building a %s gateway: %v", kind.Name, err)
	}
	return g
}

// sendTimeout bounds a test's send, so that an adapter that hangs on its
// provider fails the test instead of stalling it.
const sendTimeout = 10 * time.Second

// Send hands m to g, giving up after sendTimeout or when t ends, and
// returns what g answered.
func Send(t testing.TB, g messaging.Gateway, m *model.Message) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), sendTimeout)
	defer cancel()
	return g.Send(ctx, m)
}
