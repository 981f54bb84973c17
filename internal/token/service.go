package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Leeway is how far past exp, or before nbf, a token is still accepted. It
// covers clock skew between the replicas that issue and verify, which run
// NTP-synchronised in one data centre, so it is short: an expired token
// works for at most this long.
const Leeway = 30 * time.Second

// MaxLen caps the length of a token. Verify refuses longer input before
// looking at it, and Issue refuses to make a token Verify would refuse: an
// access token is over it only with about a hundred repositories in it.
const MaxLen = 8 << 10

// Default lifetimes and rotation.
const (
	DefaultIdentityLifetime = time.Hour
	DefaultRefreshLifetime  = 3 * time.Hour
	DefaultAccessLifetime   = 5 * time.Minute
	DefaultRotateEvery      = 30 * 24 * time.Hour
	DefaultPropagation      = 10 * time.Minute
)

// Options configures a Service. Zero durations take the defaults above.
type Options struct {
	// Issuer is the "iss" of every token; required.
	Issuer string
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	IdentityLifetime time.Duration
	RefreshLifetime  time.Duration
	AccessLifetime   time.Duration

	// RotateEvery is how long a key signs before a new one replaces it.
	RotateEvery time.Duration
	// Propagation is how long a new key sits in the store before it signs,
	// so that every replica has loaded it before it sees a token signed
	// with it. It must be longer than the interval between two calls of
	// Refresh on any replica.
	Propagation time.Duration
}

func (o *Options) validate() error {
	if o.Issuer == "" {
		return errors.New("token: no issuer")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{
		{&o.IdentityLifetime, DefaultIdentityLifetime},
		{&o.RefreshLifetime, DefaultRefreshLifetime},
		{&o.AccessLifetime, DefaultAccessLifetime},
		{&o.RotateEvery, DefaultRotateEvery},
		{&o.Propagation, DefaultPropagation},
	} {
		if *d.p < 0 {
			return fmt.Errorf("token: negative duration %v in options", *d.p)
		}
		if *d.p == 0 {
			*d.p = d.def
		}
	}
	if o.Propagation >= o.RotateEvery {
		return fmt.Errorf("token: propagation %v not shorter than key rotation %v", o.Propagation, o.RotateEvery)
	}
	return nil
}

// Service issues and verifies tokens. It is safe for concurrent use.
type Service struct {
	store       KeyStore
	opts        Options
	maxLifetime time.Duration

	ring      atomic.Pointer[keyring]
	refreshMu sync.Mutex
}

// New returns a Service over the keys of store, creating the first key if
// there is none.
func New(ctx context.Context, store KeyStore, opts Options) (*Service, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Service{store: store, opts: opts}
	s.maxLifetime = max(opts.IdentityLifetime, opts.RefreshLifetime, opts.AccessLifetime)
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Lifetime returns how long a token of kind k lives when Issue sets its
// expiry, or 0 for an unknown kind.
func (s *Service) Lifetime(k Kind) time.Duration {
	switch k {
	case KindIdentity:
		return s.opts.IdentityLifetime
	case KindRefresh:
		return s.opts.RefreshLifetime
	case KindAccess:
		return s.opts.AccessLifetime
	}
	return 0
}

// Issue signs c. It fills what is unset: iss with Options.Issuer, iat and
// nbf with now, exp with iat plus the kind's lifetime, jti with a random id.
// An exp further away than the kind's lifetime is refused: retired keys
// verify only that long.
func (s *Service) Issue(c Claims) (string, error) {
	life := s.Lifetime(c.Kind)
	if life == 0 {
		return "", fmt.Errorf("token: unknown kind %q", c.Kind)
	}
	if err := c.check(); err != nil {
		return "", err
	}
	now := s.opts.Now()
	if c.Issuer == "" {
		c.Issuer = s.opts.Issuer
	} else if c.Issuer != s.opts.Issuer {
		return "", fmt.Errorf("token: issuer %q is not this service's %q", c.Issuer, s.opts.Issuer)
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = now.Truncate(time.Second)
	}
	if c.NotBefore.IsZero() {
		c.NotBefore = c.IssuedAt
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.IssuedAt.Add(life)
	}
	if c.ExpiresAt.After(now.Add(life)) {
		return "", fmt.Errorf("token: %s token expires in %v, more than its lifetime %v", c.Kind, c.ExpiresAt.Sub(now), life)
	}
	if !c.ExpiresAt.After(c.NotBefore) {
		return "", errors.New("token: expires before it is valid")
	}
	if c.ID == "" {
		jti := make([]byte, 16)
		rand.Read(jti) // never fails: crashes the program instead
		c.ID = base64.RawURLEncoding.EncodeToString(jti)
	}
	k := s.ring.Load().signer(now, s.opts.Propagation)
	if k == nil {
		return "", errors.New("token: no signing key")
	}
	payload, err := json.Marshal(c.wire())
	if err != nil {
		return "", fmt.Errorf("token: encode claims: %w", err)
	}
	n := len(k.header) + 1 + base64.RawURLEncoding.EncodedLen(len(payload))
	if n+1+sigLen > MaxLen {
		return "", fmt.Errorf("token: %d bytes, more than %d", n+1+sigLen, MaxLen)
	}
	b := make([]byte, 0, n+1+sigLen)
	b = append(b, k.header...)
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, payload)
	mac := k.mac(b)
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, mac[:])
	return string(b), nil
}

// sigLen is the length of the third segment: a base64url HMAC-SHA256.
const sigLen = (sha256.Size*8 + 5) / 6 // 43
