package oci

import "strings"

// MaxNameLength bounds a repository name; together with the login server a
// reference must stay under 255 characters.
const MaxNameLength = 255

// ValidName reports whether s follows the OCI repository name grammar:
// path components of [a-z0-9]+ joined by '.', '_', '__' or runs of '-',
// separated by '/'.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLength {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '/' {
			if !validComponent(s[start:i]) {
				return false
			}
			start = i + 1
		}
	}
	return true
}

func validComponent(c string) bool {
	if c == "" || !alnumLower(c[0]) || !alnumLower(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if alnumLower(c[i]) {
			i++
			continue
		}
		// A separator: '.', '_', '__' or one or more '-'.
		switch c[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(c) && c[i] == '_' {
				i++
			}
		case '-':
			for i < len(c) && c[i] == '-' {
				i++
			}
		default:
			return false
		}
		if i >= len(c) || !alnumLower(c[i]) {
			return false
		}
	}
	return true
}

func alnumLower(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// ValidTag reports whether s is a tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func ValidTag(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if i > 0 {
			ok = ok || c == '.' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}

// SplitTag splits "repository:tag" at the colon that starts the tag (one
// after the last slash, so "host:5000/app" has no tag); ok is false when
// there is none.
func SplitTag(s string) (repo, tag string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || i < strings.LastIndexByte(s, '/') {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
