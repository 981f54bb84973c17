package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// gateRounds is how many times the gate phase alternates the gate off and
// on, so that drift in the machine's speed falls on both alike.
const gateRounds = 5

// gateRules is how many ipRules the gate phase sets: the most a registry
// may have.
const gateRules = 100

// gateSettle bounds the wait for changed network rules to take effect.
const gateSettle = 10 * time.Second

// networkProps are the network properties of a registry as berth's
// management API shows them, as far as the gate phase reads them.
type networkProps struct {
	PublicNetworkAccess string          `json:"publicNetworkAccess"`
	NetworkRuleSet      *networkRuleSet `json:"networkRuleSet"`
}

type networkRuleSet struct {
	DefaultAction string   `json:"defaultAction"`
	IPRules       []ipRule `json:"ipRules"` // never nil: a null leaves the rules as they are
}

type ipRule struct {
	Action string `json:"action"`
	Value  string `json:"value"`
}

// gateOff is the rule set that lets everyone through at once: the gate's
// cheapest path.
var gateOff = networkRuleSet{DefaultAction: "Allow", IPRules: []ipRule{}}

// admits reports whether the settings let a client at ip through on its
// address alone, the way berth's gate decides for a caller that may not
// bypass it (the bench's admin user never may).
func (n networkProps) admits(ip netip.Addr) bool {
	if !strings.EqualFold(n.PublicNetworkAccess, "Enabled") || n.NetworkRuleSet == nil {
		return false
	}
	if strings.EqualFold(n.NetworkRuleSet.DefaultAction, "Allow") {
		return true
	}
	for _, r := range n.NetworkRuleSet.IPRules {
		p, err := netip.ParsePrefix(r.Value)
		if err != nil {
			a, err := netip.ParseAddr(r.Value)
			if err != nil {
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// denyAllBut is defaultAction Deny with gateRules rules of which only the
// last one, sorted by address, admits client: 99 separate /24s in 10.0/16,
// then client/32. client must sort above 10.0.255.255, as loopback does.
func denyAllBut(client netip.Addr) networkRuleSet {
	rs := networkRuleSet{DefaultAction: "Deny"}
	for i := range gateRules - 1 {
		// Every other /24, so that no two rules touch and the gate keeps
		// all 100 ranges apart instead of merging them.
		rs.IPRules = append(rs.IPRules, ipRule{"Allow", fmt.Sprintf("10.0.%d.0/24", 2*i)})
	}
	rs.IPRules = append(rs.IPRules, ipRule{"Allow", client.String() + "/32"})
	return rs
}

// gateCost measures what the network gate costs: manifest GET by tag at 64
// clients with the gate off (defaultAction Allow, no rules) and with
// defaultAction Deny and 100 rules, the bench's address inside only the last
// one, in alternating rounds; it gives the second as a ratio of the first.
// Each switch is confirmed by a probe from a second loopback address, which
// the rules deny, before the round is timed. The registry's rule set is
// restored at the end.
func (b *bench) gateCost(ctx context.Context) (err error) {
	const concurrency = 64
	const phase = "gate"
	repo := b.repo("manifest")
	if err := b.ensureTags(ctx, repo); err != nil {
		return err
	}
	c := newClient(concurrency, smallTimeout)
	defer closeClient(c)
	tok, err := b.reg.mgmtToken(ctx, c)
	if err != nil {
		b.skip(phase, "GET by tag, gate off, c=64", "req/s", nil, "management API unavailable: "+err.Error())
		return nil
	}
	var before struct {
		Properties networkProps `json:"properties"`
	}
	if err := b.reg.mgmtDo(ctx, c, tok, http.MethodGet, "/api/registries/default", nil, &before); err != nil {
		return err
	}
	if before.Properties.NetworkRuleSet == nil {
		b.skip(phase, "GET by tag, gate off, c=64", "req/s", nil, "the registry shows no networkRuleSet")
		return nil
	}
	client, err := localAddr(ctx, b.reg.base)
	if err != nil {
		return err
	}
	if !client.IsLoopback() || !client.Is4() {
		b.skip(phase, "GET by tag, gate off, c=64", "req/s", nil, "registry not on IPv4 loopback: no second address to probe from")
		return nil
	}
	// Any 127/8 address reaches a loopback listener; the rules name only
	// the bench's own.
	probeIP := netip.MustParseAddr("127.0.0.2")
	if probeIP == client {
		probeIP = netip.MustParseAddr("127.0.0.3")
	}
	probe := newClientFrom(probeIP, smallTimeout)
	defer closeClient(probe)
	pub := before.Properties.PublicNetworkAccess
	if !strings.EqualFold(pub, "Enabled") {
		return fmt.Errorf("publicNetworkAccess is %q: the bench itself would be denied", pub)
	}
	set := func(ctx context.Context, rs networkRuleSet) error {
		body := map[string]any{"properties": map[string]any{"networkRuleSet": rs}}
		if err := b.reg.mgmtDo(ctx, c, tok, http.MethodPatch, "/api/registries/default", body, nil); err != nil {
			return err
		}
		want := networkProps{PublicNetworkAccess: pub, NetworkRuleSet: &rs}.admits(probeIP)
		return b.waitGate(ctx, probe, repo, want)
	}
	// A registry left with the bench's rules would deny its real clients.
	defer func() {
		if rerr := set(context.WithoutCancel(ctx), *before.Properties.NetworkRuleSet); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restoring the network rules: %w", rerr))
		}
	}()
	ways := []struct {
		name string
		rs   networkRuleSet
	}{
		{"gate off", gateOff},
		{"Deny + 100 rules", denyAllBut(client)},
	}
	var done [2]loadResult
	round := b.opts.duration / gateRounds
	for range gateRounds {
		for i, w := range ways {
			if err := set(ctx, w.rs); err != nil {
				return fmt.Errorf("setting %s: %w", w.name, err)
			}
			res, err := runLoad(ctx, concurrency, round, func(ctx context.Context, seq int) error {
				return b.reg.getManifest(ctx, c, repo, b.manifestTags[seq%len(b.manifestTags)])
			})
			if err != nil {
				return fmt.Errorf("%s: %w", w.name, err)
			}
			done[i].add(res)
		}
	}
	for i, w := range ways {
		b.addLatency(phase, "GET by tag, "+w.name+", c=64", done[i], nil)
	}
	b.add(phase, "Deny + 100 rules ÷ gate off", done[1].rate()/done[0].rate(), "ratio", atLeast(0.95))
	return nil
}

// waitGate polls a manifest GET from the probe client until the registry
// answers it as allowed says: 200, or 403 for a denied address.
func (b *bench) waitGate(ctx context.Context, probe *http.Client, repo string, allowed bool) error {
	ctx, cancel := context.WithTimeout(ctx, gateSettle)
	defer cancel()
	for {
		err := b.reg.getManifest(ctx, probe, repo, b.manifestTags[0])
		var se *statusError
		switch {
		case allowed && err == nil:
			return nil
		case !allowed && errors.As(err, &se) && se.status == http.StatusForbidden:
			return nil
		case err != nil && !errors.As(err, &se):
			if ctx.Err() != nil {
				return fmt.Errorf("network rules not in effect after %v", gateSettle)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("network rules not in effect after %v: probe got %v", gateSettle, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// localAddr returns the address the registry sees the bench's connections
// come from (without a proxy or NAT in between).
func localAddr(ctx context.Context, base *url.URL) (netip.Addr, error) {
	port := base.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[base.Scheme]
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(base.Hostname(), port))
	if err != nil {
		return netip.Addr{}, err
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.TCPAddr).AddrPort().Addr().Unmap(), nil
}

// newClientFrom is newClient with connections made from local address ip.
func newClientFrom(ip netip.Addr, timeout time.Duration) *http.Client {
	c := newClient(1, timeout)
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))}
	c.Transport.(*http.Transport).DialContext = d.DialContext
	return c
}
