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
	gateways *Gateways
	opts     messaging.Options
	mu       sync.Mutex
	cache    map[loaderKey]*loadedGateway
}

// loaderKey names a gateway: its name is unique in its organisation.
type loaderKey struct {
	orgID int64
	name  string
}

type loadedGateway struct {
	gw        messaging.Gateway
	updatedAt time.Time
	checkedAt time.Time
}

// NewLoader returns the loader whose Load is handed to
// messaging.NewRegistry.
func (s *Gateways) NewLoader(o messaging.Options) *GatewayLoader {
	return &GatewayLoader{gateways: s, opts: o, cache: map[loaderKey]*loadedGateway{}}
}

// Load implements messaging.Loader: it builds the gateway of the
// organisation whose message is being sent.
func (l *GatewayLoader) Load(ctx context.Context, orgID int64, name string) (messaging.Gateway, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	k := loaderKey{orgID, name}
	c := l.cache[k]
	if c != nil && now.Sub(c.checkedAt) < time.Second {
		return c.gw, nil
	}
	if c != nil {
		at, err := l.gateways.store.GatewayUpdatedAt(ctx, orgID, name)
		if err == nil && at.Equal(c.updatedAt) {
			c.checkedAt = now
			return c.gw, nil
		}
	}
	row, err := l.gateways.store.GatewayByName(ctx, orgID, name)
	if errors.Is(err, store.ErrNotFound) {
		delete(l.cache, k)
		return nil, messaging.Permanent(fmt.Errorf("no gateway named %q is configured", name))
	}
	if err != nil {
		return nil, fmt.Errorf("reading gateway %s: %w", name, err)
	}
	settings, key, err := l.gateways.openGateway(row)
	if err != nil {
		return nil, messaging.Permanent(err)
	}
	gw, err := l.gateways.buildGateway(row, settings, key, l.opts)
	if err != nil {
		return nil, err
	}
	l.cache[k] = &loadedGateway{gw: gw, updatedAt: row.UpdatedAt, checkedAt: now}
	return gw, nil
}
