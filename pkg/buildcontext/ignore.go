package buildcontext

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// pattern is one line of a .dockerignore file, compiled.
type pattern struct {
	text      string // cleaned, without the leading "!"
	exception bool
	re        *regexp.Regexp
	// prefix is the literal start of text, before its first wildcard: a
	// directory outside it cannot hold a path the pattern matches.
	prefix string
}

// matcher decides which paths of a context a .dockerignore leaves out.
// Its semantics are Docker's (moby/patternmatcher): a path is left out when
// the last pattern that matches it, or one of its parent directories, is
// not an exception.
type matcher struct {
	patterns      []pattern
	hasExceptions bool
}

// readIgnore parses a .dockerignore file the way the docker CLI and
// BuildKit do: a "#" at the very start of a line makes a comment, blank
// lines are skipped, each pattern is trimmed, path.Clean-ed and loses a
// leading "/", and a leading "!" marks an exception.
func readIgnore(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			first = false
		}
		if bytes.HasPrefix(line, []byte("#")) {
			continue
		}
		p := strings.TrimSpace(string(line))
		if p == "" {
			continue
		}
		exception := p[0] == '!'
		if exception {
			p = strings.TrimSpace(p[1:])
		}
		if p != "" {
			p = path.Clean(p)
			if len(p) > 1 && p[0] == '/' {
				p = p[1:]
			}
		}
		if exception {
			p = "!" + p
		}
		out = append(out, p)
	}
	return out, sc.Err()
}

func newMatcher(lines []string) (*matcher, error) {
	m := &matcher{}
	for _, l := range lines {
		p := pattern{text: l}
		if strings.HasPrefix(l, "!") {
			p.exception = true
			p.text = l[1:]
			m.hasExceptions = true
		}
		if p.text == "" {
			return nil, fmt.Errorf("illegal exclusion pattern: %q", l)
		}
		re, err := compilePattern(p.text)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", l, err)
		}
		p.re = re
		p.prefix = p.text
		if i := strings.IndexAny(p.text, `*?[\`); i >= 0 {
			p.prefix = p.text[:i]
		}
		m.patterns = append(m.patterns, p)
	}
	return m, nil
}

// compilePattern turns a pattern into a regular expression anchored at
// both ends: "*" and "?" stay inside one path element, "**" spans any
// number of them (none included), "[...]" is a character class as in
// path.Match and "\" escapes the next character.
func compilePattern(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '*':
			if i+1 < len(rs) && rs[i+1] == '*' {
				i++
				if i+1 < len(rs) && rs[i+1] == '/' {
					i++
				}
				if i+1 == len(rs) {
					b.WriteString(".*")
				} else {
					b.WriteString("(.*/)?")
				}
				continue
			}
			b.WriteString("[^/]*")
		case '?':
			b.WriteString("[^/]")
		case '\\':
			if i+1 < len(rs) {
				i++
				b.WriteString(regexp.QuoteMeta(string(rs[i])))
			} else {
				b.WriteString(`\\`)
			}
		case '[':
			end, class, err := charClass(rs, i)
			if err != nil {
				return nil, err
			}
			b.WriteString(class)
			i = end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// charClass translates the class that starts at rs[start] ("[") and
// returns the index of its closing "]".
func charClass(rs []rune, start int) (int, string, error) {
	var b strings.Builder
	b.WriteString("[")
	i := start + 1
	if i < len(rs) && (rs[i] == '!' || rs[i] == '^') {
		b.WriteString("^")
		i++
	}
	n := 0
	for ; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == ']' && n > 0:
			b.WriteString("]")
			return i, b.String(), nil
		case c == '\\':
			if i+1 == len(rs) {
				return 0, "", fmt.Errorf("syntax error in pattern")
			}
			i++
			b.WriteString(classLiteral(rs[i]))
		case c == '-' && n > 0 && i+1 < len(rs) && rs[i+1] != ']':
			b.WriteString("-")
			continue
		default:
			if c == '/' {
				return 0, "", fmt.Errorf("syntax error in pattern")
			}
			b.WriteString(classLiteral(c))
		}
		n++
	}
	return 0, "", fmt.Errorf("syntax error in pattern")
}

// classLiteral writes c so that a regular expression's class takes it
// literally: RE2 accepts a backslash before any punctuation.
func classLiteral(c rune) string {
	if c < 0x80 && (unicode.IsPunct(c) || unicode.IsSymbol(c)) {
		return `\` + string(c)
	}
	return string(c)
}

// excluded reports whether the slash-separated path p, relative to the
// context root, is left out.
func (m *matcher) excluded(p string) bool {
	if m == nil {
		return false
	}
	var parents []string
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			parents = append(parents, p[:i])
		}
	}
	matched := false
	for _, pat := range m.patterns {
		// An exclusion cannot change a path already excluded, nor an
		// exception one that is not.
		if pat.exception != matched {
			continue
		}
		match := pat.re.MatchString(p)
		for _, parent := range parents {
			if match {
				break
			}
			match = pat.re.MatchString(parent)
		}
		if match {
			matched = !pat.exception
		}
	}
	return matched
}

// mayHoldExceptions reports whether an exception could bring back
// something below the excluded directory dir, so that the walk must go in.
func (m *matcher) mayHoldExceptions(dir string) bool {
	if !m.hasExceptions {
		return false
	}
	dir += "/"
	for _, pat := range m.patterns {
		if !pat.exception {
			continue
		}
		if strings.HasPrefix(pat.prefix, dir) || strings.HasPrefix(dir, pat.prefix) {
			return true
		}
	}
	return false
}
