// Package cron parses five-field cron expressions and computes when they
// fire, always in UTC, for the timer triggers of tasks.
package cron

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron expression. The zero Schedule never fires.
type Schedule struct {
	expr string
	// Bit i is set when value i matches. Day-of-week uses bits 0-6
	// (Sunday is 0; a 7 in the expression sets bit 0).
	minute, hour, dom, month, dow uint64
	// domStar and dowStar record a field written as exactly "*": only when
	// neither is does a day match if either field matches.
	domStar, dowStar bool
}

type field struct {
	name     string
	min, max int
	names    []string // names[i] is the value min+i; nil for numeric fields
}

var (
	minuteField = field{name: "minute", min: 0, max: 59}
	hourField   = field{name: "hour", min: 0, max: 23}
	domField    = field{name: "day-of-month", min: 1, max: 31}
	monthField  = field{name: "month", min: 1, max: 12,
		names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}}
	dowField = field{name: "day-of-week", min: 0, max: 7,
		names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
)

var macros = map[string]string{
	"@hourly":  "0 * * * *",
	"@daily":   "0 0 * * *",
	"@weekly":  "0 0 * * 0",
	"@monthly": "0 0 1 * *",
	"@yearly":  "0 0 1 1 *",
}

// Parse parses a cron expression: the five fields "minute hour
// day-of-month month day-of-week", each "*", a number, a range "a-b", a
// step "*/n", "a-b/n" or "a/n" (a to the field's maximum), or a
// comma-separated list of those. Months may be named Jan-Dec and weekdays
// Sun-Sat, in any case; 0 and 7 are both Sunday, and a range ending in
// Sunday ("Fri-Sun") runs to 7. When neither day-of-month nor day-of-week
// is exactly "*", a day matches if either does. The macros @hourly,
// @daily, @weekly, @monthly and @yearly stand for their usual expressions.
func Parse(expr string) (Schedule, error) {
	fail := func(format string, args ...any) (Schedule, error) {
		return Schedule{}, fmt.Errorf("cron %q: %s", expr, fmt.Sprintf(format, args...))
	}
	text := strings.TrimSpace(expr)
	if text == "" {
		return fail("empty expression")
	}
	if strings.HasPrefix(text, "@") {
		m, ok := macros[strings.ToLower(text)]
		if !ok {
			return fail("unsupported macro %q (supported: @hourly, @daily, @weekly, @monthly, @yearly)", text)
		}
		text = m
	}
	f := strings.Fields(text)
	switch {
	case len(f) == 6:
		return fail("6 fields given, but seconds are not supported: use 5 fields (minute hour day-of-month month day-of-week)")
	case len(f) != 5:
		return fail("want 5 fields (minute hour day-of-month month day-of-week), got %d", len(f))
	}
	s := Schedule{expr: expr, domStar: f[2] == "*", dowStar: f[4] == "*"}
	for i, dst := range []struct {
		fd  field
		set *uint64
	}{
		{minuteField, &s.minute},
		{hourField, &s.hour},
		{domField, &s.dom},
		{monthField, &s.month},
		{dowField, &s.dow},
	} {
		set, err := dst.fd.parse(f[i])
		if err != nil {
			return fail("%s: %v", dst.fd.name, err)
		}
		*dst.set = set
	}
	if s.dow&(1<<7) != 0 {
		s.dow = s.dow&^(1<<7) | 1
	}
	return s, nil
}

// parse returns the set of values that text, one field, selects.
func (f field) parse(text string) (uint64, error) {
	var set uint64
	for _, item := range strings.Split(text, ",") {
		if item == "" {
			return 0, fmt.Errorf("empty item in list %q", text)
		}
		base, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n <= 0 || !isDigits(stepText) {
				return 0, fmt.Errorf("step %q in %q is not a positive number", stepText, item)
			}
			step = n
		}
		// top ends "*" and "a/n": Sunday is counted once there, as 0.
		top := f.max
		if f.name == dowField.name {
			top = 6
		}
		var lo, hi int
		switch loText, hiText, isRange := strings.Cut(base, "-"); {
		case base == "*":
			lo, hi = f.min, top
		case isRange:
			var err error
			if lo, err = f.value(loText); err != nil {
				return 0, err
			}
			if hi, err = f.value(hiText); err != nil {
				return 0, err
			}
			if f.name == dowField.name && hi == 0 && lo > 0 {
				hi = 7 // "Fri-Sun"
			}
			if lo > hi {
				return 0, fmt.Errorf("range %q runs backwards", base)
			}
		default:
			var err error
			if lo, err = f.value(base); err != nil {
				return 0, err
			}
			hi = lo
			if hasStep {
				hi = max(lo, top)
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

// value parses one number or name of the field.
func (f field) value(text string) (int, error) {
	if isDigits(text) {
		n, err := strconv.Atoi(text)
		if err != nil || n < f.min || n > f.max {
			return 0, fmt.Errorf("%s is out of range %d-%d", text, f.min, f.max)
		}
		return n, nil
	}
	for i, name := range f.names {
		if strings.EqualFold(text, name) {
			return f.min + i, nil
		}
	}
	if f.names != nil {
		return 0, fmt.Errorf("%q is neither a number in %d-%d nor a name %s-%s", text, f.min, f.max,
			title(f.names[0]), title(f.names[len(f.names)-1]))
	}
	return 0, fmt.Errorf("%q is not a number in %d-%d", text, f.min, f.max)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// String returns the expression as given to Parse.
func (s Schedule) String() string { return s.expr }

// horizon bounds the search of Next.
const horizon = 5 // years

// Next returns the first minute matching s strictly after after, in UTC,
// or the zero time if none comes within five years (as for "0 0 30 2 *").
func (s Schedule) Next(after time.Time) time.Time {
	t := after.UTC().Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(horizon, 0, 0)
	for !t.After(limit) {
		y, mo, d := t.Date()
		h, mi := t.Hour(), t.Minute()
		switch {
		case s.month&(1<<uint(mo)) == 0:
			t = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
		case !s.dayMatches(t):
			t = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
		case s.hour&(1<<uint(h)) == 0:
			if nh, ok := nextBit(s.hour, h); ok {
				t = time.Date(y, mo, d, nh, 0, 0, 0, time.UTC)
			} else {
				t = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
			}
		case s.minute&(1<<uint(mi)) == 0:
			if nm, ok := nextBit(s.minute, mi); ok {
				t = time.Date(y, mo, d, h, nm, 0, 0, time.UTC)
			} else {
				t = time.Date(y, mo, d, h+1, 0, 0, 0, time.UTC)
			}
		default:
			return t
		}
	}
	return time.Time{}
}

// lookback bounds the search of Due. A schedule that fires at all fires at
// least once every eight years (Feb 29 skips 2100), so nothing is lost.
const lookback = 10 // years

// Due decides whether a task on schedule s should fire now, given the last
// time it fired (or, if it never did, when it was created or its schedule
// last changed). It returns the latest scheduled minute in (last, now] and
// true, or false if there is none. Runs missed while the server was down
// thus come down to one: the most recent. The search walks back day by
// day at most, over ten years at most, however old last is.
func Due(s Schedule, last, now time.Time) (fire time.Time, ok bool) {
	now, last = now.UTC(), last.UTC()
	if floor := now.AddDate(-lookback, 0, 0); last.Before(floor) {
		last = floor
	}
	// Search backwards from the minute containing now.
	t := now.Truncate(time.Minute)
	for t.After(last) {
		y, mo, d := t.Date()
		h, mi := t.Hour(), t.Minute()
		switch {
		case s.month&(1<<uint(mo)) == 0:
			t = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC).Add(-time.Minute)
		case !s.dayMatches(t):
			t = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Add(-time.Minute)
		case s.hour&(1<<uint(h)) == 0:
			if ph, ok := prevBit(s.hour, h); ok {
				t = time.Date(y, mo, d, ph, 59, 0, 0, time.UTC)
			} else {
				t = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Add(-time.Minute)
			}
		case s.minute&(1<<uint(mi)) == 0:
			if pm, ok := prevBit(s.minute, mi); ok {
				t = time.Date(y, mo, d, h, pm, 0, 0, time.UTC)
			} else {
				t = time.Date(y, mo, d, h, 0, 0, 0, time.UTC).Add(-time.Minute)
			}
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

func (s Schedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<uint(t.Day())) != 0
	dow := s.dow&(1<<uint(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

// nextBit returns the lowest set bit of set above i.
func nextBit(set uint64, i int) (int, bool) {
	rest := set >> uint(i+1) << uint(i+1)
	if rest == 0 {
		return 0, false
	}
	return bits.TrailingZeros64(rest), true
}

// prevBit returns the highest set bit of set below i.
func prevBit(set uint64, i int) (int, bool) {
	rest := set & (1<<uint(i) - 1)
	if rest == 0 {
		return 0, false
	}
	return 63 - bits.LeadingZeros64(rest), true
}
