package activation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/store"
)

// GatewayLoader builds the database's gateways for the delivery worker and
// keeps each built one (its rate limiter and provider tokens with it) until
// the gateway changes. It checks for changes at most every second.
type GatewayLoader struct {
	svc   *Service
	opts  messaging.Options
	mu    sync.Mutex
	cache map[string]*loadedGateway
}

type loadedGateway struct {
	gw        messaging.Gateway
	updatedAt time.Time
	checkedAt time.Time
}

// NewGatewayLoader returns the loader whose Load is handed to
// messaging.NewRegistry.
func (s *Service) NewGatewayLoader(o messaging.Options) *GatewayLoader {
	return &GatewayLoader{svc: s, opts: o, cache: map[string]*loadedGateway{}}
}

// Load implements messaging.Loader.
func (l *GatewayLoader) Load(ctx context.Context, name string) (messaging.Gateway, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	c := l.cache[name]
	if c != nil && now.Sub(c.checkedAt) < time.Second {
		return c.gw, nil
	}
	if c != nil {
		at, err := l.svc.store.GatewayUpdatedAt(ctx, l.svc.org, name)
		if err == nil && at.Equal(c.updatedAt) {
			c.checkedAt = now
			return c.gw, nil
		}
	}
	row, err := l.svc.store.GatewayByName(ctx, l.svc.org, name)
	if errors.Is(err, store.ErrNotFound) {
		delete(l.cache, name)
		return nil, messaging.Permanent(fmt.Errorf("no gateway named %q is configured", name))
	}
	if err != nil {
		return nil, fmt.Errorf("reading gateway %s: %w", name, err)
	}
	settings, key, err := l.svc.openGateway(row)
	if err != nil {
		return nil, messaging.Permanent(err)
	}
	gw, err := l.svc.buildGateway(row, settings, key, l.opts)
	if err != nil {
		return nil, err
	}
	l.cache[name] = &loadedGateway{gw: gw, updatedAt: row.UpdatedAt, checkedAt: now}
	return gw, nil
}
