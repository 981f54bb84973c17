package token

import "strings"

// Challenge returns the WWW-Authenticate value of a data-plane 401, which
// sends docker to realm for a token:
//
//	Bearer realm="https://r.example/oauth2/token",service="r.example",scope="repository:app:pull"
//
// Several scopes go space-separated into one scope parameter, as Docker's
// registry writes them; there is no scope parameter without scopes.
func Challenge(realm, service string, scopes ...string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm=`)
	quote(&b, realm)
	b.WriteString(`,service=`)
	quote(&b, service)
	first := true
	for _, s := range scopes {
		if s == "" {
			continue
		}
		if first {
			b.WriteString(`,scope="`)
			first = false
		} else {
			b.WriteByte(' ')
		}
		escape(&b, s)
	}
	if !first {
		b.WriteByte('"')
	}
	return b.String()
}

func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	escape(b, s)
	b.WriteByte('"')
}

// escape writes s as the inside of an RFC 9110 quoted-string: '"' and '\'
// are backslash-escaped, and control characters, which a quoted-string
// cannot hold and which could split the header, are dropped.
func escape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 && c != '\t', c == 0x7f:
		default:
			b.WriteByte(c)
		}
	}
}
