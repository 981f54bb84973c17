package purge

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

func filters(t *testing.T, ss ...string) []Filter {
	t.Helper()
	var out []Filter
	for _, s := range ss {
		f, err := ParseFilter(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func names(ts []Tag) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.Name)
	}
	return strings.Join(s, ",")
}

func digests(ms []Manifest) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Digest)
	}
	return strings.Join(s, ",")
}

func TestTags(t *testing.T) {
	day := 24 * time.Hour
	tags := []Tag{
		{Name: "v1", Digest: "a", Updated: ago(5 * day)},
		{Name: "v10", Digest: "b", Updated: ago(4 * day)},
		{Name: "v1-keep", Digest: "c", Updated: ago(3 * day)},
		{Name: "edge", Digest: "d", Updated: ago(2 * day)},
		{Name: "locked", Digest: "e", Updated: ago(6 * day), Locked: true},
		{Name: "new", Digest: "f", Updated: ago(time.Hour)},
	}
	for _, tc := range []struct {
		name    string
		repo    string
		filters []string
		before  time.Time
		keep    int
		locked  bool
		only    bool
		want    string
	}{
		{"tag regex anchored", "app", []string{"app:v1"}, now, 0, false, false, "v1"},
		{"repo regex anchored", "app2", []string{"app:.*"}, now, 0, false, false, ""},
		{"unanchored needs .*", "app", []string{"app:v1.*"}, now, 0, false, false, "v1-keep,v10,v1"},
		{"alternation anchored as a whole", "app", []string{"app:v1|edge"}, now, 0, false, false, "edge,v1"},
		{"ago boundary: updated exactly at now-ago stays", "app", []string{"app:.*"}, ago(2 * day), 0, false, false, "v1-keep,v10,v1"},
		{"ago 0d takes everything before now", "app", []string{"app:.*"}, now, 0, false, false, "new,edge,v1-keep,v10,v1"},
		{"keep counts candidates, not all tags", "app", []string{"app:v1.*"}, now, 2, false, false, "v1"},
		{"keep more than candidates", "app", []string{"app:v1.*"}, now, 9, false, false, ""},
		{"locked skipped", "app", []string{"app:locked"}, now, 0, false, false, ""},
		{"include-locked", "app", []string{"app:locked"}, now, 0, true, false, "locked"},
		{"locked not counted by keep", "app", []string{"app:locked|v1"}, now, 1, false, false, ""},
		{"untagged-only deletes no tag", "app", []string{"app:.*"}, now, 0, false, true, ""},
		{"several filters", "app", []string{"app:v1", "other:.*", "a.*:edge"}, now, 0, false, false, "edge,v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Filters: filters(t, tc.filters...), Before: tc.before, Keep: tc.keep, IncludeLocked: tc.locked, UntaggedOnly: tc.only}
			if got := names(Tags(tc.repo, tags, o)); got != tc.want {
				t.Errorf("deleted %q, want %q", got, tc.want)
			}
		})
	}
}

func TestManifests(t *testing.T) {
	old := ago(48 * time.Hour)
	ms := []Manifest{
		{Digest: "img", Updated: old, Tags: []string{"v1"}},
		{Digest: "orphan", Updated: old},
		{Digest: "fresh", Updated: ago(time.Minute)},
		{Digest: "lockedm", Updated: old, Locked: true},
		// a tagged index and its untagged members
		{Digest: "index", Updated: old, Tags: []string{"multi"}, References: []string{"amd64", "arm64"}},
		{Digest: "amd64", Updated: old},
		{Digest: "arm64", Updated: old},
		// a signature of img, and a signature of the signature
		{Digest: "sig", Updated: old, Subject: "img"},
		{Digest: "sigsig", Updated: old, Subject: "sig"},
		// a referrer whose subject is gone already
		{Digest: "dangling", Updated: old, Subject: "nothing"},
		// an untagged index whose member is also a tagged image
		{Digest: "uindex", Updated: old, References: []string{"shared", "umember"}},
		{Digest: "umember", Updated: old},
		{Digest: "shared", Updated: old, Tags: []string{"s"}},
		// an old untagged subject with a fresh signature: both go
		{Digest: "osubj", Updated: old},
		{Digest: "freshsig", Updated: ago(time.Minute), Subject: "osubj"},
		// an old untagged subject whose signature is tagged: both stay
		{Digest: "tsubj", Updated: old},
		{Digest: "tsig", Updated: old, Subject: "tsubj", Tags: []string{"sig"}},
	}
	before := ago(time.Hour)
	for _, tc := range []struct {
		name     string
		deleted  []Tag
		untagged bool
		only     bool
		locked   bool
		repo     string
		want     string
	}{
		{"no untagged flag deletes no manifest", nil, false, false, false, "app", ""},
		{"untagged: old, unlocked, unreferenced; index before members; referrers kept while subject stays, taken with it whatever their age", nil, true, false, false, "app",
			"orphan,dangling,uindex,umember,freshsig,osubj"},
		{"untagged-only is the same on manifests", nil, false, true, false, "app", "orphan,dangling,uindex,umember,freshsig,osubj"},
		{"include-locked", nil, true, false, true, "app", "orphan,lockedm,dangling,uindex,umember,freshsig,osubj"},
		{"deleting the tag of img takes img and its referrers, referrers first", []Tag{{Name: "v1"}}, true, false, false, "app",
			"sigsig,sig,img,orphan,dangling,uindex,umember,freshsig,osubj"},
		{"untagging the index frees its members", []Tag{{Name: "multi"}}, true, false, false, "app",
			"orphan,index,amd64,arm64,dangling,uindex,umember,freshsig,osubj"},
		{"repository not matched", nil, true, false, false, "other", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Filters: filters(t, "app:.*"), Before: before, Untagged: tc.untagged, UntaggedOnly: tc.only, IncludeLocked: tc.locked}
			if got := digests(Manifests(tc.repo, ms, tc.deleted, o)); got != tc.want {
				t.Errorf("deleted %q,\n want %q", got, tc.want)
			}
		})
	}
}

func TestManifestsLockedKeepsWhatItNeeds(t *testing.T) {
	old := ago(48 * time.Hour)
	ms := []Manifest{
		{Digest: "uindex", Updated: old, Locked: true, References: []string{"m"}},
		{Digest: "m", Updated: old},
		{Digest: "sig", Updated: old, Subject: "subj", Locked: true},
		{Digest: "subj", Updated: old},
	}
	o := Options{Filters: filters(t, "app:.*"), Before: now, Untagged: true}
	// The locked index stays, so its member does; the locked signature
	// stays, so its subject does.
	if got := digests(Manifests("app", ms, nil, o)); got != "" {
		t.Errorf("deleted %q, want nothing", got)
	}
}

func TestManifestsUnlistedProtect(t *testing.T) {
	old := ago(48 * time.Hour)
	ms := []Manifest{
		// A hidden index (found through its tag) and its member; a hidden
		// subject (found by digest) and its signature.
		{Digest: "hindex", Updated: old, Unlisted: true, References: []string{"m"}},
		{Digest: "m", Updated: old},
		{Digest: "hsubj", Updated: old, Unlisted: true},
		{Digest: "sig", Updated: old, Subject: "hsubj"},
		{Digest: "orphan", Updated: old},
	}
	o := Options{Filters: filters(t, "app:.*"), Before: now, Untagged: true, IncludeLocked: true}
	if got := digests(Manifests("app", ms, nil, o)); got != "orphan" {
		t.Errorf("deleted %q, want orphan", got)
	}
}

func TestParseAgo(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0d": 0, "1d": 24 * time.Hour, "2d3h6m": 51*time.Hour + 6*time.Minute, "1.5h": 90 * time.Minute, "30m": 30 * time.Minute,
	} {
		got, err := ParseAgo(in)
		if err != nil || got != want {
			t.Errorf("ParseAgo(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "1x", "1d-3h", "1.5d", "3", "2d3"} {
		if _, err := ParseAgo(in); err == nil {
			t.Errorf("ParseAgo(%q) did not fail", in)
		}
	}
}

func TestParseFilterAndValidate(t *testing.T) {
	for _, in := range []string{"app", ":v1", "app:", "app:(", "(:v1"} {
		if _, err := ParseFilter(in); err == nil {
			t.Errorf("ParseFilter(%q) did not fail", in)
		}
	}
	f, err := ParseFilter("lib/app:v1:.*")
	if err != nil || !f.Repo.MatchString("lib/app") || !f.Tag.MatchString("v1:x") {
		t.Errorf("ParseFilter split at the wrong colon: %v", err)
	}
	ok := Options{Filters: []Filter{f}}
	for name, o := range map[string]Options{
		"no filter":  {},
		"keep -1":    {Filters: ok.Filters, Keep: -1},
		"both flags": {Filters: ok.Filters, Untagged: true, UntaggedOnly: true},
	} {
		if o.Validate() == nil {
			t.Errorf("%s: Validate passed", name)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}
