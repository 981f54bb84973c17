package cron

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// set returns the bit set of vals.
func set(vals ...int) uint64 {
	var s uint64
	for _, v := range vals {
		s |= 1 << uint(v)
	}
	return s
}

// span returns the bit set of lo..hi stepping by step.
func span(lo, hi, step int) uint64 {
	var s uint64
	for v := lo; v <= hi; v += step {
		s |= 1 << uint(v)
	}
	return s
}

var (
	allMin   = span(0, 59, 1)
	allHour  = span(0, 23, 1)
	allDOM   = span(1, 31, 1)
	allMonth = span(1, 12, 1)
	allDOW   = span(0, 6, 1)
)

func dump(s Schedule) string {
	return fmt.Sprintf("{min %x hour %x dom %x month %x dow %x domStar %v dowStar %v}",
		s.minute, s.hour, s.dom, s.month, s.dow, s.domStar, s.dowStar)
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		expr                          string
		minute, hour, dom, month, dow uint64
		domStar, dowStar              bool
	}{
		{"* * * * *", allMin, allHour, allDOM, allMonth, allDOW, true, true},
		{"0 1 * * *", set(0), set(1), allDOM, allMonth, allDOW, true, true},
		{"  5,10,15 */6 * * *  ", set(5, 10, 15), set(0, 6, 12, 18), allDOM, allMonth, allDOW, true, true},
		{"0-10/5 8-17 * * *", set(0, 5, 10), span(8, 17, 1), allDOM, allMonth, allDOW, true, true},
		{"30/10 * * * *", set(30, 40, 50), allHour, allDOM, allMonth, allDOW, true, true},
		{"*/90 * * * *", set(0), allHour, allDOM, allMonth, allDOW, true, true},
		{"0 0 1,15 * *", set(0), set(0), set(1, 15), allMonth, allDOW, false, true},
		{"0 0 31 12 *", set(0), set(0), set(31), set(12), allDOW, false, true},
		{"0 0 * jan,JUL,Dec *", set(0), set(0), allDOM, set(1, 7, 12), allDOW, true, true},
		{"0 0 * Mar-May *", set(0), set(0), allDOM, set(3, 4, 5), allDOW, true, true},
		{"0 0 * */3 *", set(0), set(0), allDOM, set(1, 4, 7, 10), allDOW, true, true},
		{"0 9 * * mon-FRI", set(0), set(9), allDOM, allMonth, span(1, 5, 1), true, false},
		{"0 9 * * 0", set(0), set(9), allDOM, allMonth, set(0), true, false},
		{"0 9 * * 7", set(0), set(9), allDOM, allMonth, set(0), true, false},
		{"0 9 * * sun", set(0), set(9), allDOM, allMonth, set(0), true, false},
		{"0 9 * * 5-7", set(0), set(9), allDOM, allMonth, set(0, 5, 6), true, false},
		{"0 9 * * Fri-Sun", set(0), set(9), allDOM, allMonth, set(0, 5, 6), true, false},
		{"0 9 * * 0-7", set(0), set(9), allDOM, allMonth, allDOW, true, false},
		{"0 9 * * */2", set(0), set(9), allDOM, allMonth, set(0, 2, 4, 6), true, false},
		{"0 9 * * 1/2", set(0), set(9), allDOM, allMonth, set(1, 3, 5), true, false},
		{"0 9 13 * Fri", set(0), set(9), set(13), allMonth, set(5), false, false},
		{"@hourly", set(0), allHour, allDOM, allMonth, allDOW, true, true},
		{"@daily", set(0), set(0), allDOM, allMonth, allDOW, true, true},
		{"@Weekly", set(0), set(0), allDOM, allMonth, set(0), true, false},
		{"@monthly", set(0), set(0), set(1), allMonth, allDOW, false, true},
		{"@yearly", set(0), set(0), set(1), set(1), allDOW, false, true},
		{"59 23 31 2 *", set(59), set(23), set(31), set(2), allDOW, false, true}, // valid, never fires
	}
	for _, tt := range tests {
		s, err := Parse(tt.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		want := Schedule{tt.expr, tt.minute, tt.hour, tt.dom, tt.month, tt.dow, tt.domStar, tt.dowStar}
		if s != want {
			t.Errorf("Parse(%q) = %s, want %s", tt.expr, dump(s), dump(want))
		}
		if s.String() != tt.expr {
			t.Errorf("Parse(%q).String() = %q", tt.expr, s.String())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"0 25 * * *", `cron "0 25 * * *": hour: 25 is out of range 0-23`},
		{"60 * * * *", `cron "60 * * * *": minute: 60 is out of range 0-59`},
		{"0 0 0 * *", `cron "0 0 0 * *": day-of-month: 0 is out of range 1-31`},
		{"0 0 32 * *", `cron "0 0 32 * *": day-of-month: 32 is out of range 1-31`},
		{"0 0 * 13 *", `cron "0 0 * 13 *": month: 13 is out of range 1-12`},
		{"0 0 * 0 *", `cron "0 0 * 0 *": month: 0 is out of range 1-12`},
		{"0 0 * * 8", `cron "0 0 * * 8": day-of-week: 8 is out of range 0-7`},
		{"0 0 * * 1-9", `cron "0 0 * * 1-9": day-of-week: 9 is out of range 0-7`},
		{"0 0 * Foo *", `cron "0 0 * Foo *": month: "Foo" is neither a number in 1-12 nor a name Jan-Dec`},
		{"0 0 * * Mun", `cron "0 0 * * Mun": day-of-week: "Mun" is neither a number in 0-7 nor a name Sun-Sat`},
		{"0 0 * * Monday", `cron "0 0 * * Monday": day-of-week: "Monday" is neither a number in 0-7 nor a name Sun-Sat`},
		{"x * * * *", `cron "x * * * *": minute: "x" is not a number in 0-59`},
		{"0 Jan * * *", `cron "0 Jan * * *": hour: "Jan" is not a number in 0-23`},
		{"-1 * * * *", `cron "-1 * * * *": minute: "" is not a number in 0-59`},
		{"+1 * * * *", `cron "+1 * * * *": minute: "+1" is not a number in 0-59`},
		{"5- * * * *", `cron "5- * * * *": minute: "" is not a number in 0-59`},
		{"10-5 * * * *", `cron "10-5 * * * *": minute: range "10-5" runs backwards`},
		{"*/0 * * * *", `cron "*/0 * * * *": minute: step "0" in "*/0" is not a positive number`},
		{"*/ * * * *", `cron "*/ * * * *": minute: step "" in "*/" is not a positive number`},
		{"*/+2 * * * *", `cron "*/+2 * * * *": minute: step "+2" in "*/+2" is not a positive number`},
		{"1,,2 * * * *", `cron "1,,2 * * * *": minute: empty item in list "1,,2"`},
		{"1, * * * *", `cron "1, * * * *": minute: empty item in list "1,"`},
		{"99999999999999999999 * * * *", `cron "99999999999999999999 * * * *": minute: 99999999999999999999 is out of range 0-59`},
		{"", `cron "": empty expression`},
		{"   ", `cron "   ": empty expression`},
		{"* * * *", `cron "* * * *": want 5 fields (minute hour day-of-month month day-of-week), got 4`},
		{"0 0 0 * * * 2030", `cron "0 0 0 * * * 2030": want 5 fields (minute hour day-of-month month day-of-week), got 7`},
		{"0 0 1 * * *", `cron "0 0 1 * * *": 6 fields given, but seconds are not supported: use 5 fields (minute hour day-of-month month day-of-week)`},
		{"@reboot", `cron "@reboot": unsupported macro "@reboot" (supported: @hourly, @daily, @weekly, @monthly, @yearly)`},
		{"@every 5m", `cron "@every 5m": unsupported macro "@every 5m" (supported: @hourly, @daily, @weekly, @monthly, @yearly)`},
		{"@annually", `cron "@annually": unsupported macro "@annually" (supported: @hourly, @daily, @weekly, @monthly, @yearly)`},
	}
	for _, tt := range tests {
		s, err := Parse(tt.expr)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error", tt.expr, dump(s))
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q) error:\n got %s\nwant %s", tt.expr, err, tt.want)
		}
		if s != (Schedule{}) {
			t.Errorf("Parse(%q) returned a non-zero Schedule with its error", tt.expr)
		}
	}
}

func mustParse(t testing.TB, expr string) Schedule {
	t.Helper()
	s, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNext(t *testing.T) {
	tests := []struct{ expr, after, want string }{
		// Strictly after, at minute granularity.
		{"* * * * *", "2024-05-10 10:00:00", "2024-05-10 10:01:00"},
		{"* * * * *", "2024-05-10 10:00:59", "2024-05-10 10:01:00"},
		{"0 1 * * *", "2024-05-10 01:00:00", "2024-05-11 01:00:00"},
		{"0 1 * * *", "2024-05-10 00:59:59", "2024-05-10 01:00:00"},
		{"*/15 * * * *", "2024-05-10 10:50:00", "2024-05-10 11:00:00"},
		{"5,10 8-9 * * *", "2024-05-10 09:10:00", "2024-05-11 08:05:00"},
		// Month and year ends.
		{"0 0 * * *", "2024-01-31 12:00:00", "2024-02-01 00:00:00"},
		{"59 23 * * *", "2024-12-31 23:59:00", "2025-01-01 23:59:00"},
		{"0 0 1 1 *", "2024-06-01 00:00:00", "2025-01-01 00:00:00"},
		{"@yearly", "2024-12-31 23:59:59", "2025-01-01 00:00:00"},
		{"@monthly", "2024-04-15 00:00:00", "2024-05-01 00:00:00"},
		{"0 12 31 * *", "2024-04-01 00:00:00", "2024-05-31 12:00:00"}, // skips 30-day April
		{"0 0 30 * *", "2024-01-30 00:00:00", "2024-03-30 00:00:00"},  // skips February
		// Leap years.
		{"0 0 29 2 *", "2024-01-01 00:00:00", "2024-02-29 00:00:00"},
		{"0 0 29 2 *", "2024-02-29 00:00:00", "2028-02-29 00:00:00"},
		{"0 0 29 2 *", "2023-03-01 00:00:00", "2024-02-29 00:00:00"},
		{"0 0 * 2 *", "2023-02-28 00:00:00", "2024-02-01 00:00:00"},
		{"0 0 * 2 *", "2024-02-28 00:00:00", "2024-02-29 00:00:00"},
		{"0 0 1 3 *", "2024-02-28 10:00:00", "2024-03-01 00:00:00"},
		// Never: nothing within five years.
		{"0 0 30 2 *", "2024-01-01 00:00:00", ""},
		{"0 0 31 4,6,9,11 *", "2024-01-01 00:00:00", ""},
		{"0 0 29 2 *", "2096-03-01 00:00:00", ""}, // 2100 is not a leap year
		// Day-of-month and day-of-week: either when both are restricted.
		// 2024-09-13 is a Friday; 2024-09-01 a Sunday.
		{"0 0 13 * Fri", "2024-09-01 00:00:00", "2024-09-06 00:00:00"}, // a Friday
		{"0 0 13 * Fri", "2024-09-10 00:00:00", "2024-09-13 00:00:00"}, // both
		{"0 0 13 * Fri", "2024-10-05 00:00:00", "2024-10-11 00:00:00"}, // a Friday before the 13th
		{"0 0 13 * Mon", "2024-10-08 00:00:00", "2024-10-13 00:00:00"}, // the 13th, a Sunday
		{"0 0 1,15 * Wed", "2024-09-01 00:00:00", "2024-09-04 00:00:00"},
		// ...and both when one is "*".
		{"0 0 * * Fri", "2024-09-01 00:00:00", "2024-09-06 00:00:00"},
		{"0 0 13 * *", "2024-09-01 00:00:00", "2024-09-13 00:00:00"},
		{"0 0 */2 * Mon", "2024-09-03 00:00:00", "2024-09-05 00:00:00"}, // "*/2" restricts: either
		// Sunday as 0, 7 and by name.
		{"0 10 * * 0", "2024-09-02 00:00:00", "2024-09-08 10:00:00"},
		{"0 10 * * 7", "2024-09-02 00:00:00", "2024-09-08 10:00:00"},
		{"0 10 * * SUN", "2024-09-02 00:00:00", "2024-09-08 10:00:00"},
		{"0 10 * * Sat-Sun", "2024-09-02 00:00:00", "2024-09-07 10:00:00"},
		{"0 10 * * 6-7", "2024-09-07 10:00:00", "2024-09-08 10:00:00"},
		// Names.
		{"0 0 1 Dec *", "2024-12-01 00:00:00", "2025-12-01 00:00:00"},
		{"0 9 * jun-aug mon", "2024-01-01 00:00:00", "2024-06-03 09:00:00"},
		{"@weekly", "2024-09-01 00:00:00", "2024-09-08 00:00:00"},
		{"@hourly", "2024-09-01 23:30:00", "2024-09-02 00:00:00"},
	}
	for _, tt := range tests {
		s := mustParse(t, tt.expr)
		got := s.Next(utc(tt.after))
		var want time.Time
		if tt.want != "" {
			want = utc(tt.want)
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Parse(%q).Next(%s) = %v, want %v", tt.expr, tt.after, got, want)
		}
	}
}

func TestNextConvertsToUTC(t *testing.T) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	s := mustParse(t, "0 1 * * *")
	// 2024-05-10 06:00 in the zone is 00:30 UTC: next is 01:00 UTC that day.
	got := s.Next(time.Date(2024, 5, 10, 6, 0, 0, 0, zone))
	if want := utc("2024-05-10 01:00:00"); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Next = %v, want %v", got, want)
	}
}

func TestZeroScheduleNeverFires(t *testing.T) {
	var s Schedule
	if got := s.Next(utc("2024-01-01 00:00:00")); !got.IsZero() {
		t.Errorf("Next = %v", got)
	}
	if got, ok := Due(s, utc("2000-01-01 00:00:00"), utc("2024-01-01 00:00:00")); ok {
		t.Errorf("Due = %v, true", got)
	}
}

func TestDue(t *testing.T) {
	tests := []struct {
		expr, last, now string
		want            string // "" for none
	}{
		// Down for a week: seven nightly runs missed, one fires, the latest.
		{"0 1 * * *", "2024-05-01 01:00:00", "2024-05-08 09:30:00", "2024-05-08 01:00:00"},
		// Several hourly slots missed.
		{"0 * * * *", "2024-05-01 10:00:00", "2024-05-01 14:59:59", "2024-05-01 14:00:00"},
		{"*/5 * * * *", "2024-05-01 10:00:00", "2024-05-01 10:27:00", "2024-05-01 10:25:00"},
		// (last, now]: last is excluded, now included.
		{"0 1 * * *", "2024-05-08 01:00:00", "2024-05-08 09:30:00", ""},
		{"0 1 * * *", "2024-05-07 09:00:00", "2024-05-08 01:00:00", "2024-05-08 01:00:00"},
		{"0 1 * * *", "2024-05-07 09:00:00", "2024-05-08 00:59:59", ""},
		{"0 1 * * *", "2024-05-08 01:00:30", "2024-05-08 01:00:45", ""},
		{"0 1 * * *", "2024-05-08 00:59:59", "2024-05-08 01:00:45", "2024-05-08 01:00:00"},
		// now not after last.
		{"* * * * *", "2024-05-08 01:00:00", "2024-05-08 01:00:00", ""},
		{"* * * * *", "2024-05-08 02:00:00", "2024-05-08 01:00:00", ""},
		// Across a year end, and a leap day years ago.
		{"@yearly", "2020-06-01 00:00:00", "2025-01-01 00:00:00", "2025-01-01 00:00:00"},
		{"0 0 29 2 *", "2019-01-01 00:00:00", "2027-01-01 00:00:00", "2024-02-29 00:00:00"},
		{"0 0 29 2 *", "2024-02-29 00:00:00", "2027-01-01 00:00:00", ""},
		// The classic day rule.
		{"0 0 13 * Fri", "2024-09-01 00:00:00", "2024-09-12 00:00:00", "2024-09-06 00:00:00"},
		{"0 0 13 * Fri", "2024-09-01 00:00:00", "2024-09-13 00:00:00", "2024-09-13 00:00:00"},
		{"0 0 13 * Fri", "2024-09-01 00:00:00", "2024-09-16 00:00:00", "2024-09-13 00:00:00"},
		// Never fires.
		{"0 0 30 2 *", "2000-01-01 00:00:00", "2024-09-16 00:00:00", ""},
		// Last long ago, even never set.
		{"0 3 * * Sun", "0001-01-01 00:00:00", "2024-09-11 12:00:00", "2024-09-08 03:00:00"},
		{"0 0 29 2 *", "1900-01-01 00:00:00", "2103-01-01 00:00:00", "2096-02-29 00:00:00"},
	}
	for _, tt := range tests {
		s := mustParse(t, tt.expr)
		got, ok := Due(s, utc(tt.last), utc(tt.now))
		if tt.want == "" {
			if ok || !got.IsZero() {
				t.Errorf("Due(%q, %s, %s) = %v, %v; want none", tt.expr, tt.last, tt.now, got, ok)
			}
			continue
		}
		if want := utc(tt.want); !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Due(%q, %s, %s) = %v, %v; want %v", tt.expr, tt.last, tt.now, got, ok, want)
		}
	}
}

func TestDueIsFast(t *testing.T) {
	// Years of missed minutes are not walked one by one.
	s := mustParse(t, "*/7 3 13 * Fri")
	start := time.Now()
	for range 100 {
		if _, ok := Due(s, time.Time{}, utc("2024-09-11 12:00:00")); !ok {
			t.Fatal("Due found nothing")
		}
		if s.Next(utc("2024-09-11 12:00:00")).IsZero() {
			t.Fatal("Next found nothing")
		}
		Due(mustParse(t, "0 0 30 2 *"), time.Time{}, utc("2024-09-11 12:00:00"))
		mustParse(t, "0 0 30 2 *").Next(utc("2024-09-11 12:00:00"))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("100 rounds took %v", d)
	}
}

// matches is a direct reading of the rules, to check the searches against.
func matches(s Schedule, t time.Time) bool {
	in := func(set uint64, v int) bool { return set&(1<<uint(v)) != 0 }
	if t.Second() != 0 || t.Nanosecond() != 0 || !in(s.minute, t.Minute()) || !in(s.hour, t.Hour()) || !in(s.month, int(t.Month())) {
		return false
	}
	dom, dow := in(s.dom, t.Day()), in(s.dow, int(t.Weekday()))
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

func randomExpr(r *rand.Rand) string {
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	return strings.Join([]string{
		pick("*", "0", "*/7", "15,45", "50-59", "0-30/10", "59"),
		pick("*", "0", "23", "*/5", "9-17", "1,13"),
		pick("*", "*", "1", "31", "29", "*/10", "13", "28-31"),
		pick("*", "*", "2", "Dec", "Jan-Mar", "*/4", "2,3"),
		pick("*", "*", "0", "7", "Fri", "Mon-Fri", "Sat,Sun", "*/3"),
	}, " ")
}

// TestSearchesAgree compares Next and Due with a minute-by-minute walk.
func TestSearchesAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := utc("2023-12-01 00:00:00")
	window := 75 * 24 * time.Hour
	for range 60 {
		expr := randomExpr(r)
		s := mustParse(t, expr)
		from := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
		last := from
		var lastMatch time.Time // latest match in (from, now]
		for m := from.Truncate(time.Minute).Add(time.Minute); m.Before(from.Add(window)); m = m.Add(time.Minute) {
			if !matches(s, m) {
				continue
			}
			if got := s.Next(last); !got.Equal(m) {
				t.Fatalf("%q: Next(%v) = %v, want %v", expr, last, got, m)
			}
			last, lastMatch = m, m
			// Due from the start up to a second into this minute.
			now := m.Add(time.Second)
			if got, ok := Due(s, from, now); !ok || !got.Equal(lastMatch) {
				t.Fatalf("%q: Due(%v, %v) = %v, %v; want %v", expr, from, now, got, ok, lastMatch)
			}
		}
		end := from.Add(window)
		got, ok := Due(s, from, end)
		if ok != !lastMatch.IsZero() || !got.Equal(lastMatch) {
			t.Fatalf("%q: Due(%v, %v) = %v, %v; want %v", expr, from, end, got, ok, lastMatch)
		}
		if n := s.Next(last); !n.IsZero() && n.Before(end) {
			t.Fatalf("%q: Next(%v) = %v, missed by the walk", expr, last, n)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"* * * * *", "0 1 13 * Fri", "*/5 9-17 * Jan-Mar 1-5", "@daily", "0 0 30 2 *", "1,2-5/2 * * * 7"} {
		f.Add(s)
	}
	after := utc("2024-02-28 23:59:30")
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("cron %q: ", expr)) {
				t.Fatalf("error %q does not name the expression", err)
			}
			return
		}
		if s.String() != expr {
			t.Fatalf("String() = %q, want %q", s.String(), expr)
		}
		next := s.Next(after)
		if next.IsZero() {
			return
		}
		if !next.After(after) || !matches(s, next) {
			t.Fatalf("Next(%v) = %v, which does not match", after, next)
		}
		if got, ok := Due(s, after, next); !ok || !got.Equal(next) {
			t.Fatalf("Due(%v, %v) = %v, %v", after, next, got, ok)
		}
	})
}
