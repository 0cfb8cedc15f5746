package messaging_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/testnet"
)

// A failed call is retried only when trying again can help.
func TestNetworkErrorRetriesOnlyWhatCanSucceedLater(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler()) // a certificate this client does not trust
	defer tlsSrv.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer slow.Close()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name      string
		ctx       context.Context
		url       string
		client    *http.Client
		temporary bool
	}{
		{"connection refused", context.Background(), "http://" + testnet.RefusingAddr(t) + "/", http.DefaultClient, true},
		{"timeout", context.Background(), slow.URL, &http.Client{Timeout: 50 * time.Millisecond}, true},
		{"shutdown", cancelled, slow.URL, http.DefaultClient, true},
		{"untrusted certificate", context.Background(), tlsSrv.URL, http.DefaultClient, false},
		{"unsupported scheme", context.Background(), "ftp://127.0.0.1/", http.DefaultClient, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(c.ctx, "GET", c.url+"?key=s3cret", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.client.Do(req)
			if err == nil {
				t.Fatal("the call succeeded")
			}
			got := messaging.NetworkError("acme", err)
			var pe *messaging.PermanentError
			if isPermanent := errors.As(got, &pe); isPermanent == c.temporary {
				t.Errorf("%v: permanent %v, want temporary %v", got, isPermanent, c.temporary)
			}
			if strings.Contains(got.Error(), "s3cret") || !strings.HasPrefix(got.Error(), "acme: ") {
				t.Errorf("the error %q shows the URL or does not name the provider", got)
			}
		})
	}
}
