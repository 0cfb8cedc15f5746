package ratelimit

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// clock is a time the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{
		"300/m": {300, time.Minute}, "5/s": {5, time.Second}, "100/h": {100, time.Hour},
		"90/30s": {90, 30 * time.Second}, " 20/m ": {20, time.Minute}, "0": {}, "off": {},
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := ParseRate(got.String()); err != nil || back != got {
			t.Errorf("%v does not read back from %q: %v, %v", got, got.String(), back, err)
		}
	}
	for _, in := range []string{"", "300", "-1/m", "0/m", "x/m", "5/d", "5/10ms", "5/"} {
		if r, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %v, want an error", in, r)
		}
	}
	if DefaultPublic.String() != "300/m" || DefaultLogin.String() != "20/m" {
		t.Errorf("defaults read %s and %s", DefaultPublic, DefaultLogin)
	}
}

// TestBucketPerSource spends one source's burst, is refused with the time
// until the next request, refills at the rate, and never touches another
// source's bucket.
func TestBucketPerSource(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	l := newLimiter("test", Rate{N: 3, Per: 3 * time.Second}, 100, nil, c.now)
	a, b := addr("192.0.2.1"), addr("192.0.2.2")
	for i := range 3 {
		if ok, _ := l.Allow(a); !ok {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := l.Allow(a)
	if ok || wait != time.Second {
		t.Fatalf("the fourth: allowed %v, wait %v; want refused for 1s", ok, wait)
	}
	if ok, _ := l.Allow(b); !ok {
		t.Fatal("another source was refused")
	}
	c.advance(500 * time.Millisecond)
	if ok, wait := l.Allow(a); ok || wait != 500*time.Millisecond {
		t.Fatalf("half a token later: allowed %v, wait %v", ok, wait)
	}
	c.advance(500 * time.Millisecond)
	if ok, _ := l.Allow(a); !ok {
		t.Fatal("a second later: still refused")
	}
	c.advance(time.Hour) // refills to the burst, no further
	n := 0
	for {
		if ok, _ := l.Allow(a); !ok {
			break
		}
		n++
	}
	if n != 3 {
		t.Fatalf("after an hour %d requests went through, want the burst of 3", n)
	}
}

// TestPeekAndCharge: a limit that counts only failures lets any number of
// successes through and refuses once the failures used it up.
func TestPeekAndCharge(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	l := newLimiter("test", Rate{N: 2, Per: time.Minute}, 100, nil, c.now)
	a := addr("198.51.100.1")
	for range 10 {
		if ok, _ := l.Peek(a); !ok {
			t.Fatal("peeking spent the bucket")
		}
	}
	l.Charge(a)
	l.Charge(a)
	l.Charge(a) // never below empty: the wait stays one token's
	if ok, wait := l.Peek(a); ok || wait != 30*time.Second {
		t.Fatalf("after 2 failures: allowed %v, wait %v; want refused for 30s", ok, wait)
	}
}

// TestMemoryIsBounded sends from more sources than the table holds: it
// stays at its size, forgetting the least recently seen first.
func TestMemoryIsBounded(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	l := newLimiter("test", Rate{N: 1, Per: time.Hour}, 50, nil, c.now)
	first := addr("10.0.0.1")
	l.Allow(first)
	for i := range 1000 {
		l.Allow(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}))
		l.Allow(first) // kept recent: never forgotten
	}
	if n := len(l.sources); n != 50 || l.recent.Len() != 50 {
		t.Fatalf("the table holds %d sources (%d in the list), want 50", n, l.recent.Len())
	}
	if ok, _ := l.Allow(first); ok {
		t.Fatal("a source seen all along was forgotten")
	}
	if ok, _ := l.Allow(addr("10.1.0.0")); !ok {
		t.Fatal("the least recent source should have been forgotten, and start again full")
	}
}

// TestIPv6CountsBySlash64: every address of one /64 shares a bucket.
func TestIPv6CountsBySlash64(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	l := newLimiter("test", Rate{N: 1, Per: time.Hour}, 100, nil, c.now)
	l.Allow(addr("2001:db8:1:2::1"))
	if ok, _ := l.Allow(addr("2001:db8:1:2:ffff::9")); ok {
		t.Fatal("another address of the same /64 had its own bucket")
	}
	if ok, _ := l.Allow(addr("2001:db8:1:3::1")); !ok {
		t.Fatal("the next /64 shared the bucket")
	}
	l.Allow(addr("192.0.2.9"))
	if ok, _ := l.Allow(addr("::ffff:192.0.2.9")); ok {
		t.Fatal("an IPv4-mapped address had a bucket apart from its IPv4 address")
	}
}

// TestRefusalsAreLoggedAtABoundedRate: one line for a source's first
// refusal, then one per LogEvery with the count since, and a line never
// holds more than the limit's name, rate, source and count.
func TestRefusalsAreLoggedAtABoundedRate(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	c := &clock{t: time.Unix(1e9, 0)}
	l := newLimiter("public", Rate{N: 1, Per: time.Hour}, 100, log, c.now)
	for range 1000 {
		l.Allow(addr("203.0.113.5"))
		l.Allow(addr("2001:db8::5"))
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("1,998 refusals from two sources logged %d lines, want 2:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "limit=public") || !strings.Contains(lines[0], "source=203.0.113.5") ||
		!strings.Contains(lines[1], "source=2001:db8::/64") {
		t.Fatalf("lines:\n%s", buf.String())
	}
	buf.Reset()
	c.advance(LogEvery)
	l.Allow(addr("203.0.113.5"))
	if got := buf.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "refused=999") {
		t.Fatalf("a minute later, want one line counting the 998 refused since the first line and this one: %q", got)
	}
}

func TestNilLimiterLimitsNothing(t *testing.T) {
	l := New("off", Rate{}, nil)
	if l != nil {
		t.Fatal("an off rate made a limiter")
	}
	for range 10 {
		if ok, _ := l.Allow(addr("192.0.2.1")); !ok {
			t.Fatal("a nil limiter refused")
		}
	}
	l.Charge(addr("192.0.2.1"))
}

// TestSourceBelievesOnlyTrustedProxies: X-Forwarded-For is ignored from
// anyone but a trusted proxy, and through trusted proxies the source is the
// rightmost address that is not one of them.
func TestSourceBelievesOnlyTrustedProxies(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 192.0.2.7 ,::ffff:172.16.0.0/108,2001:db8:1::/48")
	if err != nil {
		t.Fatal(err)
	}
	s := NewSources(trusted)
	for _, c := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},                     // not a proxy: the header is the client's own
		{"10.1.2.3:5000", nil, "10.1.2.3"},                                                // a proxy's own request
		{"10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},                       // through one proxy
		{"10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},              // the client wrote 6.6.6.6
		{"10.1.2.3:5000", []string{"6.6.6.6", "198.51.100.1, 192.0.2.7"}, "198.51.100.1"}, // two proxies, two headers
		{"192.0.2.7:1", []string{"198.51.100.1:4711"}, "198.51.100.1"},                    // with a port
		{"10.1.2.3:5000", []string{"garbage, 10.9.9.9"}, "10.9.9.9"},                      // unreadable left of the last proxy
		{"10.1.2.3:5000", []string{"10.4.4.4, 10.5.5.5"}, "10.4.4.4"},                     // only proxies: the farthest
		{"[::ffff:172.16.5.5]:1", []string{"198.51.100.2"}, "198.51.100.2"},               // a mapped prefix matches IPv4
		{"[2001:db8:1::5]:1", []string{"[2001:db8:9::1]:80"}, "2001:db8:9::1"},
		{"[2001:db8:2::5]:1", []string{"198.51.100.1"}, "2001:db8:2::5"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.Of(r); got != addr(c.want) {
			t.Errorf("from %s with X-Forwarded-For %q: %v, want %s", c.peer, c.xff, got, c.want)
		}
	}
	none := NewSources(nil)
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr, r.Header["X-Forwarded-For"] = "127.0.0.1:9", []string{"198.51.100.1"}
	if got := none.Of(r); got != addr("127.0.0.1") {
		t.Errorf("without trusted proxies X-Forwarded-For was believed: %v", got)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.1/8/8"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) took it", bad)
		}
	}
}
