package messaging_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/activator-voip/activator/internal/messaging"
)

// The adapters' client keeps a connection for each send in flight: after
// a first round of concurrent sends, the next rounds open none.
func TestHTTPClientKeepsAConnectionPerConcurrentSend(t *testing.T) {
	const concurrent = 8
	var opened atomic.Int64
	release := make(chan struct{})
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			arrived.Done()
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := messaging.NewHTTPClient(concurrent)
	round := func(path string) {
		var wg sync.WaitGroup
		for range concurrent {
			wg.Go(func() {
				resp, err := c.Get(srv.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				messaging.ReadBody(resp)
				resp.Body.Close()
			})
		}
		if path == "/hold" {
			arrived.Wait() // every send has a connection of its own
			close(release)
		}
		wg.Wait()
	}
	arrived.Add(concurrent)
	round("/hold")
	first := opened.Load()
	if first != concurrent {
		t.Fatalf("%d concurrent sends opened %d connections", concurrent, first)
	}
	for range 5 {
		round("/")
	}
	if n := opened.Load() - first; n != 0 {
		t.Fatalf("5 more rounds of %d sends opened %d new connections, want 0", concurrent, n)
	}
}

// A recipient goes as its digits, 7 to 15 of them, and nothing else.
func TestDigitsTakesOnlyInternationalNumbers(t *testing.T) {
	for in, want := range map[string]string{"+393331234567": "393331234567", " 4915112345678 ": "4915112345678", "+1234567": "1234567",
		"+123456": "", "+1234567890123456": "", "+39 333 1234567": "", "+39333123456a": "", "": "", "+": "", "++393331234567": ""} {
		got, err := messaging.Digits(in)
		if want == "" {
			var p *messaging.PermanentError
			if err == nil || !errors.As(err, &p) {
				t.Errorf("Digits(%q) = %q, %v: want a permanent error", in, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("Digits(%q) = %q, %v: want %q", in, got, err, want)
		}
	}
}
