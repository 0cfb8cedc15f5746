package messaging

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

type stamp struct {
	mu    sync.Mutex
	times []time.Time
}

func (s *stamp) Name() string { return "stamp" }
func (s *stamp) Send(ctx context.Context, m *model.Message) (string, error) {
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	return "ok", nil
}

func TestRateLimitSpacesSends(t *testing.T) {
	g := &stamp{}
	rl := WithRateLimit(g, 50) // one every 20 ms
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); rl.Send(context.Background(), &model.Message{}) }()
	}
	wg.Wait()
	if len(g.times) != 10 {
		t.Fatalf("%d sends", len(g.times))
	}
	first, last := g.times[0], g.times[0]
	for _, x := range g.times {
		first, last = minTime(first, x), maxTime(last, x)
	}
	// Ten sends at 50/s take at least nine intervals of 20 ms.
	if span := last.Sub(first); span < 170*time.Millisecond {
		t.Fatalf("10 sends at 50/s spanned %v; want at least 180 ms", span)
	}
	if WithRateLimit(g, 0) != Gateway(g) {
		t.Fatal("no limit must return the gateway itself")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	slow := WithRateLimit(&stamp{}, 0.001)
	slow.Send(context.Background(), &model.Message{}) // takes the free slot
	if _, err := slow.Send(ctx, &model.Message{}); err == nil || isPermanent(err) {
		t.Fatalf("a send waiting for its slot when the context ends: want a temporary error, got %v", err)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
