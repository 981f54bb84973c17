package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// The errors of Verify. Each means the token is not to be honoured; callers
// answer all of them with 401.
var (
	// ErrMalformed is input that is not a token as berth writes them.
	ErrMalformed = errors.New("token: malformed")
	// ErrSignature is a token whose MAC does not match, or whose header
	// names another algorithm than HS256 (including "none").
	ErrSignature = errors.New("token: bad signature")
	// ErrUnknownKey is a token signed by a key this service does not hold:
	// never known, removed from the store, or retired long enough ago that
	// every token it signed has expired.
	ErrUnknownKey = errors.New("token: unknown signing key")
	// ErrExpired is a token past its exp.
	ErrExpired = errors.New("token: expired")
	// ErrNotYetValid is a token whose nbf is still ahead.
	ErrNotYetValid = errors.New("token: not yet valid")
	// ErrAudience is a token minted for another audience: another
	// registry's login server, or the management plane.
	ErrAudience = errors.New("token: wrong audience")
	// ErrKind is a token of another kind than asked, e.g. a refresh token
	// presented as an access token.
	ErrKind = errors.New("token: wrong kind")
	// ErrIssuer is a token signed with a shared key but another issuer:
	// replicas configured with different issuers.
	ErrIssuer = errors.New("token: wrong issuer")
)

// Verify checks a token and returns its claims. It refuses a token that is
// not of kind want, not for audience aud, not signed by one of the
// service's keys, or not valid now give or take Leeway. It does no I/O.
func (s *Service) Verify(token string, want Kind, aud string) (Claims, error) {
	if len(token) == 0 || len(token) > MaxLen {
		return Claims{}, ErrMalformed
	}
	r := s.ring.Load()
	now := s.opts.Now()
	e := r.verified.get(token)
	if e == nil {
		var err error
		if e, err = r.decode(token); err != nil {
			return Claims{}, err
		}
		r.verified.put(token, e)
	}
	if !e.key.verifyUntil.IsZero() && !now.Before(e.key.verifyUntil) {
		r.verified.forget(token)
		return Claims{}, ErrUnknownKey
	}
	c := e.claims
	switch {
	case c.Issuer != s.opts.Issuer:
		return Claims{}, ErrIssuer
	case c.Kind != want:
		return Claims{}, ErrKind
	case aud == "" || c.Audience != aud:
		return Claims{}, ErrAudience
	case now.Before(c.NotBefore.Add(-Leeway)):
		return Claims{}, ErrNotYetValid
	case !now.Before(c.ExpiresAt.Add(Leeway)):
		r.verified.forget(token)
		return Claims{}, ErrExpired
	}
	c.Access = cloneAccess(c.Access)
	return c, nil
}

// decode checks a token's header and MAC, then decodes its claims.
func (r *keyring) decode(token string) (*verified, error) {
	head, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, ErrMalformed
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || len(sig) != sigLen {
		return nil, ErrMalformed
	}
	// The header must be byte for byte one berth writes: any other, even one
	// that means the same, was not written by berth.
	k := r.byHeader[head]
	if k == nil {
		return nil, r.headerError(head)
	}
	// Compare encoded MACs: that refuses non-canonical base64 (stray low
	// bits in the last character), so no two strings carry the same MAC.
	mac := k.mac([]byte(token[:len(head)+1+len(payload)]))
	var want [sigLen]byte
	base64.RawURLEncoding.Encode(want[:], mac[:])
	var diff byte // constant time, as crypto/subtle does it
	for i := range want {
		diff |= want[i] ^ sig[i]
	}
	if diff != 0 {
		return nil, ErrSignature
	}

	// From here on the token is berth's own.
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, ErrMalformed
	}
	var w wireClaims
	if err := json.Unmarshal(raw, &w); err != nil || w.Exp == 0 {
		return nil, ErrMalformed
	}
	return &verified{key: k, claims: w.claims()}, nil
}

// headerError says why a header is not one of the keyring's.
func (r *keyring) headerError(head string) error {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(head)
	if err != nil {
		return ErrMalformed
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return ErrMalformed
	}
	if h.Alg != "HS256" {
		return ErrSignature
	}
	if r.byID[h.Kid] == nil {
		return ErrUnknownKey
	}
	return ErrMalformed
}
