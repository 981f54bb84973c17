package token

import (
	"context"
	"testing"
	"time"
)

// FuzzVerify feeds Verify arbitrary strings, and valid tokens with one byte
// changed. Verify must not panic, and must accept no string but the tokens
// it was given.
func FuzzVerify(f *testing.F) {
	clk := &clock{t: t0}
	s, err := New(context.Background(), &memStore{}, Options{Issuer: issuer, Now: clk.Now})
	if err != nil {
		f.Fatal(err)
	}
	valid := []string{
		issue(f, s, accessClaims()),
		issue(f, s, refreshClaims()),
		issue(f, s, Claims{Subject: "u1", Audience: loginServer, Kind: KindAccess, PrincipalKind: PrincipalAdmin}),
	}
	clk.advance(time.Minute)
	for _, v := range valid {
		f.Add(v, uint(0), byte(0))
		f.Add(v, uint(len(v)-1), byte('B'))
	}
	f.Add("eyJhbGciOiJub25lIn0.e30.", uint(10), byte('.'))
	f.Add("..", uint(1), byte(0))
	f.Fuzz(func(t *testing.T, in string, pos uint, b byte) {
		for _, kind := range []Kind{KindAccess, KindRefresh} {
			if _, err := s.Verify(in, kind, loginServer); err == nil && !contains(valid, in) {
				t.Fatalf("accepted %q, which berth did not issue", in)
			}
		}
		v := valid[int(pos%3)]
		m := []byte(v)
		m[int(pos/3)%len(m)] = b
		if string(m) == v {
			return
		}
		for _, kind := range []Kind{KindAccess, KindRefresh} {
			if c, err := s.Verify(string(m), kind, loginServer); err == nil {
				t.Fatalf("accepted %q, a mutation of a valid token: %+v", m, c)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
