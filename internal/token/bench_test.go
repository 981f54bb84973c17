package token

import (
	"context"
	"testing"
	"time"
)

// benchService's clock is fixed and lock-free: time.Now is not what is
// measured.
func benchService(b *testing.B) (*Service, string) {
	s, err := New(context.Background(), &memStore{}, Options{Issuer: issuer, Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	return s, issue(b, s, accessClaims())
}

func BenchmarkVerify(b *testing.B) {
	s, tok := benchService(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok, KindAccess, loginServer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	s, tok := benchService(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Verify(tok, KindAccess, loginServer); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyFirstUse is the cost of a token's first Verify on a
// replica, or its first after a Refresh: MAC, base64 and JSON.
func BenchmarkVerifyFirstUse(b *testing.B) {
	s, tok := benchService(b)
	r := s.ring.Load()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.decode(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRefused is the cost of a forged token: the MAC is checked
// before any JSON is read.
func BenchmarkVerifyRefused(b *testing.B) {
	s, tok := benchService(b)
	forged := tok[:len(tok)-2] + "AA"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(forged, KindAccess, loginServer); err == nil {
			b.Fatal("forged token accepted")
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	s, _ := benchService(b)
	c := accessClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Issue(c); err != nil {
			b.Fatal(err)
		}
	}
}
