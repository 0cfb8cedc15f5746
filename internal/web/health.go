package web

import (
	"context"
	"net/http"
	"time"
)

// Ops is what the operations side of the server is given: the readiness
// check of /readyz and the observer of every request's route, status and
// time (the metrics). A nil field is off.
type Ops struct {
	// Ready answers nil when this instance can serve: its database answers
	// and has its schema. Its error's text is shown to whoever asks, so it
	// must be short and name no internals (the caller logs the details).
	Ready func(context.Context) error
	// Observe is told of every request once it is answered, by its route
	// pattern, never its path.
	Observe func(route string, status int, took time.Duration)
	// ConfirmWait is how long confirming an import waits for it to be
	// done before it answers 202 and the import goes on as a job; zero:
	// ten seconds; negative: it answers 202 at once.
	ConfirmWait time.Duration
}

// Healthz answers 200 while the process answers at all: a liveness probe.
func Healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// Readyz answers 200 when ready says this instance can serve, and 503 with
// its short reason otherwise: a readiness probe, for a load balancer to
// send requests elsewhere.
func Readyz(ready func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if ready != nil {
			if err := ready(r.Context()); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("not ready: " + err.Error() + "\n"))
				return
			}
		}
		w.Write([]byte("ok\n"))
	}
}
