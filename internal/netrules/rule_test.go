package netrules

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	good := []struct{ in, want string }{
		{"10.0.0.5", "10.0.0.5"},
		{"  10.0.0.5\t\n", "10.0.0.5"},
		{"10.1.2.3/24", "10.1.2.0/24"},
		{"10.0.0.5/32", "10.0.0.5/32"},
		{"127.0.0.1/32", "127.0.0.1/32"},
		{"127.0.1.0/24", "127.0.1.0/24"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"255.255.255.255/0", "0.0.0.0/0"},
		{"255.255.255.255", "255.255.255.255"},
		{"0.0.0.0", "0.0.0.0"},
		{"192.168.7.200/30", "192.168.7.200/30"},
		{"192.168.7.203/30", "192.168.7.200/30"},
		{"172.16.5.4/12", "172.16.0.0/12"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.0.0.0/0", "0.0.0.0/0"},
	}
	for _, c := range good {
		r, err := ParseRule(c.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", c.in, err)
			continue
		}
		if r != (Rule{Value: c.want, Action: "Allow"}) {
			t.Errorf("ParseRule(%q) = %+v, want value %q action Allow", c.in, r, c.want)
		}
	}

	bad := []struct{ in, wantMsg string }{
		{"", "empty"},
		{"   ", "empty"},
		{"not-an-ip", "not an IPv4 address"},
		{"1.2.3", "not an IPv4 address"},
		{"1.2.3.4.5", "not an IPv4 address"},
		{"256.0.0.1", "not an IPv4 address"},
		{"10.0.0.0/33", "prefix length must be a number from 0 to 32"},
		{"10.0.0.0/-1", "prefix length"},
		{"10.0.0.0/+8", "prefix length"},
		{"10.0.0.0/08", "prefix length"},
		{"10.0.0.0/", "prefix length"},
		{"10.0.0.0/ 8", "prefix length"},
		{"10.0.0.0/8/8", "prefix length"},
		{"10.0.0.0/100", "prefix length"},
		{"010.0.0.1", "leading zero"},
		{"10.0.0.01/32", "leading zero"},
		{"10.00.0.1", "leading zero"},
		{"10.0.0.1 10.0.0.2", "not an IPv4 address"},
		{"/24", "not an IPv4 address"},
		{"::1", "IPv4 only"},
		{"2001:db8::/32", "IPv4 only"},
		{"::ffff:10.0.0.1", "IPv4 only"},
		{"fe80::1%eth0", "IPv4 only"},
		{" ::/0 ", "IPv4 only"},
		{"10.0.0.1%eth0", "not an IPv4 address"},
	}
	for _, c := range bad {
		r, err := ParseRule(c.in)
		if err == nil {
			t.Errorf("ParseRule(%q) = %+v, want an error", c.in, r)
			continue
		}
		if !errors.Is(err, ErrInvalidRule) {
			t.Errorf("ParseRule(%q) error %v does not wrap ErrInvalidRule", c.in, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, c.wantMsg) {
			t.Errorf("ParseRule(%q) error %q does not say %q", c.in, msg, c.wantMsg)
		}
		if !strings.Contains(msg, fmt.Sprintf("%q", c.in)) {
			t.Errorf("ParseRule(%q) error %q does not name the input", c.in, msg)
		}
		if r != (Rule{}) {
			t.Errorf("ParseRule(%q) returned %+v with its error", c.in, r)
		}
	}
}

func values(s RuleSet) []string {
	var v []string
	for _, r := range s {
		v = append(v, r.Value)
	}
	return v
}

func fullSet(t *testing.T) RuleSet {
	t.Helper()
	var s RuleSet
	for i := range MaxRules {
		var added bool
		var err error
		s, added, err = s.Add(fmt.Sprintf("10.%d.%d.0/24", i/256, i%256))
		if err != nil || !added {
			t.Fatalf("adding rule %d: added=%v err=%v", i+1, added, err)
		}
	}
	return s
}

func TestRuleSetLimit(t *testing.T) {
	s := fullSet(t)
	if len(s) != 100 {
		t.Fatalf("len = %d, want 100", len(s))
	}
	out, added, err := s.Add("192.168.0.1")
	if err == nil || added {
		t.Fatalf("101st rule: added=%v err=%v, want refused", added, err)
	}
	if !errors.Is(err, ErrTooManyRules) || !strings.Contains(err.Error(), "100") || !strings.Contains(err.Error(), `"192.168.0.1"`) {
		t.Errorf("101st rule error %q: want ErrTooManyRules naming the limit 100 and the value", err)
	}
	if len(out) != 100 || len(s) != 100 {
		t.Errorf("after refusal: len(out)=%d len(s)=%d, want 100 and 100", len(out), len(s))
	}
	// Re-adding an existing rule to a full set is still a no-op, not an error.
	if out, added, err := s.Add("10.0.5.7/24"); err != nil || added || len(out) != 100 {
		t.Errorf("re-adding to a full set: len=%d added=%v err=%v, want 100 false nil", len(out), added, err)
	}
	// A bad value is reported as bad even on a full set.
	if _, _, err := s.Add("::1"); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("IPv6 on a full set: err=%v, want ErrInvalidRule", err)
	}

	// The same limit applies to a whole list.
	list := append([]Rule(nil), s...)
	if got, err := NewRuleSet(list); err != nil || len(got) != 100 {
		t.Fatalf("NewRuleSet(100 rules): len=%d err=%v", len(got), err)
	}
	list = append(list, Rule{Value: "192.168.0.1"})
	_, err = NewRuleSet(list)
	if !errors.Is(err, ErrTooManyRules) || !strings.Contains(err.Error(), "101") || !strings.Contains(err.Error(), "at most 100") {
		t.Errorf("NewRuleSet(101 rules) error %v: want ErrTooManyRules with 101 and at most 100", err)
	}
	// 101 entries that are 100 distinct ranges are fine: duplicates do not count.
	list[100] = Rule{Value: " 10.0.0.9/24 "}
	if got, err := NewRuleSet(list); err != nil || len(got) != 100 {
		t.Errorf("NewRuleSet(100 distinct + 1 duplicate): len=%d err=%v, want 100 nil", len(got), err)
	}
}

func TestRuleSetDuplicatesAndOverlaps(t *testing.T) {
	var s RuleSet
	steps := []struct {
		add       string
		wantAdded bool
		want      []string
	}{
		{"10.0.0.5", true, []string{"10.0.0.5"}},
		{"10.0.0.5", false, []string{"10.0.0.5"}},
		{" 10.0.0.5 ", false, []string{"10.0.0.5"}},
		{"10.0.0.5/32", false, []string{"10.0.0.5"}}, // the same range, first spelling kept
		{"10.0.0.0/24", true, []string{"10.0.0.5", "10.0.0.0/24"}},
		{"10.0.0.77/24", false, []string{"10.0.0.5", "10.0.0.0/24"}},
		{"10.0.0.0/16", true, []string{"10.0.0.5", "10.0.0.0/24", "10.0.0.0/16"}}, // overlapping is allowed
	}
	for _, st := range steps {
		before := append(RuleSet(nil), s...)
		out, added, err := s.Add(st.add)
		if err != nil {
			t.Fatalf("Add(%q): %v", st.add, err)
		}
		if added != st.wantAdded || fmt.Sprint(values(out)) != fmt.Sprint(st.want) {
			t.Errorf("Add(%q) = %v added=%v, want %v added=%v", st.add, values(out), added, st.want, st.wantAdded)
		}
		if fmt.Sprint(s) != fmt.Sprint(before) {
			t.Errorf("Add(%q) modified its receiver", st.add)
		}
		s = out
	}
	for _, r := range s {
		if r.Action != "Allow" {
			t.Errorf("rule %q has action %q", r.Value, r.Action)
		}
	}

	out, removed, err := s.Remove("10.0.0.9/24")
	if err != nil || !removed || fmt.Sprint(values(out)) != "[10.0.0.5 10.0.0.0/16]" {
		t.Errorf("Remove(10.0.0.9/24) = %v removed=%v err=%v", values(out), removed, err)
	}
	if len(s) != 3 {
		t.Errorf("Remove modified its receiver: %v", values(s))
	}
	out, removed, err = out.Remove("10.9.9.9")
	if err != nil || removed || len(out) != 2 {
		t.Errorf("Remove(absent) = %v removed=%v err=%v, want unchanged", values(out), removed, err)
	}
	if _, _, err := out.Remove("not-an-ip"); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("Remove(not-an-ip) err=%v, want ErrInvalidRule", err)
	}
	if _, _, err := out.Add("10.0.0.0/33"); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("Add(10.0.0.0/33) err=%v, want ErrInvalidRule", err)
	}
}

func TestNewRuleSet(t *testing.T) {
	got, err := NewRuleSet([]Rule{
		{Value: "10.1.2.3/24"},
		{Value: "10.1.2.0/24", Action: "Allow"},
		{Value: " 192.168.1.1 ", Action: "allow"},
		{Value: "192.168.1.0/24", Action: "Allow"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := RuleSet{{"10.1.2.0/24", "Allow"}, {"192.168.1.1", "Allow"}, {"192.168.1.0/24", "Allow"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("NewRuleSet = %v, want %v", got, want)
	}
	if _, err := NewRuleSet([]Rule{{Value: "10.0.0.1", Action: "Deny"}}); !errors.Is(err, ErrInvalidRule) || !strings.Contains(err.Error(), `"Deny"`) {
		t.Errorf("action Deny: err=%v, want ErrInvalidRule naming the action", err)
	}
	if _, err := NewRuleSet([]Rule{{Value: "10.0.0.1"}, {Value: "2001:db8::1"}}); err == nil || !strings.Contains(err.Error(), "IPv4 only") {
		t.Errorf("IPv6 in a list: err=%v, want IPv4 only", err)
	}
	if got, err := NewRuleSet(nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("NewRuleSet(nil) = %#v, %v; want an empty non-nil set", got, err)
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"10.0.0.5", "10.1.2.3/24", " 0.0.0.0/0 ", "10.0.0.0/33", "010.0.0.1", "::1", "::ffff:1.2.3.4", "1.2.3", "", "not-an-ip", "1.2.3.4/08", "10.0.0.1%x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("ParseRule(%q) error %v does not wrap ErrInvalidRule", s, err)
			}
			return
		}
		if strings.Contains(s, ":") {
			t.Fatalf("ParseRule(%q) accepted something with a colon: %+v", s, r)
		}
		again, err := ParseRule(r.Value)
		if err != nil || again != r {
			t.Fatalf("ParseRule(%q) = %q, which re-parses to %+v, %v", s, r.Value, again, err)
		}
		var p netip.Prefix
		if strings.Contains(r.Value, "/") {
			p, err = netip.ParsePrefix(r.Value)
			if err == nil && p != p.Masked() {
				t.Fatalf("ParseRule(%q) = %q, not masked", s, r.Value)
			}
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(r.Value)
			p = netip.PrefixFrom(a, 32)
		}
		if err != nil || !p.Addr().Is4() || r.Action != "Allow" {
			t.Fatalf("ParseRule(%q) = %+v: not an IPv4 Allow rule (%v)", s, r, err)
		}
	})
}
