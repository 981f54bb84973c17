package netrules

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// MaxRules is the most IP rules a registry may hold, as in the managed registry.
const MaxRules = 100

// ActionAllow is the only action an IP rule may have.
const ActionAllow = "Allow"

var (
	// ErrInvalidRule is wrapped by every error about a malformed rule value or action.
	ErrInvalidRule = errors.New("invalid ip rule")
	// ErrTooManyRules is wrapped when a rule set would hold more than MaxRules rules.
	ErrTooManyRules = errors.New("too many ip rules")
)

// Rule is one entry of a registry's networkRuleSet.ipRules.
type Rule struct {
	// Value is the normalised IPv4 address or CIDR (see ParseRule).
	Value  string `json:"value"`
	Action string `json:"action"`
}

// ParseRule parses an IPv4 address or CIDR into a Rule with action Allow.
//
// Surrounding whitespace is trimmed. The form is the managed registry's: a
// single address stays an address ("10.0.0.5"), a CIDR keeps its length and
// is normalised to its network address ("10.1.2.3/24" → "10.1.2.0/24",
// "10.0.0.5/32" stays "10.0.0.5/32"). IPv6 (including IPv4-mapped IPv6),
// prefix lengths above 32, short addresses and octets with leading zeros are
// refused with an error that names the input and wraps ErrInvalidRule.
func ParseRule(s string) (Rule, error) {
	p, single, err := parseIPv4(s)
	if err != nil {
		return Rule{}, err
	}
	return ruleFrom(p, single), nil
}

// parseIPv4 parses s as an IPv4 address (single is true, the prefix is /32) or
// an IPv4 CIDR (masked to its network address).
func parseIPv4(s string) (p netip.Prefix, single bool, err error) {
	bad := func(reason string) error { return fmt.Errorf("%w %q: %s", ErrInvalidRule, s, reason) }
	t := strings.TrimSpace(s)
	if t == "" {
		return netip.Prefix{}, false, bad("empty; want an IPv4 address or CIDR such as 10.0.0.1 or 10.0.0.0/24")
	}
	if strings.ContainsRune(t, ':') {
		return netip.Prefix{}, false, bad("IPv6 is not supported; rules are IPv4 only")
	}
	addrPart, bitsPart, hasBits := strings.Cut(t, "/")
	addr, perr := netip.ParseAddr(addrPart)
	if perr != nil || !addr.Is4() {
		if hasLeadingZeroOctet(addrPart) {
			return netip.Prefix{}, false, bad("an octet has a leading zero, which is not allowed")
		}
		return netip.Prefix{}, false, bad("not an IPv4 address or CIDR; want four decimal octets such as 10.0.0.1, optionally with /0 to /32")
	}
	if !hasBits {
		return netip.PrefixFrom(addr, 32), true, nil
	}
	bits, ok := parseBits(bitsPart)
	if !ok {
		return netip.Prefix{}, false, bad("prefix length must be a number from 0 to 32")
	}
	return netip.PrefixFrom(addr, bits).Masked(), false, nil
}

// parseBits accepts "0" to "32" written without sign or leading zeros.
func parseBits(s string) (int, bool) {
	if s == "" || len(s) > 2 || (len(s) == 2 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= 32
}

func hasLeadingZeroOctet(s string) bool {
	for _, o := range strings.Split(s, ".") {
		if len(o) > 1 && o[0] == '0' && strings.Trim(o, "0123456789") == "" {
			return true
		}
	}
	return false
}

// RuleSet is a validated list of IP rules: every value normalised, every action
// Allow, no two rules covering the same range, at most MaxRules entries.
// Overlapping rules of different ranges are allowed. Methods never modify the
// receiver's backing array; they return a new set.
type RuleSet []Rule

// NewRuleSet validates a whole list of rules, as a PATCH of networkRuleSet or a
// stored registry gives it. Values are normalised, an empty action means Allow,
// and a rule covering the same range as an earlier one is dropped (the first
// spelling is kept). More than MaxRules distinct rules is an error.
func NewRuleSet(rules []Rule) (RuleSet, error) {
	out := make(RuleSet, 0, len(rules))
	seen := make(map[netip.Prefix]bool, len(rules))
	for _, r := range rules {
		if r.Action != "" && !strings.EqualFold(r.Action, ActionAllow) {
			return nil, fmt.Errorf("%w %q: action %q is not supported; the only action is %s", ErrInvalidRule, r.Value, r.Action, ActionAllow)
		}
		p, single, err := parseIPv4(r.Value)
		if err != nil {
			return nil, err
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, ruleFrom(p, single))
	}
	if len(out) > MaxRules {
		return nil, fmt.Errorf("%w: %d given, at most %d are allowed", ErrTooManyRules, len(out), MaxRules)
	}
	return out, nil
}

// Add returns the set with value added and added=true, or the set unchanged and
// added=false when a rule already covers the same range ("10.0.0.5" and
// "10.0.0.5/32" are the same range). Adding a new rule to a full set is an
// error wrapping ErrTooManyRules.
func (s RuleSet) Add(value string) (out RuleSet, added bool, err error) {
	p, single, err := parseIPv4(value)
	if err != nil {
		return s, false, err
	}
	if s.index(p) >= 0 {
		return s, false, nil
	}
	if len(s) >= MaxRules {
		return s, false, fmt.Errorf("%w: cannot add %q, the registry already has %d ip rules, the most allowed", ErrTooManyRules, value, MaxRules)
	}
	out = make(RuleSet, len(s), len(s)+1)
	copy(out, s)
	return append(out, ruleFrom(p, single)), true, nil
}

// Remove returns the set without the rule covering the same range as value, and
// removed=false (set unchanged) when there is none.
func (s RuleSet) Remove(value string) (out RuleSet, removed bool, err error) {
	p, _, err := parseIPv4(value)
	if err != nil {
		return s, false, err
	}
	i := s.index(p)
	if i < 0 {
		return s, false, nil
	}
	out = make(RuleSet, 0, len(s)-1)
	out = append(out, s[:i]...)
	return append(out, s[i+1:]...), true, nil
}

func (s RuleSet) index(p netip.Prefix) int {
	for i, r := range s {
		q, _, err := parseIPv4(r.Value)
		if err == nil && q == p {
			return i
		}
	}
	return -1
}

func ruleFrom(p netip.Prefix, single bool) Rule {
	if single {
		return Rule{Value: p.Addr().String(), Action: ActionAllow}
	}
	return Rule{Value: p.String(), Action: ActionAllow}
}
