package netrules

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

var allKinds = []IdentityKind{
	IdentityNone, IdentityUser, IdentityServicePrincipal, IdentityManagedIdentityUserAssigned,
	IdentityTaskSystemIdentity, IdentityTrustedService, IdentityAdminUser, IdentityToken,
}

// gateCase is one point of the matrix. clientInRule says whether the client
// address is covered by the policy's rules.
type gateCase struct {
	private, public, defaultAllow, bypassTrusted, bypassTasks bool
	kind                                                      IdentityKind
	client                                                    string
	clientInRule                                              bool
}

// expected restates ARCHITECTURE §4 step 3 independently of Decide.
func expected(c gateCase) (bool, string) {
	if c.private {
		return true, "private-endpoint"
	}
	bypass := ""
	if c.kind == IdentityTrustedService && c.bypassTrusted {
		bypass = "trusted-service-bypass"
	}
	if c.kind == IdentityTaskSystemIdentity && c.bypassTasks {
		bypass = "task-bypass"
	}
	if !c.public {
		if bypass != "" {
			return true, bypass
		}
		return false, "public-access-disabled"
	}
	if c.defaultAllow {
		return true, "default-allow"
	}
	if c.clientInRule {
		return true, "ip-rule"
	}
	if bypass != "" {
		return true, bypass
	}
	return false, "denied"
}

func TestDecideMatrix(t *testing.T) {
	rules := []Rule{{Value: "127.0.0.1/32"}, {Value: "127.0.1.0/24", Action: "Allow"}, {Value: "10.20.0.0/16"}}
	clients := []struct {
		ip     string
		inRule bool
	}{
		{"127.0.0.1", true},
		{"127.0.1.10", true},
		{"::ffff:127.0.1.10", true}, // IPv4-mapped: unmapped first
		{"10.20.255.255", true},
		{"127.0.9.9", false},
		{"127.0.0.2", false},
		{"::1", false},             // IPv6 never matches an IPv4 rule
		{"2001:db8::a14:1", false}, // not even when its low bits look like 10.20.0.1
	}
	bools := []bool{false, true}
	counts := map[string]int{}
	n := 0
	for _, private := range bools {
		for _, public := range bools {
			for _, defaultAllow := range bools {
				for _, bt := range bools {
					for _, bk := range bools {
						policy := Policy{PublicNetworkAccess: public, DefaultAction: "Deny", Rules: rules, BypassTrustedServices: bt, BypassForTasks: bk}
						if defaultAllow {
							policy.DefaultAction = "Allow"
						}
						g, err := Compile(policy)
						if err != nil {
							t.Fatal(err)
						}
						for _, kind := range allKinds {
							for _, cl := range clients {
								c := gateCase{private, public, defaultAllow, bt, bk, kind, cl.ip, cl.inRule}
								wantAllowed, wantReason := expected(c)
								got := g.Decide(Request{ClientIP: netip.MustParseAddr(cl.ip), PrivateEndpoint: private, Identity: kind})
								if got.Allowed != wantAllowed || got.Reason != wantReason {
									t.Errorf("%+v (%v): got %+v, want allowed=%v reason=%s", c, kind, got, wantAllowed, wantReason)
								}
								counts[wantReason]++
								n++
							}
						}
					}
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d cases", n)
	}
	for _, r := range []string{ReasonPrivateEndpoint, ReasonPublicAccessDisabled, ReasonDefaultAllow, ReasonIPRule, ReasonTrustedServiceBypass, ReasonTaskBypass, ReasonDenied} {
		if counts[r] == 0 {
			t.Errorf("no case of the matrix exercises reason %q", r)
		}
	}
	t.Logf("%d cases: %v", n, counts)
}

// The network halves of S1 and S2, spelled out.
func TestDecideScenarios(t *testing.T) {
	ip := netip.MustParseAddr
	base := Policy{PublicNetworkAccess: true, DefaultAction: "Deny", Rules: []Rule{{Value: "127.0.0.1/32"}}, BypassTrustedServices: true}
	cases := []struct {
		name string
		edit func(*Policy)
		req  Request
		want Decision
	}{
		{"S1 pull from the allowed address", nil, Request{ClientIP: ip("127.0.0.1")}, Decision{true, "ip-rule"}},
		{"S1 agent egress denied", nil, Request{ClientIP: ip("127.0.1.10"), Identity: IdentityToken}, Decision{false, "denied"}},
		{"S1 stranger denied", nil, Request{ClientIP: ip("127.0.9.9")}, Decision{false, "denied"}},
		{"S2.1 default Allow", func(p *Policy) { p.DefaultAction = "Allow" }, Request{ClientIP: ip("127.0.1.10")}, Decision{true, "default-allow"}},
		{"S2.2 service tag rule", func(p *Policy) { p.Rules = append(p.Rules, Rule{Value: "127.0.1.0/24"}) }, Request{ClientIP: ip("127.0.1.10")}, Decision{true, "ip-rule"}},
		{"S2.3 task identity without the flag", nil, Request{ClientIP: ip("127.0.1.10"), Identity: IdentityTaskSystemIdentity}, Decision{false, "denied"}},
		{"S2.3 task identity with the flag", func(p *Policy) { p.BypassForTasks = true }, Request{ClientIP: ip("127.0.1.10"), Identity: IdentityTaskSystemIdentity}, Decision{true, "task-bypass"}},
		{"S2.3 user-assigned never bypasses", func(p *Policy) { p.BypassForTasks = true }, Request{ClientIP: ip("127.0.1.10"), Identity: IdentityManagedIdentityUserAssigned}, Decision{false, "denied"}},
		{"trusted service with bypass off", func(p *Policy) { p.BypassTrustedServices = false }, Request{ClientIP: ip("127.0.9.9"), Identity: IdentityTrustedService}, Decision{false, "denied"}},
		{"public disabled: rule no longer counts", func(p *Policy) { p.PublicNetworkAccess = false }, Request{ClientIP: ip("127.0.0.1")}, Decision{false, "public-access-disabled"}},
		{"public disabled: default Allow no longer counts", func(p *Policy) { p.PublicNetworkAccess = false; p.DefaultAction = "Allow" }, Request{ClientIP: ip("127.0.0.1")}, Decision{false, "public-access-disabled"}},
		{"public disabled: private endpoint served", func(p *Policy) { p.PublicNetworkAccess = false }, Request{ClientIP: ip("127.0.9.9"), PrivateEndpoint: true}, Decision{true, "private-endpoint"}},
		{"public disabled: trusted service bypasses", func(p *Policy) { p.PublicNetworkAccess = false }, Request{ClientIP: ip("127.0.9.9"), Identity: IdentityTrustedService}, Decision{true, "trusted-service-bypass"}},
		{"zero client address never matches", nil, Request{}, Decision{false, "denied"}},
		{"lower-case default action", func(p *Policy) { p.DefaultAction = "allow" }, Request{ClientIP: ip("127.0.9.9")}, Decision{true, "default-allow"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := base
			p.Rules = append([]Rule(nil), base.Rules...)
			if c.edit != nil {
				c.edit(&p)
			}
			g, err := Compile(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Decide(c.req); got != c.want {
				t.Errorf("Decide = %+v, want %+v", got, c.want)
			}
		})
	}
	var nilGate *Gate
	if got := nilGate.Decide(Request{ClientIP: ip("127.0.0.1"), PrivateEndpoint: true}); got.Allowed {
		t.Errorf("a nil gate allowed a request: %+v", got)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		p    Policy
		want string
	}{
		{Policy{DefaultAction: ""}, `invalid default action ""`},
		{Policy{DefaultAction: "Block"}, `invalid default action "Block"`},
		{Policy{DefaultAction: "Deny", Rules: []Rule{{Value: "::1"}}}, "IPv4 only"},
		{Policy{DefaultAction: "Deny", Rules: []Rule{{Value: "10.0.0.0/33"}}}, `"10.0.0.0/33"`},
		{Policy{DefaultAction: "Deny", Rules: manyRules(101)}, "at most 100"},
	} {
		g, err := Compile(c.p)
		if err == nil || g != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%+v) = %v, %v; want an error containing %q", c.p.DefaultAction, g, err, c.want)
		}
	}
	if _, err := Compile(Policy{DefaultAction: "Deny", Rules: manyRules(100)}); err != nil {
		t.Errorf("Compile with 100 rules: %v", err)
	}
}

func manyRules(n int) []Rule {
	rs := make([]Rule, n)
	for i := range rs {
		rs[i] = Rule{Value: fmt.Sprintf("10.%d.%d.0/24", 2*i/256, 2*i%256), Action: "Allow"}
	}
	return rs
}

func TestCompileRangesMerge(t *testing.T) {
	rs, err := NewRuleSet([]Rule{
		{Value: "10.0.1.0/24"}, {Value: "10.0.0.0/24"}, // adjacent: one range
		{Value: "10.0.0.7"}, // inside: absorbed
		{Value: "192.168.0.0/16"}, {Value: "192.168.3.0/24"},
		{Value: "255.255.255.255"}, {Value: "255.255.255.254/31"}, // top of the space: no overflow
		{Value: "0.0.0.0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(compileRanges(rs))
	u := func(s string) uint32 { return ipv4Uint(netip.MustParseAddr(s)) }
	want := fmt.Sprint([]ipRange{
		{0, 0},
		{u("10.0.0.0"), u("10.0.1.255")},
		{u("192.168.0.0"), u("192.168.255.255")},
		{u("255.255.255.254"), u("255.255.255.255")},
	})
	if got != want {
		t.Errorf("ranges = %s, want %s", got, want)
	}
	all, _ := NewRuleSet([]Rule{{Value: "0.0.0.0/0"}, {Value: "1.2.3.4"}})
	if got := compileRanges(all); len(got) != 1 || got[0] != (ipRange{0, 0xffffffff}) {
		t.Errorf("0.0.0.0/0 compiled to %v", got)
	}
}

// TestContainsAgainstPrefixes compares both lookups with netip's own
// Prefix.Contains over random rule sets and addresses.
func TestContainsAgainstPrefixes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var rules []Rule
		var prefixes []netip.Prefix
		for range rng.IntN(MaxRules + 1) {
			// A narrow space (172.16.0.0/14) so that ranges overlap and touch.
			x := 0xac100000 | rng.Uint32()&0x3ffff
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}), 14+rng.IntN(19)).Masked()
			prefixes = append(prefixes, p)
			rules = append(rules, Rule{Value: p.String()})
		}
		g, err := Compile(Policy{PublicNetworkAccess: true, DefaultAction: "Deny", Rules: rules})
		if err != nil {
			t.Fatal(err)
		}
		for range 200 {
			x := 0xac0f0000 + rng.Uint32()%0x60000 // 172.15.0.0 to 172.20.255.255
			a := netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
			want := false
			for _, p := range prefixes {
				want = want || p.Contains(a)
			}
			if got := g.contains(a); got != want {
				t.Fatalf("round %d: contains(%s) = %v, want %v (rules %v)", round, a, got, want, rules)
			}
			if got := containsLinear(g.ranges, x); got != want {
				t.Fatalf("round %d: containsLinear(%s) = %v, want %v", round, a, got, want)
			}
			if got := g.contains(netip.AddrFrom16(a.As16())); got != want {
				t.Fatalf("round %d: contains(IPv4-mapped %s) = %v, want %v", round, a, got, want)
			}
		}
	}
}

func TestDeniedMessage(t *testing.T) {
	for _, c := range []struct{ ip, want string }{
		{"127.0.1.10", "client with IP '127.0.1.10' is not allowed access. Refer https://docs.example/berth/firewall to grant access."},
		{"::ffff:127.0.9.9", "client with IP '127.0.9.9' is not allowed access. Refer https://docs.example/berth/firewall to grant access."},
		{"2001:db8::1", "client with IP '2001:db8::1' is not allowed access. Refer https://docs.example/berth/firewall to grant access."},
	} {
		if got := DeniedMessage(netip.MustParseAddr(c.ip), "https://docs.example/berth/firewall"); got != c.want {
			t.Errorf("DeniedMessage(%s) =\n%q, want\n%q", c.ip, got, c.want)
		}
	}
}

func TestIdentityKindNames(t *testing.T) {
	want := []string{"none", "user", "servicePrincipal", "managedIdentityUserAssigned", "taskSystemIdentity", "trustedService", "adminUser", "token"}
	for i, k := range allKinds {
		if k.String() != want[i] {
			t.Errorf("kind %d String() = %q, want %q", k, k.String(), want[i])
		}
		if back, ok := ParseIdentityKind(want[i]); !ok || back != k {
			t.Errorf("ParseIdentityKind(%q) = %v, %v", want[i], back, ok)
		}
	}
	if _, ok := ParseIdentityKind("TrustedService"); ok {
		t.Error("ParseIdentityKind accepted a wrongly cased name")
	}
	if s := IdentityKind(200).String(); s != "IdentityKind(200)" {
		t.Errorf("unknown kind String() = %q", s)
	}
}

func benchGate(b *testing.B) *Gate {
	rules := manyRules(100) // 10.0.0.0/24, 10.0.2.0/24, …: 100 separate ranges
	g, err := Compile(Policy{PublicNetworkAccess: true, DefaultAction: "Deny", Rules: rules, BypassTrustedServices: true})
	if err != nil {
		b.Fatal(err)
	}
	if len(g.ranges) != 100 {
		b.Fatalf("%d ranges, want 100 unmerged", len(g.ranges))
	}
	return g
}

var sink Decision

func BenchmarkDecide100Rules(b *testing.B) {
	g := benchGate(b)
	last := netip.MustParseAddr("10.0.198.77") // inside the last rule, 10.0.198.0/24
	none := netip.MustParseAddr("10.0.199.77") // in the gap after it
	for _, c := range []struct {
		name string
		ip   netip.Addr
		want bool
	}{{"last-rule", last, true}, {"no-rule", none, false}, {"below-all", netip.MustParseAddr("9.9.9.9"), false}} {
		b.Run(c.name, func(b *testing.B) {
			req := Request{ClientIP: c.ip, Identity: IdentityUser}
			if g.Decide(req).Allowed != c.want {
				b.Fatalf("Decide(%s).Allowed != %v", c.ip, c.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				sink = g.Decide(req)
			}
		})
	}
}

var sinkBool bool

// BenchmarkContains compares the two lookups over 100 separate ranges; the
// faster one is what Gate.contains uses.
func BenchmarkContains(b *testing.B) {
	g := benchGate(b)
	xs := make([]uint32, 1024)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range xs {
		xs[i] = ipv4Uint(netip.MustParseAddr("10.0.0.0")) + rng.Uint32()%(200*256)
	}
	for _, impl := range []struct {
		name string
		f    func([]ipRange, uint32) bool
	}{{"binary", containsBinary}, {"linear", containsLinear}} {
		b.Run(impl.name+"/last", func(b *testing.B) {
			x := g.ranges[99].lo + 5
			for b.Loop() {
				sinkBool = impl.f(g.ranges, x)
			}
		})
		b.Run(impl.name+"/random", func(b *testing.B) {
			i := 0
			for b.Loop() {
				sinkBool = impl.f(g.ranges, xs[i&1023])
				i++
			}
		})
	}
}
