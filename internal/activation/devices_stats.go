package activation

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
)

// RedeemStats counts the redeems of this process since it started: the
// activations, and the refusals by their error code (link_used,
// link_expired, ...; "error" for a failure that is not the device's).
// The metrics read them at scrape (internal/metrics).
type RedeemStats struct {
	Activations uint64
	Refusals    map[string]uint64
}

type redeemStats struct {
	activations atomic.Uint64
	mu          sync.Mutex
	refusals    map[string]uint64
}

func (c *redeemStats) count(ctx context.Context, err error) {
	if err == nil {
		c.activations.Add(1)
		return
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return // the device went away: neither an activation nor a refusal
	}
	reason := "error"
	var de *Error
	if errors.As(err, &de) {
		reason = de.Code // a small fixed set: the device contract's codes
	}
	c.mu.Lock()
	if c.refusals == nil {
		c.refusals = map[string]uint64{}
	}
	c.refusals[reason]++
	c.mu.Unlock()
}

// Stats returns the redeem counts so far.
func (s *Devices) Stats() RedeemStats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return RedeemStats{Activations: s.stats.activations.Load(), Refusals: maps.Clone(s.stats.refusals)}
}
