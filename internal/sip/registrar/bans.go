package registrar

import (
	"net"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Defaults of the ban on addresses that keep failing digest authentication:
// fail2ban's own defaults (maxretry 5, findtime and bantime 10 minutes).
const (
	DefaultBanFailures = 5
	DefaultBanWindow   = 10 * time.Minute
	DefaultBanTime     = 10 * time.Minute
)

const (
	// maxOffenders bounds the table of addresses with failures or a ban.
	maxOffenders = 100000
	// logEvery is how often at most one address gets a log line at info
	// level about its failures or about the requests dropped during its ban.
	logEvery = time.Minute
)

// bans count failed digest answers per source address. failures of them
// within window ban the address for length: its requests are then dropped
// without an answer, so a password guesser learns nothing more and costs
// nothing more than reading its packets. An IPv6 address counts by its /64,
// which one machine can fill with addresses of its own.
type bans struct {
	mu       sync.Mutex
	failures int // <= 0: never ban
	window   time.Duration
	length   time.Duration
	items    map[string]*offender
	now      func() time.Time
}

type offender struct {
	failures int
	since    time.Time // first failure counted in the current window
	until    time.Time // end of the ban; zero while not banned
	dropped  int       // requests dropped since the last line logged about them
	logged   time.Time // last line logged at info level about this address
}

func newBans(failures int, window, length time.Duration, now func() time.Time) *bans {
	return &bans{failures: failures, window: window, length: length, items: map[string]*offender{}, now: now}
}

// banKey is the address a request's source counts against.
func banKey(source string) string {
	host, _, err := net.SplitHostPort(source)
	if err != nil {
		host = source
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// dropReport is what check tells the log about a banned address, at most
// once per logEvery: how many requests were dropped since the last report.
type dropReport struct {
	dropped int
	until   time.Time
	ended   bool // the ban is over; this is its last report
}

// check reports whether a request from key is to be dropped, and whether
// a line is due in the log.
func (b *bans) check(key string) (drop bool, report *dropReport) {
	if b.failures <= 0 {
		return false, nil
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.items[key]
	if !ok || o.until.IsZero() {
		return false, nil
	}
	if !now.Before(o.until) {
		delete(b.items, key)
		return false, &dropReport{dropped: o.dropped, until: o.until, ended: true}
	}
	o.dropped++
	if now.Sub(o.logged) < logEvery {
		return true, nil
	}
	r := &dropReport{dropped: o.dropped, until: o.until}
	o.dropped, o.logged = 0, now
	return true, r
}

// fail counts one failed answer from key. It says how many failures the
// window holds, whether they ban the address now (until), and whether an
// info line about them is due (at most one per logEvery; the ban always is).
func (b *bans) fail(key string) (failures int, until time.Time, logIt bool) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.items[key]
	if !ok {
		if len(b.items) >= maxOffenders {
			b.evict(now)
		}
		o = &offender{since: now}
		b.items[key] = o
	}
	if !o.until.IsZero() {
		return o.failures, time.Time{}, false // banned already; its requests do not reach here
	}
	if now.Sub(o.since) >= b.window {
		o.failures, o.since = 0, now
	}
	o.failures++
	if b.failures > 0 && o.failures >= b.failures {
		o.until, o.dropped, o.logged = now.Add(b.length), 0, now
		return o.failures, o.until, true
	}
	if now.Sub(o.logged) < logEvery {
		return o.failures, time.Time{}, false
	}
	o.logged = now
	return o.failures, time.Time{}, true
}

// allowLog reports whether an info line about key is due, for refusals
// that are not failed answers (a disabled account's right password).
func (b *bans) allowLog(key string) bool {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.items[key]
	if !ok {
		if len(b.items) >= maxOffenders {
			b.evict(now)
		}
		o = &offender{since: now}
		b.items[key] = o
	}
	if now.Sub(o.logged) < logEvery {
		return false
	}
	o.logged = now
	return true
}

// evict makes room: first the addresses whose window and ban are over,
// then, if that is not enough, a tenth of the table, addresses that are
// not banned first.
func (b *bans) evict(now time.Time) {
	b.sweepLocked(now)
	target := maxOffenders - maxOffenders/10
	for _, bannedToo := range []bool{false, true} {
		for k, o := range b.items {
			if len(b.items) <= target {
				return
			}
			if bannedToo || o.until.IsZero() {
				delete(b.items, k)
			}
		}
	}
}

// sweep forgets the addresses with nothing left to remember.
func (b *bans) sweep() {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweepLocked(now)
}

func (b *bans) sweepLocked(now time.Time) {
	for k, o := range b.items {
		if o.until.IsZero() && now.Sub(o.since) >= b.window && now.Sub(o.logged) >= logEvery ||
			!o.until.IsZero() && !now.Before(o.until) {
			delete(b.items, k)
		}
	}
}

// unlessBanned wraps a request handler: requests from a banned address get
// no answer at all, and a line in the log at most once per logEvery.
func (s *Server) unlessBanned(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		src := req.Source()
		drop, r := s.bans.check(banKey(src))
		if r != nil && r.ended {
			s.log.Info("sip address no longer banned", "source", banKey(src), "dropped", r.dropped)
		} else if r != nil {
			s.log.Info("sip requests from a banned address dropped", "source", banKey(src), "dropped", r.dropped, "until", r.until.UTC().Format(time.RFC3339))
		}
		if drop {
			return
		}
		h(req, tx)
	}
}

// failed counts a wrong digest answer (or one for an unknown user) against
// its source. The log gets the first failure of an address and then at most
// one line per logEvery, and one warning when the address is banned; never
// the password's hash or the answer.
func (s *Server) failed(req *sip.Request, username string) {
	key := banKey(req.Source())
	n, until, logIt := s.bans.fail(key)
	s.stats.authFailures.Add(1)
	if !until.IsZero() {
		s.stats.bans.Add(1)
	}
	if len(username) > 64 {
		username = username[:64]
	}
	switch {
	case !until.IsZero():
		s.log.Warn("sip address banned after failed authentication", "source", key, "failures", n, "window", s.cfg.BanWindow.String(),
			"until", until.UTC().Format(time.RFC3339), "last_username", username)
	case logIt:
		s.log.Info("sip authentication failed", "method", req.Method.String(), "username", username, "source", req.Source(), "failures", n)
	default:
		s.log.Debug("sip authentication failed", "method", req.Method.String(), "username", username, "source", req.Source(), "failures", n)
	}
}
