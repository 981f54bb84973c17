package buildcontext

import (
	"slices"
	"strings"
	"testing"
)

func TestReadIgnore(t *testing.T) {
	in := "\xef\xbb\xbf# a comment\n" +
		"\n" +
		"  *.log  \n" +
		" # not a comment: only a # at the very start is one\n" +
		"/build\n" +
		"./out/../dist/\n" +
		"!  keep.log\n" +
		"!/docs/x\n" +
		"\t\n"
	got, err := readIgnore(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"*.log", "# not a comment: only a # at the very start is one", "build", "dist", "!keep.log", "!docs/x"}
	if !slices.Equal(got, want) {
		t.Errorf("readIgnore = %q, want %q", got, want)
	}
}

// TestMatcher follows the semantics of docker's .dockerignore
// (moby/patternmatcher): a pattern matching a directory matches all below
// it, "!" brings paths back, the last matching pattern wins.
func TestMatcher(t *testing.T) {
	tests := []struct {
		patterns []string
		path     string
		excluded bool
	}{
		{nil, "a", false},
		{[]string{"*.md"}, "README.md", true},
		{[]string{"*.md"}, "docs/a.md", false},
		{[]string{"**/*.md"}, "docs/a.md", true},
		{[]string{"**/*.md"}, "README.md", true},
		{[]string{"**/*.md"}, "a/b/c/d.md", true},
		{[]string{"docs"}, "docs", true},
		{[]string{"docs"}, "docs/a/b.txt", true},
		{[]string{"docs"}, "mydocs", false},
		{[]string{"docs"}, "src/docs", false},
		{[]string{"*/docs"}, "src/docs/x", true},
		{[]string{"*"}, "anything/at/all", true},
		{[]string{"**"}, "a/b", true},
		{[]string{"foo/**"}, "foo", false},
		{[]string{"foo/**"}, "foo/x", true},
		{[]string{"foo/**"}, "foo/x/y", true},
		{[]string{"**/node_modules"}, "node_modules", true},
		{[]string{"**/node_modules"}, "web/app/node_modules/x.js", true},
		{[]string{"a/**/c"}, "a/c", true},
		{[]string{"a/**/c"}, "a/b/d/c", true},
		{[]string{"a/**/c"}, "a/bc", false},
		{[]string{"a/*/c"}, "a/b/c", true},
		{[]string{"a/*/c"}, "a/b/d/c", false},
		{[]string{"a?c"}, "abc", true},
		{[]string{"a?c"}, "a/c", false},
		{[]string{"[a-c]x"}, "bx", true},
		{[]string{"[a-c]x"}, "dx", false},
		{[]string{"[!a]x"}, "bx", true},
		{[]string{"[!a]x"}, "ax", false},
		{[]string{`[\-]x`}, "-x", true},
		{[]string{`\*`}, "*", true},
		{[]string{`\*`}, "a", false},
		{[]string{"a.b"}, "axb", false},
		{[]string{"(x)|y"}, "(x)|y", true},
		{[]string{"*.go", "!main.go"}, "main.go", false},
		{[]string{"*.go", "!main.go"}, "util.go", true},
		{[]string{"!a", "a"}, "a", true},
		{[]string{"a", "!a"}, "a", false},
		{[]string{"*", "!src"}, "src/main.go", false},
		{[]string{"*", "!src"}, "bin/x", true},
		{[]string{"*", "!src", "src/tmp"}, "src/tmp/x", true},
		{[]string{"*", "!src", "src/tmp"}, "src/tmpx", false},
		{[]string{"vendor", "!**/keep.txt"}, "vendor/x/keep.txt", false},
		{[]string{"vendor", "!**/keep.txt"}, "vendor/x/other", true},
		{[]string{"vendor", "!vendor/a"}, "vendor/a/b", false},
		{[]string{"vendor", "!vendor/a"}, "vendor/b", true},
	}
	for _, tt := range tests {
		m, err := newMatcher(tt.patterns)
		if err != nil {
			t.Fatalf("newMatcher(%q): %v", tt.patterns, err)
		}
		if got := m.excluded(tt.path); got != tt.excluded {
			t.Errorf("patterns %q, path %q: excluded = %v, want %v", tt.patterns, tt.path, got, tt.excluded)
		}
	}
}

func TestMatcherBadPatterns(t *testing.T) {
	for _, p := range []string{"[a", "a[", `[a\`, "!"} {
		if _, err := newMatcher([]string{p}); err == nil {
			t.Errorf("newMatcher(%q) accepted a bad pattern", p)
		}
	}
}

func TestMayHoldExceptions(t *testing.T) {
	tests := []struct {
		patterns []string
		dir      string
		want     bool
	}{
		{[]string{"vendor"}, "vendor", false},
		{[]string{"vendor", "!vendor/a"}, "vendor", true},
		{[]string{"vendor", "!vendor/a"}, "vendor/a/b", true},
		{[]string{"vendor", "!vendor/a"}, "other", false},
		{[]string{"vendor", "!**/keep"}, "vendor", true},
		{[]string{"*", "!src/*.go"}, "src", true},
		{[]string{"*", "!src/*.go"}, "bin", false},
	}
	for _, tt := range tests {
		m, err := newMatcher(tt.patterns)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.mayHoldExceptions(tt.dir); got != tt.want {
			t.Errorf("patterns %q, dir %q: mayHoldExceptions = %v, want %v", tt.patterns, tt.dir, got, tt.want)
		}
	}
}
