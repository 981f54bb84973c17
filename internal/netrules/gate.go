package netrules

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Default actions of a networkRuleSet.
const (
	DefaultActionAllow = "Allow"
	DefaultActionDeny  = "Deny"
)

// Reasons a Decision gives; they are also the reason label of denial metrics
// and audit records.
const (
	ReasonPrivateEndpoint      = "private-endpoint"
	ReasonPublicAccessDisabled = "public-access-disabled"
	ReasonDefaultAllow         = "default-allow"
	ReasonIPRule               = "ip-rule"
	ReasonTrustedServiceBypass = "trusted-service-bypass"
	ReasonTaskBypass           = "task-bypass"
	ReasonDenied               = "denied"
)

// IdentityKind is the kind of identity behind a request's credentials, as the
// registry token carries it. Only two kinds can ever bypass the rules.
type IdentityKind uint8

const (
	IdentityNone                        IdentityKind = iota // anonymous, or not yet known
	IdentityUser                                            // a user with a password
	IdentityServicePrincipal                                // appId + client secret
	IdentityManagedIdentityUserAssigned                     // never bypasses, even when used by a task
	IdentityTaskSystemIdentity                              // a task's system-assigned identity
	IdentityTrustedService                                  // berth's own services, or identities marked trusted
	IdentityAdminUser                                       // the registry's admin user
	IdentityToken                                           // a registry token (scope map)
)

var identityNames = [...]string{
	IdentityNone:                        "none",
	IdentityUser:                        "user",
	IdentityServicePrincipal:            "servicePrincipal",
	IdentityManagedIdentityUserAssigned: "managedIdentityUserAssigned",
	IdentityTaskSystemIdentity:          "taskSystemIdentity",
	IdentityTrustedService:              "trustedService",
	IdentityAdminUser:                   "adminUser",
	IdentityToken:                       "token",
}

// String returns the name used in tokens, logs and audit records.
func (k IdentityKind) String() string {
	if int(k) < len(identityNames) {
		return identityNames[k]
	}
	return fmt.Sprintf("IdentityKind(%d)", uint8(k))
}

// ParseIdentityKind is the inverse of String; unknown names give false.
func ParseIdentityKind(s string) (IdentityKind, bool) {
	for i, n := range identityNames {
		if n == s {
			return IdentityKind(i), true
		}
	}
	return IdentityNone, false
}

// Policy is a registry's network settings as the management API stores them.
type Policy struct {
	PublicNetworkAccess   bool   // publicNetworkAccess == Enabled
	DefaultAction         string // networkRuleSet.defaultAction: Allow or Deny
	Rules                 []Rule // networkRuleSet.ipRules
	BypassTrustedServices bool   // networkRuleBypassOptions == AzureServices
	BypassForTasks        bool   // networkRuleBypassAllowedForTasks
}

// Request is what the gate needs to know about one data-plane request.
type Request struct {
	ClientIP        netip.Addr   // the TCP peer, or the forwarded address from a trusted proxy
	PrivateEndpoint bool         // arrived on an approved private endpoint of this registry
	Identity        IdentityKind // from a valid token; IdentityNone when there is none
}

// Decision is the gate's verdict and the branch that produced it.
type Decision struct {
	Allowed bool
	Reason  string
}

// ipRange is an inclusive range of IPv4 addresses as big-endian integers.
type ipRange struct{ lo, hi uint32 }

// Gate is a compiled Policy. It is immutable and safe for concurrent use.
type Gate struct {
	public        bool
	defaultAllow  bool
	bypassTrusted bool
	bypassTasks   bool
	ranges        []ipRange // sorted by lo, merged: no two overlap or touch
}

// Compile validates p (see NewRuleSet) and precompiles its rules into sorted,
// merged ranges. DefaultAction must be Allow or Deny (any case).
func Compile(p Policy) (*Gate, error) {
	g := &Gate{public: p.PublicNetworkAccess, bypassTrusted: p.BypassTrustedServices, bypassTasks: p.BypassForTasks}
	switch {
	case strings.EqualFold(p.DefaultAction, DefaultActionAllow):
		g.defaultAllow = true
	case strings.EqualFold(p.DefaultAction, DefaultActionDeny):
	default:
		return nil, fmt.Errorf("invalid default action %q: want %s or %s", p.DefaultAction, DefaultActionAllow, DefaultActionDeny)
	}
	rules, err := NewRuleSet(p.Rules)
	if err != nil {
		return nil, err
	}
	g.ranges = compileRanges(rules)
	return g, nil
}

func compileRanges(rules RuleSet) []ipRange {
	rs := make([]ipRange, 0, len(rules))
	for _, r := range rules {
		p, _, err := parseIPv4(r.Value)
		if err != nil {
			continue // unreachable: NewRuleSet validated every value
		}
		lo := ipv4Uint(p.Addr())
		hi := lo | uint32(uint64(1)<<(32-p.Bits())-1)
		rs = append(rs, ipRange{lo, hi})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].lo < rs[j].lo })
	merged := rs[:0]
	for _, r := range rs {
		if n := len(merged); n > 0 && uint64(r.lo) <= uint64(merged[n-1].hi)+1 {
			merged[n-1].hi = max(merged[n-1].hi, r.hi)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

func ipv4Uint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Decide applies ARCHITECTURE §4 step 3 in order: an approved private endpoint
// passes; with public access disabled only a bypass passes; otherwise
// defaultAction Allow passes, then a client address inside a rule, then the
// bypasses (trusted service when BypassTrustedServices, a task's
// system-assigned identity when BypassForTasks). Everything else is denied.
// IPv6 clients never match a rule; IPv4-mapped IPv6 addresses are unmapped
// first. A nil Gate denies everything.
func (g *Gate) Decide(req Request) Decision {
	if g == nil {
		return Decision{Reason: ReasonDenied}
	}
	if req.PrivateEndpoint {
		return Decision{Allowed: true, Reason: ReasonPrivateEndpoint}
	}
	if g.public {
		if g.defaultAllow {
			return Decision{Allowed: true, Reason: ReasonDefaultAllow}
		}
		if g.contains(req.ClientIP) {
			return Decision{Allowed: true, Reason: ReasonIPRule}
		}
	}
	switch {
	case req.Identity == IdentityTrustedService && g.bypassTrusted:
		return Decision{Allowed: true, Reason: ReasonTrustedServiceBypass}
	case req.Identity == IdentityTaskSystemIdentity && g.bypassTasks:
		return Decision{Allowed: true, Reason: ReasonTaskBypass}
	case !g.public:
		return Decision{Reason: ReasonPublicAccessDisabled}
	}
	return Decision{Reason: ReasonDenied}
}

// MayBypass reports whether any identity could pass where the address did
// not: the gate looks at a request's token only then.
func (g *Gate) MayBypass() bool { return g != nil && (g.bypassTrusted || g.bypassTasks) }

// contains reports whether ip falls inside a rule, by binary search over the
// merged ranges (measured faster than a linear scan at 100 rules; see
// BenchmarkContains).
func (g *Gate) contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.Is4() {
		return false
	}
	return containsBinary(g.ranges, ipv4Uint(ip))
}

// containsBinary finds the last range starting at or below x.
func containsBinary(rs []ipRange, x uint32) bool {
	i, j := 0, len(rs)
	for i < j {
		h := int(uint(i+j) >> 1)
		if rs[h].lo <= x {
			i = h + 1
		} else {
			j = h
		}
	}
	return i > 0 && x <= rs[i-1].hi
}

// containsLinear is kept for the benchmark that chose containsBinary.
func containsLinear(rs []ipRange, x uint32) bool {
	for _, r := range rs {
		if x < r.lo {
			return false
		}
		if x <= r.hi {
			return true
		}
	}
	return false
}

// DeniedMessage is the message of the DENIED error a denied client gets, as
// ARCHITECTURE §4 gives it. IPv4-mapped IPv6 addresses are shown as IPv4.
func DeniedMessage(ip netip.Addr, docsURL string) string {
	return "client with IP '" + ip.Unmap().String() + "' is not allowed access. Refer " + docsURL + " to grant access."
}
