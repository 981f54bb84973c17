package netrules

import (
	"fmt"
	"net/netip"
	"strings"
)

// Proxies are the trusted reverse proxies: only a peer inside one of them
// may name the client with X-Forwarded-For or Forwarded.
type Proxies []netip.Prefix

// ParseProxies parses addresses and CIDRs, IPv4 or IPv6.
func ParseProxies(ss []string) (Proxies, error) {
	var out Proxies
	for _, s := range ss {
		t := strings.TrimSpace(s)
		if !strings.Contains(t, "/") {
			a, err := netip.ParseAddr(t)
			if err != nil {
				return nil, fmt.Errorf("%q: not an IP address or CIDR", s)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(t)
		if err != nil {
			return nil, fmt.Errorf("%q: not an IP address or CIDR", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (ps Proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP finds the client of a request that reached berth from peer.
// When peer is not a trusted proxy, it is the client, whatever the headers
// say. Otherwise the forwarded chain (the for= parameters of the Forwarded
// header values when there are any, else the X-Forwarded-For values) is
// walked from the nearest hop back: the first address that is not itself a
// trusted proxy is the client. A hop that does not parse ends the walk, and
// the last trusted hop before it is taken as the client, so a forged or
// garbled entry can never name an address of the client's choosing.
func (ps Proxies) ClientIP(peer netip.Addr, forwarded, xForwardedFor []string) netip.Addr {
	peer = peer.Unmap()
	if len(ps) == 0 || !ps.trusted(peer) {
		return peer
	}
	hops := forwardedFor(forwarded)
	if len(hops) == 0 {
		for _, v := range xForwardedFor {
			for _, h := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(h))
			}
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return client
		}
		client = a
		if !ps.trusted(a) {
			return a
		}
	}
	return client
}

// forwardedFor returns the for= values of RFC 7239 Forwarded headers, in
// order.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					out = append(out, strings.Trim(val, `"`))
				}
			}
		}
	}
	return out
}

// parseHop parses one hop: an address, "ip:port", "[v6]" or "[v6]:port".
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
