// Package agentpool owns the rules of dedicated agent pools (docs/builds.md,
// "Agent pools"): the grammar of their names, how many agents one may
// have, the token each pool's agents present and how it is kept, and the
// egress address its agents leave from. The management API creates pools
// by these rules, the server runs their agents by them, and the agent API
// lets those agents in by their token.
//
// It knows no HTTP and no SQL: records are meta.AgentPool, read and
// written by its callers.
package agentpool

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/berth-project/berth/internal/storage/meta"
)

// MaxCount bounds the agents of one pool: they all run in each replica of
// the server and share its BuildKit.
const MaxCount = 10

// DefaultEgressPrefix is where pools without a private endpoint get their
// egress addresses from, one each (127.0.10.1, 127.0.10.2, …): loopback
// aliases on one machine, apart from the public pool's 127.0.1.0/24 and
// the private endpoints' 127.0.2.0/24.
var DefaultEgressPrefix = netip.MustParsePrefix("127.0.10.0/24")

var name = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidName reports whether s is a pool name: 1 to 64 letters, digits,
// '-' or '_', starting with a letter or digit (as public pools' names).
func ValidName(s string) bool { return name.MatchString(s) }

// NewToken makes a pool's token, and the hash it is found by.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = hex.EncodeToString(b)
	return token, TokenHash(token)
}

// TokenHash is what a pool's token is stored and found by.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// TokenLabel binds a pool's sealed token to the pool: a token sealed for
// one pool does not open as another's.
func TokenLabel(registryID int64, pool string) string {
	return fmt.Sprintf("berth/agent-pool-token/registry/%d/%s", registryID, pool)
}

// Egress is the address p's agents leave from. A pool with a private
// endpoint is inside that endpoint's network: its agents leave from the
// endpoint's own host address (on one machine, its loopback alias in
// 127.0.2.0/24), so the registry sees them come from where the endpoint
// is. Any other pool leaves from the address allotted to it.
func Egress(p meta.AgentPool) (netip.Addr, error) {
	if p.PrivateEndpointID != 0 {
		host, _, err := net.SplitHostPort(p.EndpointAddress)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("agent pool %s: private endpoint %s address %q: %w", p.Name, p.PrivateEndpoint, p.EndpointAddress, err)
		}
		if strings.EqualFold(host, "localhost") {
			return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("agent pool %s: private endpoint %s address %q: %w", p.Name, p.PrivateEndpoint, p.EndpointAddress, err)
		}
		return ip.Unmap(), nil
	}
	ip, err := netip.ParseAddr(p.Egress)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("agent pool %s: egress %q: %w", p.Name, p.Egress, err)
	}
	return ip, nil
}

// EgressPrefixes are p's egress addresses as prefixes, as service tags and
// network rules write them.
func EgressPrefixes(p meta.AgentPool) []string {
	ip, err := Egress(p)
	if err != nil {
		return []string{}
	}
	return []string{netip.PrefixFrom(ip, ip.BitLen()).String()}
}

// Allocate picks the lowest host address of prefix that no pool in used
// has, or false when all are taken.
func Allocate(prefix netip.Prefix, used []meta.AgentPool) (netip.Addr, bool) {
	taken := map[string]bool{}
	for _, p := range used {
		taken[p.Egress] = true
	}
	prefix = prefix.Masked()
	for ip := prefix.Addr().Next(); prefix.Contains(ip); ip = ip.Next() {
		last := !prefix.Contains(ip.Next())
		if last && ip.Is4() && prefix.Bits() < 31 {
			break // the broadcast address
		}
		if !taken[ip.String()] {
			return ip, true
		}
	}
	return netip.Addr{}, false
}
