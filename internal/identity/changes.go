package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// Changed drops every remembered verdict here and tells the OnChange hook,
// after a change that decides who may do what but is written elsewhere: a
// role assignment made or removed, a registry deleted with its tokens.
// Credentials and rights then take effect at once on this replica.
func (s *Service) Changed() { s.forget() }

// GenerateTokenPasswordUntil is GenerateTokenPassword with an exact expiry
// (zero: never) instead of a number of days. An expiry already past is
// ErrInvalid.
func (s *Service) GenerateTokenPasswordUntil(ctx context.Context, reg meta.Registry, name string, which int, expiry time.Time) (TokenCredentials, error) {
	if which != 1 && which != 2 {
		return TokenCredentials{}, fmt.Errorf("%w: the password name must be password1 or password2", ErrInvalid)
	}
	now := s.now().UTC()
	if !expiry.IsZero() && !expiry.After(now) {
		return TokenCredentials{}, fmt.Errorf("%w: the expiry %s is not in the future", ErrInvalid, expiry.UTC().Format(time.RFC3339))
	}
	v := RandomSecret()
	p := meta.TokenPassword{Hash: HashPassword(v), CreatedAt: now}
	out := TokenPassword{Name: fmt.Sprintf("password%d", which), Value: v}
	if !expiry.IsZero() {
		p.ExpiresAt = expiry.UTC()
		out.Expiry = &p.ExpiresAt
	}
	err := s.updateToken(ctx, reg, name, func(t *meta.RegistryToken) { t.Passwords[which-1] = p })
	return TokenCredentials{Username: name, Passwords: []TokenPassword{out}}, err
}
