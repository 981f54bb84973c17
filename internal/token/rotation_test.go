package token

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	h := string(segment(t, tok, 0))
	_, kid, _ := strings.Cut(h, `"kid":"`)
	return strings.TrimSuffix(kid, `"}`)
}

func refreshClaims() Claims {
	return Claims{Subject: "u1", Audience: loginServer, Kind: KindRefresh, PrincipalKind: PrincipalUser}
}

func mustRefresh(t *testing.T, s *Service) {
	t.Helper()
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRotation(t *testing.T) {
	clk := &clock{t: t0}
	store := &memStore{}
	s := newService(t, store, clk)
	if len(store.keys) != 1 || len(store.keys[0].Secret) != 32 {
		t.Fatalf("New stored %d keys, want one of 32 bytes: %+v", len(store.keys), store.keys)
	}
	first := store.keys[0].ID

	// Shortly before RotateEvery, the next key is added but does not sign
	// yet: other replicas have not loaded it.
	clk.advance(DefaultRotateEvery - DefaultPropagation)
	mustRefresh(t, s)
	if len(store.keys) != 2 {
		t.Fatalf("%d keys after Refresh at rotation-propagation, want 2", len(store.keys))
	}
	second := store.keys[1].ID
	clk.advance(DefaultPropagation - time.Second)
	mustRefresh(t, s)
	old := issue(t, s, refreshClaims())
	if kidOf(t, old) != first {
		t.Fatalf("signed by %s before the new key propagated, want %s", kidOf(t, old), first)
	}

	// At RotateEvery the new key signs and the old one is retired.
	clk.advance(time.Second)
	retiredAt := clk.Now()
	mustRefresh(t, s)
	if kid := kidOf(t, issue(t, s, refreshClaims())); kid != second {
		t.Fatalf("signed by %s after rotation, want %s", kid, second)
	}
	if len(store.keys) != 2 || !store.keys[0].RetiredAt.Equal(retiredAt) || !store.keys[1].RetiredAt.IsZero() {
		t.Fatalf("keys after rotation: %+v", store.keys)
	}

	// The old key's last token verifies until it expires...
	clk.t = retiredAt.Add(DefaultRefreshLifetime - 2*time.Second)
	mustRefresh(t, s)
	if _, err := s.Verify(old, KindRefresh, loginServer); err != nil {
		t.Fatalf("token of the retired key refused before its expiry: %v", err)
	}
	// ...and the key is dropped once every token it signed has expired,
	// even on a replica that has not refreshed since.
	clk.t = retiredAt.Add(DefaultRefreshLifetime + Leeway)
	if _, err := s.Verify(old, KindRefresh, loginServer); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify with a retired key past its tokens' lifetime = %v, want ErrUnknownKey", err)
	}
	mustRefresh(t, s)
	if _, err := s.Verify(old, KindRefresh, loginServer); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify after Refresh = %v, want ErrUnknownKey", err)
	}
	if r := s.ring.Load(); len(r.byID) != 1 || r.byID[second] == nil {
		t.Errorf("keyring holds %d keys, want only %s", len(r.byID), second)
	}
	if _, err := s.Verify(issue(t, s, refreshClaims()), KindRefresh, loginServer); err != nil {
		t.Fatal(err)
	}
	if len(store.keys) != 2 {
		t.Errorf("%d keys in the store, want 2: no rotation due", len(store.keys))
	}
}

func TestRemovedKeyStopsVerifying(t *testing.T) {
	clk := &clock{t: t0}
	store := &memStore{}
	s := newService(t, store, clk)
	tok := issue(t, s, accessClaims())
	store.remove(store.keys[0].ID)
	if _, err := s.Verify(tok, KindAccess, loginServer); err != nil {
		t.Fatalf("refused before Refresh: %v", err)
	}
	mustRefresh(t, s)
	if _, err := s.Verify(tok, KindAccess, loginServer); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify after the key left the store = %v, want ErrUnknownKey", err)
	}
	// Refresh made a new key, since the store had none.
	if len(store.keys) != 1 {
		t.Fatalf("%d keys, want a new one", len(store.keys))
	}
	if _, err := s.Verify(issue(t, s, accessClaims()), KindAccess, loginServer); err != nil {
		t.Fatal(err)
	}
}

func TestReplicas(t *testing.T) {
	clk := &clock{t: t0}
	store := &memStore{}
	a := newService(t, store, clk)
	b := newService(t, store, clk)
	if len(store.keys) != 1 {
		t.Fatalf("two replicas made %d keys, want 1", len(store.keys))
	}
	for _, pair := range [][2]*Service{{a, b}, {b, a}} {
		if _, err := pair[1].Verify(issue(t, pair[0], accessClaims()), KindAccess, loginServer); err != nil {
			t.Fatalf("a replica refused the other's token: %v", err)
		}
	}

	// a adds the next key; b, refreshing more often than Propagation,
	// loads it before a signs with it. c never refreshes, to show why
	// it has to.
	c := newService(t, store, clk)
	clk.advance(DefaultRotateEvery - DefaultPropagation)
	mustRefresh(t, a)
	clk.advance(DefaultPropagation / 2)
	mustRefresh(t, b)
	clk.advance(DefaultPropagation / 2)
	mustRefresh(t, a)
	tok := issue(t, a, accessClaims())
	if kidOf(t, tok) != store.keys[1].ID {
		t.Fatalf("a signs with %s, want the new key %s", kidOf(t, tok), store.keys[1].ID)
	}
	if _, err := b.Verify(tok, KindAccess, loginServer); err != nil {
		t.Fatalf("b refused a token of the new key: %v", err)
	}
	if _, err := c.Verify(tok, KindAccess, loginServer); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a replica that never refreshed: %v, want ErrUnknownKey", err)
	}
	// b has not refreshed since the key propagated, and picks it by time.
	if kid := kidOf(t, issue(t, b, accessClaims())); kid != store.keys[1].ID {
		t.Errorf("b signs with %s, want the new key", kid)
	}
	// c, which never loaded the new key, still signs with the old one,
	// which a has retired but verifies until its tokens have expired.
	old := store.keys[0].ID
	if kid := kidOf(t, issue(t, c, accessClaims())); kid != old {
		t.Errorf("c signs with %s, want the old key %s", kid, old)
	}
	if _, err := a.Verify(issue(t, c, accessClaims()), KindAccess, loginServer); err != nil {
		t.Errorf("a refused the old key's token: %v", err)
	}
}

func TestRefreshErrors(t *testing.T) {
	clk := &clock{t: t0}
	store := &memStore{}
	s := newService(t, store, clk)
	tok := issue(t, s, accessClaims())

	store.err = errors.New("database is down")
	if err := s.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "database is down") {
		t.Fatalf("Refresh = %v, want the store's error", err)
	}
	if _, err := s.Verify(tok, KindAccess, loginServer); err != nil {
		t.Fatalf("keys lost after a failed Refresh: %v", err)
	}
	if _, err := New(context.Background(), store, Options{Issuer: issuer, Now: clk.Now}); err == nil {
		t.Fatal("New with a failing store succeeded")
	}
	store.err = nil

	for _, tc := range []struct {
		name string
		keys []Key
	}{
		{"short secret", []Key{{ID: "k1", Secret: make([]byte, 16), CreatedAt: t0}}},
		{"no id", []Key{{Secret: make([]byte, 32), CreatedAt: t0}}},
		{"duplicate id", []Key{{ID: "k1", Secret: make([]byte, 32), CreatedAt: t0}, {ID: "k1", Secret: make([]byte, 32), CreatedAt: t0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(context.Background(), &memStore{keys: tc.keys}, Options{Issuer: issuer, Now: clk.Now}); err == nil {
				t.Error("New accepted a malformed key")
			}
		})
	}
}

// A key id is written into the header as a JSON string, whatever it holds.
func TestOddKeyID(t *testing.T) {
	clk := &clock{t: t0}
	store := &memStore{keys: []Key{{ID: `k"1\<`, Secret: make([]byte, 32), CreatedAt: t0}}}
	s := newService(t, store, clk)
	tok := issue(t, s, accessClaims())
	if h := string(segment(t, tok, 0)); h != `{"alg":"HS256","typ":"JWT","kid":"k\"1\\\u003c"}` {
		t.Errorf("header %s", h)
	}
	if _, err := s.Verify(tok, KindAccess, loginServer); err != nil {
		t.Fatal(err)
	}
}

// After a long stop every key is past RotateEvery. The new key must not
// sign at once, since replicas starting with it may not have loaded it, so
// the old one signs, and stays unretired, until it has propagated.
func TestRotationAfterDowntime(t *testing.T) {
	clk := &clock{t: t0}
	store := &memStore{}
	newService(t, store, clk)
	old := store.keys[0].ID

	clk.advance(2 * DefaultRotateEvery)
	s := newService(t, store, clk)
	if len(store.keys) != 2 || !store.keys[0].RetiredAt.IsZero() {
		t.Fatalf("keys after restart: %+v, want a new one and the old one not retired", store.keys)
	}
	for range 2 {
		if kid := kidOf(t, issue(t, s, accessClaims())); kid != old {
			t.Fatalf("signed by %s before the new key propagated, want the old key %s", kid, old)
		}
		clk.advance(DefaultPropagation / 2)
		mustRefresh(t, s)
		if !store.keys[0].RetiredAt.IsZero() && clk.Now().Before(store.keys[1].CreatedAt.Add(DefaultPropagation)) {
			t.Fatalf("old key retired before the new one propagated")
		}
	}
	if kid := kidOf(t, issue(t, s, accessClaims())); kid != store.keys[1].ID {
		t.Fatalf("signed by %s once the new key propagated, want %s", kid, store.keys[1].ID)
	}
	if !store.keys[0].RetiredAt.Equal(clk.Now()) {
		t.Errorf("old key retired at %v, want %v", store.keys[0].RetiredAt, clk.Now())
	}
}
