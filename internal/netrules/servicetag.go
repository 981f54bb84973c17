package netrules

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"sort"
	"strings"
)

// Agent pool kinds.
const (
	PoolPublic    = "public"    // shared by every registry of a region; its egress is the service tag
	PoolDedicated = "dedicated" // one registry's, reaching it through a private endpoint
)

// ServiceTagPrefix is the start of every service tag's id: BerthTasks.<region>.
const ServiceTagPrefix = "BerthTasks."

// Pool is what service tags need of an agent pool.
type Pool struct {
	Name           string   `json:"name"`
	Location       string   `json:"location"`
	Kind           string   `json:"kind"`
	EgressPrefixes []string `json:"egressPrefixes"`
}

// Validate checks the pool's kind and that every egress prefix is an IPv4
// address or CIDR, so that a bad server config fails at start-up rather than
// silently shrinking a service tag.
func (p Pool) Validate() error {
	if p.Kind != PoolPublic && p.Kind != PoolDedicated {
		return fmt.Errorf("agent pool %q: kind %q is not %s or %s", p.Name, p.Kind, PoolPublic, PoolDedicated)
	}
	if strings.TrimSpace(p.Location) == "" {
		return fmt.Errorf("agent pool %q: location is empty", p.Name)
	}
	for _, e := range p.EgressPrefixes {
		if _, _, err := parseIPv4(e); err != nil {
			return fmt.Errorf("agent pool %q: egress prefix: %w", p.Name, err)
		}
	}
	return nil
}

// ServiceTagProperties is the properties object of a service tag.
type ServiceTagProperties struct {
	Region          string   `json:"region"`
	AddressPrefixes []string `json:"addressPrefixes"`
	ChangeNumber    int      `json:"changeNumber"`
}

// ServiceTag is one entry of the values list of list-service-tags.
type ServiceTag struct {
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Properties ServiceTagProperties `json:"properties"`
}

// ServiceTags returns the service tags of region: one tag, BerthTasks.<region>
// (region as given, matched to pool locations without regard to case), whose
// address prefixes are the egress prefixes of the region's public pools, in
// CIDR form ("127.0.1.10" → "127.0.1.10/32"), deduplicated and in address
// order. A region without public pools has no tags (an empty, non-nil slice).
// Invalid prefixes are skipped; Pool.Validate refuses them at start-up.
//
// ChangeNumber is derived from the prefixes, so every replica reports the
// same number and it changes whenever the prefixes do; it is not monotonic.
func ServiceTags(region string, pools []Pool) []ServiceTag {
	region = strings.TrimSpace(region)
	tags := []ServiceTag{}
	if region == "" {
		return tags
	}
	found := false
	var prefixes []netip.Prefix
	for _, p := range pools {
		if p.Kind != PoolPublic || !strings.EqualFold(strings.TrimSpace(p.Location), region) {
			continue
		}
		found = true
		for _, e := range p.EgressPrefixes {
			if q, _, err := parseIPv4(e); err == nil {
				prefixes = append(prefixes, q)
			}
		}
	}
	if !found {
		return tags
	}
	sort.Slice(prefixes, func(i, j int) bool {
		if c := prefixes[i].Addr().Compare(prefixes[j].Addr()); c != 0 {
			return c < 0
		}
		return prefixes[i].Bits() < prefixes[j].Bits()
	})
	out := []string{}
	for i, q := range prefixes {
		if i > 0 && q == prefixes[i-1] {
			continue
		}
		out = append(out, q.String())
	}
	id := ServiceTagPrefix + region
	return append(tags, ServiceTag{
		ID:   id,
		Name: id,
		Properties: ServiceTagProperties{
			Region:          region,
			AddressPrefixes: out,
			ChangeNumber:    changeNumber(out),
		},
	})
}

// changeNumber is a positive 31-bit hash of the canonical prefix list.
func changeNumber(prefixes []string) int {
	h := fnv.New32a()
	for _, p := range prefixes {
		h.Write([]byte(p))
		h.Write([]byte{'\n'})
	}
	n := int(h.Sum32() & 0x7fffffff)
	if n == 0 {
		n = 1
	}
	return n
}
