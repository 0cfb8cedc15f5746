package messaging

import (
	"context"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// RateLimited spaces a gateway's sends so that at most perSecond start each
// second (within one process), with no burst: providers such as Vonage
// (30/s by default) answer "throttled" past their limit.
type RateLimited struct {
	Gateway
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

// WithRateLimit wraps g; perSecond <= 0 returns g unchanged.
func WithRateLimit(g Gateway, perSecond float64) Gateway {
	if perSecond <= 0 {
		return g
	}
	return &RateLimited{Gateway: g, interval: time.Duration(float64(time.Second) / perSecond)}
}

// Send waits for the gateway's next free slot, then sends.
func (r *RateLimited) Send(ctx context.Context, m *model.Message) (string, error) {
	r.mu.Lock()
	now := time.Now()
	at := r.next
	if at.Before(now) {
		at = now
	}
	r.next = at.Add(r.interval)
	r.mu.Unlock()
	if wait := time.Until(at); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return "", Temporary(ctx.Err(), 0)
		case <-t.C:
		}
	}
	return r.Gateway.Send(ctx, m)
}
