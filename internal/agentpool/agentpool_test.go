package agentpool_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/berth-project/berth/internal/agentpool"
	"github.com/berth-project/berth/internal/storage/meta"
)

func TestEgress(t *testing.T) {
	for _, c := range []struct {
		what string
		p    meta.AgentPool
		want string
	}{
		{"allotted", meta.AgentPool{Egress: "127.0.10.7"}, "127.0.10.7/32"},
		{"its endpoint's host", meta.AgentPool{Egress: "127.0.10.7", PrivateEndpointID: 1, EndpointAddress: "127.0.2.1:5000"}, "127.0.2.1/32"},
		{"localhost", meta.AgentPool{Egress: "127.0.10.7", PrivateEndpointID: 1, EndpointAddress: "localhost:5000"}, "127.0.0.1/32"},
		{"IPv6", meta.AgentPool{Egress: "127.0.10.7", PrivateEndpointID: 1, EndpointAddress: "[::1]:5000"}, "::1/128"},
	} {
		if got := agentpool.EgressPrefixes(c.p); !slices.Equal(got, []string{c.want}) {
			t.Errorf("%s: %v, want %s", c.what, got, c.want)
		}
	}
	if _, err := agentpool.Egress(meta.AgentPool{Name: "p", PrivateEndpointID: 1, EndpointAddress: "nonsense"}); err == nil {
		t.Error("an endpoint address without a port gave an egress")
	}
}

func TestAllocate(t *testing.T) {
	pools := func(ips ...string) []meta.AgentPool {
		var out []meta.AgentPool
		for _, ip := range ips {
			out = append(out, meta.AgentPool{Egress: ip})
		}
		return out
	}
	p := netip.MustParsePrefix("127.0.10.0/24")
	for _, c := range []struct {
		used []meta.AgentPool
		want string
	}{
		{nil, "127.0.10.1"},
		{pools("127.0.10.1", "127.0.10.2"), "127.0.10.3"},
		{pools("127.0.10.2"), "127.0.10.1"},
	} {
		if got, ok := agentpool.Allocate(p, c.used); !ok || got.String() != c.want {
			t.Errorf("Allocate(%v) = %s %v, want %s", c.used, got, ok, c.want)
		}
	}
	var all []string
	for i := 1; i <= 254; i++ {
		all = append(all, netip.AddrFrom4([4]byte{127, 0, 10, byte(i)}).String())
	}
	if got, ok := agentpool.Allocate(p, pools(all...)); ok {
		t.Errorf("Allocate of a full prefix gave %s", got)
	}
	if got, ok := agentpool.Allocate(netip.MustParsePrefix("127.0.10.8/30"), pools("127.0.10.9")); !ok || got.String() != "127.0.10.10" {
		t.Errorf("Allocate in a /30 gave %s %v", got, ok)
	}
}

func TestNames(t *testing.T) {
	for s, want := range map[string]bool{"vnetpool": true, "Pool_1-a": true, "": false, "-x": false, "a/b": false,
		"a.b": false, string(make([]byte, 65)): false} {
		if got := agentpool.ValidName(s); got != want {
			t.Errorf("ValidName(%q) = %v", s, got)
		}
	}
	tok, hash := agentpool.NewToken()
	if len(tok) != 64 || agentpool.TokenHash(tok) != hash || hash == tok {
		t.Errorf("NewToken = %q, %q", tok, hash)
	}
}
