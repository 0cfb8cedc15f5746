// Package ratelimit keeps the per-source-address limits of activator's
// public routes: a token bucket per address (an IPv6 address by its /64,
// which one subscriber usually holds whole), in a table of bounded size
// that forgets the least recently seen address first, and the address a
// request comes from, which believes X-Forwarded-For only from proxies
// named as trusted.
package ratelimit

import (
	"container/list"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is N requests per Per, in bursts of up to N. The zero Rate is no
// limit.
type Rate struct {
	N   int
	Per time.Duration
}

// The defaults of `activator serve` (docs/configuration.md). A person
// opening a link makes about five requests (the page, its QR code, the
// installation click, the activation file, the device's redeem), so the
// public limit lets dozens of people behind one company address start
// together; a person logs in a few times a day.
var (
	DefaultPublic = Rate{N: 300, Per: time.Minute}
	DefaultLogin  = Rate{N: 20, Per: time.Minute}
)

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.N <= 0 || r.Per <= 0 }

var perUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}

// String writes r as ParseRate reads it: 300/m, 5/s, 90/30s, or 0.
func (r Rate) String() string {
	if r.Off() {
		return "0"
	}
	for u, d := range perUnits {
		if r.Per == d {
			return strconv.Itoa(r.N) + "/" + u
		}
	}
	return strconv.Itoa(r.N) + "/" + r.Per.String()
}

// ParseRate reads a rate: N/s, N/m, N/h or N/DURATION (a Go duration,
// 90/30s); 0 or off is no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "off" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 1 {
		return Rate{}, fmt.Errorf("rate %q: want requests per interval, such as 300/m, 5/s or 90/30s, or 0 for no limit", s)
	}
	d, ok := perUnits[per]
	if !ok {
		if d, err = time.ParseDuration(per); err != nil || d < time.Second {
			return Rate{}, fmt.Errorf("rate %q: the interval must be s, m, h or a duration of at least 1s", s)
		}
	}
	return Rate{N: count, Per: d}, nil
}

// MaxSources bounds how many addresses one Limiter remembers. An address
// it forgot starts again with a full bucket, which an address seen least
// recently has, or nearly, anyway.
const MaxSources = 1 << 16

// LogEvery is how often a Limiter writes a line about one source it is
// refusing: its first refusal, then at most one line per interval, with
// the count refused since the last line.
const LogEvery = time.Minute

// Limiter is a token bucket per source address. A nil *Limiter limits
// nothing.
type Limiter struct {
	name string
	rate Rate
	max  int
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	sources map[netip.Addr]*list.Element // of *bucket
	recent  list.List                    // most recently seen first
}

type bucket struct {
	key      netip.Addr
	tokens   float64
	at       time.Time // when tokens was counted
	refused  int       // refusals since the last log line
	loggedAt time.Time
}

// New returns the limit called name (in its log lines) of rate per source;
// nil when rate is off.
func New(name string, rate Rate, log *slog.Logger) *Limiter {
	return newLimiter(name, rate, MaxSources, log, time.Now)
}

func newLimiter(name string, rate Rate, max int, log *slog.Logger, now func() time.Time) *Limiter {
	if rate.Off() {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{name: name, rate: rate, max: max, log: log, now: now, sources: map[netip.Addr]*list.Element{}}
}

// Allow counts one request from src. When src has used its rate up it
// returns false and how long until its next request would be allowed.
func (l *Limiter) Allow(src netip.Addr) (bool, time.Duration) {
	return l.check(src, true)
}

// Peek says whether src may try now, counting nothing: for a limit that
// counts only failures, which Charge counts.
func (l *Limiter) Peek(src netip.Addr) (bool, time.Duration) {
	return l.check(src, false)
}

// Charge counts one request from src, whether or not it had any left.
func (l *Limiter) Charge(src netip.Addr) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(src, l.now())
	b.tokens = max(0, b.tokens-1)
}

func (l *Limiter) check(src netip.Addr, take bool) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(src, now)
	if b.tokens >= 1 {
		if take {
			b.tokens--
		}
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) * float64(l.rate.Per) / float64(l.rate.N)))
	b.refused++
	if b.loggedAt.IsZero() || now.Sub(b.loggedAt) >= LogEvery {
		l.log.Warn("refusing requests over the rate limit", "limit", l.name, "rate", l.rate.String(),
			"source", display(b.key), "refused", b.refused)
		b.refused, b.loggedAt = 0, now
	}
	return false, wait
}

// bucket finds src's bucket, refilled to now, making it (full) when src is
// new and forgetting the least recently seen source when the table is full.
// l.mu is held.
func (l *Limiter) bucket(src netip.Addr, now time.Time) *bucket {
	k := key(src)
	if e, ok := l.sources[k]; ok {
		l.recent.MoveToFront(e)
		b := e.Value.(*bucket)
		elapsed := now.Sub(b.at)
		if elapsed > 0 {
			b.tokens = min(float64(l.rate.N), b.tokens+elapsed.Seconds()*float64(l.rate.N)/l.rate.Per.Seconds())
			b.at = now
		}
		return b
	}
	for len(l.sources) >= l.max {
		oldest := l.recent.Back()
		delete(l.sources, oldest.Value.(*bucket).key)
		l.recent.Remove(oldest)
	}
	b := &bucket{key: k, tokens: float64(l.rate.N), at: now}
	l.sources[k] = l.recent.PushFront(b)
	return b
}

// key is the source a limit counts a request against: an IPv4 address
// itself, an IPv6 address by its /64.
func key(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

func display(key netip.Addr) string {
	if key.Is6() {
		return key.String() + "/64"
	}
	return key.String()
}
