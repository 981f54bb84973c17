package token

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	issuer      = "https://berth.test"
	loginServer = "reg1.berth.test"
)

// t0 is a whole second, as token times are.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newService(t testing.TB, store KeyStore, clk *clock) *Service {
	t.Helper()
	s, err := New(context.Background(), store, Options{Issuer: issuer, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func accessClaims() Claims {
	return Claims{
		Subject: "c1f0d6a2-8d5e-4f7e-9a47-1c1d2e3f4a5b", Audience: loginServer,
		Kind: KindAccess, PrincipalKind: PrincipalManagedIdentity, RunID: "ca12", GrantType: "refresh_token",
		Access: []Access{{Type: "repository", Name: "app/web", Actions: []string{"pull", "push"}}},
	}
}

func issue(t testing.TB, s *Service, c Claims) string {
	t.Helper()
	tok, err := s.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func segment(t *testing.T, tok string, i int) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	clk := &clock{t: t0.Add(700 * time.Millisecond)}
	s := newService(t, &memStore{}, clk)
	for _, tc := range []struct {
		claims Claims
		life   time.Duration
	}{
		{Claims{Subject: "u1", Audience: ManagementAudience, Kind: KindIdentity, PrincipalKind: PrincipalUser, PrincipalName: "alice", GrantType: "password"}, time.Hour},
		{Claims{Subject: "u1", Audience: loginServer, Kind: KindRefresh, PrincipalKind: PrincipalUser, GrantType: "access_token"}, 3 * time.Hour},
		{accessClaims(), 5 * time.Minute},
		{Claims{Subject: "t1", Audience: loginServer, Kind: KindAccess, PrincipalKind: PrincipalToken}, 5 * time.Minute},
	} {
		t.Run(string(tc.claims.Kind)+"/"+string(tc.claims.PrincipalKind), func(t *testing.T) {
			tok := issue(t, s, tc.claims)
			got, err := s.Verify(tok, tc.claims.Kind, tc.claims.Audience)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID == "" {
				t.Error("no jti")
			}
			want := tc.claims
			want.Issuer, want.ID = issuer, got.ID
			want.IssuedAt, want.NotBefore, want.ExpiresAt = t0, t0, t0.Add(tc.life)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Verify = %+v\nwant     %+v", got, want)
			}
			if s.Lifetime(tc.claims.Kind) != tc.life {
				t.Errorf("Lifetime(%s) = %v, want %v", tc.claims.Kind, s.Lifetime(tc.claims.Kind), tc.life)
			}
			if again := issue(t, s, tc.claims); again == tok {
				t.Error("two tokens issued alike: jti not random")
			}

			kid := s.ring.Load().signers[0].id
			if h := string(segment(t, tok, 0)); h != `{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}` {
				t.Errorf("header %s", h)
			}
			var payload map[string]any
			if err := json.Unmarshal(segment(t, tok, 1), &payload); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "kind", "principalKind"} {
				if _, ok := payload[name]; !ok {
					t.Errorf("no %q claim in %v", name, payload)
				}
			}
			if payload["exp"] != float64(t0.Add(tc.life).Unix()) {
				t.Errorf("exp = %v, want %d", payload["exp"], t0.Add(tc.life).Unix())
			}
		})
	}
}

func TestAccessClaimFormat(t *testing.T) {
	s := newService(t, &memStore{}, &clock{t: t0})
	c := accessClaims()
	c.Access = append(c.Access, Access{Type: "repository", Name: "empty", Actions: nil})
	var payload struct {
		Access json.RawMessage `json:"access"`
		RunID  string          `json:"runId"`
	}
	if err := json.Unmarshal(segment(t, issue(t, s, c), 1), &payload); err != nil {
		t.Fatal(err)
	}
	want := `[{"type":"repository","name":"app/web","actions":["pull","push"]},{"type":"repository","name":"empty","actions":[]}]`
	if string(payload.Access) != want {
		t.Errorf("access = %s\nwant     %s", payload.Access, want)
	}
	if payload.RunID != "ca12" {
		t.Errorf("runId = %q", payload.RunID)
	}
	if c.Access[1].Actions != nil {
		t.Error("Issue modified the caller's access list")
	}
}

func TestTimeBoundaries(t *testing.T) {
	clk := &clock{t: t0}
	s := newService(t, &memStore{}, clk)
	tok := issue(t, s, accessClaims())
	exp := t0.Add(DefaultAccessLifetime)
	c := accessClaims()
	c.NotBefore = t0.Add(time.Minute)
	later := issue(t, s, c)
	for _, tc := range []struct {
		name string
		tok  string
		now  time.Time
		want error
	}{
		{"at iat", tok, t0, nil},
		{"just before exp+leeway", tok, exp.Add(Leeway - time.Nanosecond), nil},
		{"at exp+leeway", tok, exp.Add(Leeway), ErrExpired},
		{"a day late", tok, exp.Add(24 * time.Hour), ErrExpired},
		{"at nbf-leeway", later, c.NotBefore.Add(-Leeway), nil},
		{"just before nbf-leeway", later, c.NotBefore.Add(-Leeway - time.Nanosecond), ErrNotYetValid},
		{"before issue", tok, t0.Add(-time.Hour), ErrNotYetValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.t = tc.now
			if _, err := s.Verify(tc.tok, KindAccess, loginServer); !errors.Is(err, tc.want) {
				t.Errorf("Verify at %v = %v, want %v", tc.now, err, tc.want)
			}
		})
	}
}

// sign builds a token with any header and payload, MACed with secret by
// the given hash: what an attacker who knows a key could make, to check
// that Verify refuses the header even when the MAC is right.
func sign(header, payload string, secret []byte, h func() hash.Hash) string {
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	m := hmac.New(h, secret)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestRefused(t *testing.T) {
	clk := &clock{t: t0}
	store := &memStore{}
	s := newService(t, store, clk)
	key := store.keys[0]
	tok := issue(t, s, accessClaims())
	parts := strings.Split(tok, ".")
	payload := string(segment(t, tok, 1))
	b64 := base64.RawURLEncoding.EncodeToString

	refresh := issue(t, s, Claims{Subject: "u1", Audience: loginServer, Kind: KindRefresh, PrincipalKind: PrincipalUser})
	identity := issue(t, s, Claims{Subject: "u1", Audience: ManagementAudience, Kind: KindIdentity, PrincipalKind: PrincipalUser})
	other := newService(t, &memStore{}, clk) // another deployment: other keys
	foreign := issue(t, other, accessClaims())
	otherIssuer, err := New(context.Background(), store, Options{Issuer: "https://elsewhere.test", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	sameKeyOtherIssuer := issue(t, otherIssuer, accessClaims())

	tampered := strings.Replace(payload, `"sub":"c1f0`, `"sub":"00f0`, 1)
	flipped := []byte(parts[2])
	flipped[5] ^= 1
	// The last of 43 characters carries 4 bits of MAC and 2 of padding:
	// another character with the same 4 bits decodes to the same MAC.
	last := parts[2][42]
	alias := strings.IndexByte(base64URL, last) ^ 1
	hdr := func(alg, kid string) string {
		return `{"alg":"` + alg + `","typ":"JWT","kid":"` + kid + `"}`
	}
	for _, tc := range []struct {
		name, tok, aud string
		kind           Kind
		want           error
	}{
		{"valid", tok, loginServer, KindAccess, nil},
		{"another registry's audience", tok, "reg2.berth.test", KindAccess, ErrAudience},
		{"no audience asked", tok, "", KindAccess, ErrAudience},
		{"refresh token as access token", refresh, loginServer, KindAccess, ErrKind},
		{"access token as refresh token", tok, loginServer, KindRefresh, ErrKind},
		{"identity token as access token", identity, ManagementAudience, KindAccess, ErrKind},
		{"identity token at a registry", identity, loginServer, KindIdentity, ErrAudience},
		{"tampered payload", parts[0] + "." + b64([]byte(tampered)) + "." + parts[2], loginServer, KindAccess, ErrSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(flipped), loginServer, KindAccess, ErrSignature},
		{"non-canonical signature", tok[:len(tok)-1] + string(base64URL[alias]), loginServer, KindAccess, ErrSignature},
		{"signature of another token", parts[0] + "." + strings.Split(refresh, ".")[1] + "." + parts[2], loginServer, KindAccess, ErrSignature},
		{"alg none, no signature", b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", loginServer, KindAccess, ErrMalformed},
		{"alg none, kept signature", b64([]byte(`{"alg":"none","typ":"JWT","kid":"`+key.ID+`"}`)) + "." + parts[1] + "." + parts[2], loginServer, KindAccess, ErrSignature},
		{"HS512 with the right key", sign(hdr("HS512", key.ID), payload, key.Secret, sha512.New), loginServer, KindAccess, ErrMalformed},
		{"HS512 header, HS256 MAC", sign(hdr("HS512", key.ID), payload, key.Secret, sha256.New), loginServer, KindAccess, ErrSignature},
		{"RS256 header", b64([]byte(hdr("RS256", key.ID))) + "." + parts[1] + "." + parts[2], loginServer, KindAccess, ErrSignature},
		{"reordered header with the right MAC", sign(`{"kid":"`+key.ID+`","alg":"HS256","typ":"JWT"}`, payload, key.Secret, sha256.New), loginServer, KindAccess, ErrMalformed},
		{"extra header field with the right MAC", sign(`{"alg":"HS256","typ":"JWT","kid":"`+key.ID+`","jku":"http://x"}`, payload, key.Secret, sha256.New), loginServer, KindAccess, ErrMalformed},
		// Claims Issue would not sign, MACed with the right key: what
		// Verify checks for itself.
		{"token and caller both without audience", sign(hdr("HS256", key.ID), strings.Replace(payload, `"aud":"`+loginServer+`"`, `"aud":""`, 1), key.Secret, sha256.New), "", KindAccess, ErrAudience},
		{"no exp", sign(hdr("HS256", key.ID), strings.Replace(payload, `"exp":`, `"xxx":`, 1), key.Secret, sha256.New), loginServer, KindAccess, ErrMalformed},
		{"payload not JSON", sign(hdr("HS256", key.ID), "{", key.Secret, sha256.New), loginServer, KindAccess, ErrMalformed},
		{"aud as a list", sign(hdr("HS256", key.ID), strings.Replace(payload, `"aud":"`+loginServer+`"`, `"aud":["`+loginServer+`"]`, 1), key.Secret, sha256.New), loginServer, KindAccess, ErrMalformed},
		{"unknown kid", foreign, loginServer, KindAccess, ErrUnknownKey},
		{"same key, other issuer", sameKeyOtherIssuer, loginServer, KindAccess, ErrIssuer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := s.Verify(tc.tok, tc.kind, tc.aud)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if err != nil && !reflect.DeepEqual(c, Claims{}) {
				t.Errorf("claims returned with error %v: %+v", err, c)
			}
		})
	}
}

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestGarbageRefused(t *testing.T) {
	clk := &clock{t: t0}
	s := newService(t, &memStore{}, clk)
	tok := issue(t, s, accessClaims())
	parts := strings.Split(tok, ".")
	sig43 := strings.Repeat("A", 43)
	for _, in := range []string{
		"", ".", "..", "...", "a.b.c", "not a token", "Bearer " + tok, " " + tok, tok + " ", tok + ".", tok + "." + parts[2],
		parts[0] + "." + parts[1], parts[0] + "..", "." + parts[1] + "." + parts[2],
		"!!!." + parts[1] + "." + parts[2], parts[0] + ".!!!." + sig43, parts[0] + "." + parts[1] + ".!!!" + sig43[3:],
		parts[0] + "." + parts[1] + "." + sig43 + "=", parts[0] + "=." + parts[1] + "." + parts[2],
		base64.RawURLEncoding.EncodeToString([]byte("null")) + "." + parts[1] + "." + parts[2],
		base64.RawURLEncoding.EncodeToString([]byte(`{"alg":7}`)) + "." + parts[1] + "." + parts[2],
		strings.Repeat("A", MaxLen) + "." + parts[1] + "." + parts[2],
		parts[0] + "." + strings.Repeat("A", 100<<10) + "." + parts[2],
		"\x00\xff." + parts[1] + "." + parts[2],
	} {
		c, err := s.Verify(in, KindAccess, loginServer)
		if err == nil {
			t.Errorf("Verify(%.60q) accepted: %+v", in, c)
			continue
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) && !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Verify(%.60q) = %v, want ErrMalformed, ErrSignature or ErrUnknownKey", in, err)
		}
	}
}

func TestIssueRefuses(t *testing.T) {
	clk := &clock{t: t0}
	s := newService(t, &memStore{}, clk)
	many := accessClaims()
	for i := 0; i < 200; i++ {
		many.Access = append(many.Access, Access{Type: "repository", Name: strings.Repeat("x", 30), Actions: []string{"pull"}})
	}
	for _, tc := range []struct {
		name   string
		change func(*Claims)
	}{
		{"unknown kind", func(c *Claims) { c.Kind = "admin" }},
		{"no kind", func(c *Claims) { c.Kind = "" }},
		{"no subject", func(c *Claims) { c.Subject = "" }},
		{"no audience", func(c *Claims) { c.Audience = "" }},
		{"unknown principal kind", func(c *Claims) { c.PrincipalKind = "robot" }},
		{"access in a refresh token", func(c *Claims) { c.Kind = KindRefresh }},
		{"another issuer", func(c *Claims) { c.Issuer = "https://elsewhere.test" }},
		{"exp beyond the lifetime", func(c *Claims) { c.ExpiresAt = t0.Add(DefaultAccessLifetime + time.Second) }},
		{"exp before nbf", func(c *Claims) { c.NotBefore = t0.Add(time.Minute); c.ExpiresAt = t0.Add(time.Minute) }},
		{"longer than MaxLen", func(c *Claims) { *c = many }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := accessClaims()
			tc.change(&c)
			if tok, err := s.Issue(c); err == nil {
				t.Errorf("Issue = %.60s…, want an error", tok)
			}
		})
	}
	// The same claims without the change are fine, so each case above
	// failed for its own reason.
	if _, err := s.Issue(accessClaims()); err != nil {
		t.Fatal(err)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no issuer", Options{}},
		{"negative lifetime", Options{Issuer: issuer, AccessLifetime: -time.Minute}},
		{"propagation longer than rotation", Options{Issuer: issuer, RotateEvery: time.Hour, Propagation: 2 * time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(context.Background(), &memStore{}, tc.opts); err == nil {
				t.Error("New accepted bad options")
			}
		})
	}
	s, err := New(context.Background(), &memStore{}, Options{Issuer: issuer, AccessLifetime: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if s.Lifetime(KindAccess) != 2*time.Minute || s.Lifetime(KindRefresh) != DefaultRefreshLifetime || s.Lifetime("x") != 0 {
		t.Errorf("lifetimes %v %v %v", s.Lifetime(KindAccess), s.Lifetime(KindRefresh), s.Lifetime("x"))
	}
}

func TestVerifiedClaimsAreCopies(t *testing.T) {
	s := newService(t, &memStore{}, &clock{t: t0})
	tok := issue(t, s, accessClaims())
	for range 2 {
		c, err := s.Verify(tok, KindAccess, loginServer)
		if err != nil {
			t.Fatal(err)
		}
		if c.Access[0].Name != "app/web" || c.Access[0].Actions[0] != "pull" {
			t.Fatalf("access = %+v: changed by the caller of an earlier Verify", c.Access)
		}
		c.Access[0].Name = "other"
		c.Access[0].Actions[0] = "delete"
		c.Access[0].Actions = append(c.Access[0].Actions, "delete")
	}
}

func TestVerifiedTokensBounded(t *testing.T) {
	var v verifiedTokens
	e := &verified{}
	for i := range maxVerified + 10 {
		v.put(strconv.Itoa(i), e)
	}
	n := 0
	v.m.Range(func(any, any) bool { n++; return true })
	if n != 9 || v.n.Load() != 9 {
		t.Errorf("%d tokens remembered (count %d), want 9: cleared at %d, then 9 more", n, v.n.Load(), maxVerified+1)
	}
	v.forget("4099")
	v.forget("4099")
	if v.get("4099") != nil || v.n.Load() != 8 {
		t.Errorf("forget: count %d, want 8", v.n.Load())
	}
	if v.get("4100") != e {
		t.Error("a token put was not remembered")
	}
	v.put("4100", e)
	if v.n.Load() != 8 {
		t.Errorf("a token put twice counted twice: count %d, want 8", v.n.Load())
	}
}
