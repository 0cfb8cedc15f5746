package ratelimit

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Sources finds the address a request comes from. Without trusted proxies
// it is the connection's peer and X-Forwarded-For is ignored: anyone can
// write that header. Through a trusted proxy it is the nearest address in
// X-Forwarded-For that is not a trusted proxy itself, read from the right,
// where each proxy appends the peer it saw; what lies to the left of that
// was written by the client and is not believed.
type Sources struct {
	trusted []netip.Prefix
}

// NewSources believes X-Forwarded-For from the proxies in trusted.
func NewSources(trusted []netip.Prefix) Sources {
	return Sources{trusted: trusted}
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes
// (10.0.0.0/8, 2001:db8::/32) and single addresses (192.0.2.7); empty is
// none.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix (such as 10.0.0.0/8)", f)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 { // requests' addresses are unmapped: ::ffff:10.0.0.0/104 is 10.0.0.0/8
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Of is the address r comes from; the zero Addr when r's peer is not an
// IP address.
func (s Sources) Of(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	src := ap.Addr().Unmap()
	if !s.isTrusted(src) {
		return src
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		list := strings.Split(hops[i], ",")
		for j := len(list) - 1; j >= 0; j-- {
			a, ok := parseHop(list[j])
			if !ok {
				return src // unreadable: nothing further left can be believed
			}
			src = a
			if !s.isTrusted(a) {
				return a
			}
		}
	}
	return src
}

func (s Sources) isTrusted(a netip.Addr) bool {
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one X-Forwarded-For entry: an address, or an address
// and port as some proxies write it (192.0.2.7:4711, [2001:db8::1]:4711).
func parseHop(v string) (netip.Addr, bool) {
	v = strings.TrimSpace(v)
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
