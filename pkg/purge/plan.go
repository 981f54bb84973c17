// Package purge decides what `berth purge` deletes, from listings of a
// repository's tags and manifests: it is pure (no I/O, no clock), so that
// a dry run and a real run, given the same listings, plan the same
// deletions. Fetching the listings and deleting are the caller's.
package purge

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Filter selects tags: both regexes are anchored (they must match the
// whole repository name and the whole tag), unlike the managed registry's
// purge tool, whose unanchored tag regex matches "v1" inside "v10-keep".
type Filter struct {
	Repo, Tag *regexp.Regexp
}

// ParseFilter parses 'repoRegex:tagRegex'. The repository regex ends at
// the first colon: repository names have none, tag regexes may.
func ParseFilter(s string) (Filter, error) {
	repo, tag, ok := strings.Cut(s, ":")
	if !ok || repo == "" || tag == "" {
		return Filter{}, fmt.Errorf("invalid filter %q: give 'repoRegex:tagRegex', e.g. 'hello-world:.*'", s)
	}
	r, err := anchored(repo)
	if err != nil {
		return Filter{}, fmt.Errorf("invalid repository regex in filter %q: %w", s, err)
	}
	t, err := anchored(tag)
	if err != nil {
		return Filter{}, fmt.Errorf("invalid tag regex in filter %q: %w", s, err)
	}
	return Filter{Repo: r, Tag: t}, nil
}

// anchored compiles ^(?:expr)$, reporting an error in expr as written.
func anchored(expr string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(expr); err != nil {
		return nil, err
	}
	return regexp.Compile("^(?:" + expr + ")$")
}

// ParseAgo parses a duration of days followed by a Go duration: "2d3h6m",
// "0d", "1.5h", "30d". It must not be negative.
func ParseAgo(s string) (time.Duration, error) {
	bad := fmt.Errorf("invalid --ago %q: give days then a Go duration, e.g. 2d3h6m, 0d or 1.5h", s)
	if s == "" {
		return 0, bad
	}
	var d time.Duration
	rest := s
	if days, after, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 32)
		if err != nil {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
		rest = after
	}
	if rest != "" {
		g, err := time.ParseDuration(rest)
		if err != nil || g < 0 {
			return 0, bad
		}
		d += g
	}
	return d, nil
}

// Tag is one tag of a repository's tag listing.
type Tag struct {
	Name    string
	Digest  string
	Updated time.Time
	Locked  bool // deleteEnabled or writeEnabled false
}

// Manifest is one manifest of a repository's manifest listing.
type Manifest struct {
	Digest     string
	Updated    time.Time
	Tags       []string // every tag, listed or not
	References []string // an index's members
	Subject    string   // what it refers to (a signature's image), if anything
	Locked     bool
	// Unlisted is a manifest the listing hides (listEnabled false) that
	// the caller found otherwise: never deleted, it protects what it needs.
	Unlisted bool
}

// Options are what the flags of `berth purge` decide.
type Options struct {
	Filters       []Filter
	Before        time.Time // now - ago: only what was updated before it goes
	Keep          int       // the newest candidates spared per repository
	Untagged      bool      // also delete manifests left without tags
	UntaggedOnly  bool      // delete only manifests without tags
	IncludeLocked bool
}

// Validate reports options no purge can run with.
func (o Options) Validate() error {
	if len(o.Filters) == 0 {
		return errors.New("give at least one --filter 'repoRegex:tagRegex'")
	}
	if o.Keep < 0 {
		return fmt.Errorf("--keep must be 0 or more, not %d", o.Keep)
	}
	if o.Untagged && o.UntaggedOnly {
		return errors.New("give --untagged or --untagged-only, not both")
	}
	return nil
}

// MatchesRepo reports whether any filter selects repository repo.
func (o Options) MatchesRepo(repo string) bool {
	for _, f := range o.Filters {
		if f.Repo.MatchString(repo) {
			return true
		}
	}
	return false
}

func (o Options) matchesTag(repo, tag string) bool {
	for _, f := range o.Filters {
		if f.Repo.MatchString(repo) && f.Tag.MatchString(tag) {
			return true
		}
	}
	return false
}

// Tags returns the tags of repo to delete: those a filter selects, updated
// before o.Before, not locked (unless IncludeLocked), less the Keep newest
// of them.
func Tags(repo string, tags []Tag, o Options) []Tag {
	if o.UntaggedOnly || !o.MatchesRepo(repo) {
		return nil
	}
	var cands []Tag
	for _, t := range tags {
		if !o.matchesTag(repo, t.Name) || !t.Updated.Before(o.Before) {
			continue
		}
		if t.Locked && !o.IncludeLocked {
			continue
		}
		cands = append(cands, t)
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if !cands[i].Updated.Equal(cands[j].Updated) {
			return cands[i].Updated.After(cands[j].Updated)
		}
		return cands[i].Name < cands[j].Name
	})
	if o.Keep >= len(cands) {
		return nil
	}
	return cands[o.Keep:]
}

// Untagged returns the manifests of ms that have no tag once deleted are
// gone: the ones whose Subject a caller must know before Manifests.
func Untagged(ms []Manifest, deleted []Tag) []Manifest {
	gone := map[string]bool{}
	for _, t := range deleted {
		gone[t.Name] = true
	}
	var out []Manifest
	for _, m := range ms {
		left := 0
		for _, t := range m.Tags {
			if !gone[t] {
				left++
			}
		}
		if left == 0 {
			out = append(out, m)
		}
	}
	return out
}

// Manifests returns the manifests of repo to delete, with --untagged or
// --untagged-only, once the tags deleted are gone: those left without a
// tag, updated before o.Before and not locked (unless IncludeLocked), and
// the referrers of those (signatures, SBOMs: they go with their subject,
// whatever their age, as the registry deletes them with it). Never a
// member of an index that stays, a referrer whose subject stays, nor the
// subject of a referrer that must stay (locked, tagged or hidden). They
// come in an order safe to delete in: a referrer before its subject, an
// index before its members.
func Manifests(repo string, ms []Manifest, deleted []Tag, o Options) []Manifest {
	if !(o.Untagged || o.UntaggedOnly) || !o.MatchesRepo(repo) {
		return nil
	}
	exists := map[string]bool{}
	referrers := map[string][]string{} // subject → the manifests that refer to it
	for _, m := range ms {
		exists[m.Digest] = true
		if m.Subject != "" {
			referrers[m.Subject] = append(referrers[m.Subject], m.Digest)
		}
	}
	// Deletable: untagged once the tags go, unlocked, listed.
	deletable := map[string]bool{}
	for _, m := range Untagged(ms, deleted) {
		if (!m.Locked || o.IncludeLocked) && !m.Unlisted {
			deletable[m.Digest] = true
		}
	}
	// Roots: deletable, old enough, and not a referrer of a subject that
	// exists; then their referrers, transitively.
	del := map[string]bool{}
	var queue []string
	for _, m := range ms {
		if deletable[m.Digest] && m.Updated.Before(o.Before) && (m.Subject == "" || !exists[m.Subject]) {
			del[m.Digest] = true
			queue = append(queue, m.Digest)
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		for _, r := range referrers[d] {
			if deletable[r] && !del[r] {
				del[r] = true
				queue = append(queue, r)
			}
		}
	}
	// What stays protects what it needs, and a subject stays with a
	// referrer that stays; what it protects stays too.
	for changed := true; changed; {
		changed = false
		for _, m := range ms {
			if del[m.Digest] {
				if m.Subject != "" && exists[m.Subject] && !del[m.Subject] {
					delete(del, m.Digest)
					changed = true
				}
				continue
			}
			for _, r := range append([]string{m.Subject}, m.References...) {
				if del[r] {
					delete(del, r)
					changed = true
				}
			}
		}
	}
	// Order: depth-first, what refers before what is referred to.
	byDigest := map[string]Manifest{}
	for _, m := range ms {
		byDigest[m.Digest] = m
	}
	referredBy := map[string][]string{} // digest → deleted manifests that need it
	for _, m := range ms {
		if !del[m.Digest] {
			continue
		}
		for _, r := range m.References {
			referredBy[r] = append(referredBy[r], m.Digest)
		}
		if m.Subject != "" {
			referredBy[m.Subject] = append(referredBy[m.Subject], m.Digest)
		}
	}
	var out []Manifest
	done := map[string]bool{}
	var visit func(d string)
	visit = func(d string) {
		if done[d] {
			return
		}
		done[d] = true
		for _, p := range referredBy[d] {
			visit(p)
		}
		out = append(out, byDigest[d])
	}
	for _, m := range ms {
		if del[m.Digest] {
			visit(m.Digest)
		}
	}
	return out
}
