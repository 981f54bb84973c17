package identity

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// AdminCredentials is a registry's admin user as shown to its owners.
type AdminCredentials struct {
	Enabled   bool
	Username  string
	Passwords []NamedPassword
}

// NamedPassword is one of two passwords, "password" or "password2".
type NamedPassword struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

var passwordNames = [2]string{"password", "password2"}

func adminLabel(reg meta.Registry, i int) string {
	return "admin:" + strconv.FormatInt(reg.ID, 10) + ":" + passwordNames[i]
}

// AdminCredentials returns a registry's admin user with its passwords.
func (s *Service) AdminCredentials(ctx context.Context, reg meta.Registry) (AdminCredentials, error) {
	a, err := s.db.AdminCredentials(ctx, reg.ID)
	if err != nil {
		return AdminCredentials{}, err
	}
	out := AdminCredentials{Enabled: a.Enabled, Username: reg.Name}
	for i, sealed := range a.Passwords {
		if len(sealed) == 0 {
			continue
		}
		p, err := s.seal.Open(sealed, adminLabel(reg, i))
		if err != nil {
			return out, err
		}
		out.Passwords = append(out.Passwords, NamedPassword{Name: passwordNames[i], Value: string(p)})
	}
	return out, nil
}

// SetAdminEnabled turns a registry's admin user on or off; turning it on the
// first time creates both passwords.
func (s *Service) SetAdminEnabled(ctx context.Context, reg meta.Registry, enabled bool) error {
	defer s.forget()
	return s.db.Update(ctx, func(tx *meta.Tx) error {
		a, err := tx.AdminCredentials(ctx, reg.ID)
		if err != nil {
			return err
		}
		a.Enabled = enabled
		for i := range a.Passwords {
			if enabled && len(a.Passwords[i]) == 0 {
				a.Passwords[i] = s.seal.Seal([]byte(RandomSecret()), adminLabel(reg, i))
			}
		}
		return tx.SetAdminCredentials(ctx, reg.ID, a)
	})
}

// RenewAdminPassword replaces one admin password ("password" or
// "password2"); the old value stops working at once, the other is kept.
func (s *Service) RenewAdminPassword(ctx context.Context, reg meta.Registry, name string) error {
	i := -1
	for j, n := range passwordNames {
		if n == name {
			i = j
		}
	}
	if i < 0 {
		return fmt.Errorf("%w: --password-name must be password or password2, not %q", ErrInvalid, name)
	}
	defer s.forget()
	return s.db.Update(ctx, func(tx *meta.Tx) error {
		a, err := tx.AdminCredentials(ctx, reg.ID)
		if err != nil {
			return err
		}
		if !a.Enabled {
			return fmt.Errorf("%w: the admin user of %s is disabled; enable it with --admin-enabled true", ErrInvalid, reg.Name)
		}
		a.Passwords[i] = s.seal.Seal([]byte(RandomSecret()), adminLabel(reg, i))
		return tx.SetAdminCredentials(ctx, reg.ID, a)
	})
}

// CheckAdmin reports whether user and password are the registry's enabled
// admin user.
func (s *Service) CheckAdmin(ctx context.Context, reg meta.Registry, user, password string) (bool, error) {
	if user != reg.Name {
		return false, nil
	}
	a, err := s.db.AdminCredentials(ctx, reg.ID)
	if err != nil || !a.Enabled {
		return false, err
	}
	for i, sealed := range a.Passwords {
		if len(sealed) == 0 {
			continue
		}
		p, err := s.seal.Open(sealed, adminLabel(reg, i))
		if err != nil {
			return false, err
		}
		if subtle.ConstantTimeCompare(p, []byte(password)) == 1 {
			return true, nil
		}
	}
	return false, nil
}

// TokenCredentials are what creating a token or generating a password
// prints once.
type TokenCredentials struct {
	Username  string          `json:"username"`
	Passwords []TokenPassword `json:"passwords"`
}

// TokenPassword is a new token password with its expiry.
type TokenPassword struct {
	Name   string     `json:"name"`
	Value  string     `json:"value"`
	Expiry *time.Time `json:"expiry,omitempty"`
}

// CreateToken adds a registry token bound to a scope map, with both
// passwords.
func (s *Service) CreateToken(ctx context.Context, reg meta.Registry, name, scopeMap string) (TokenCredentials, error) {
	if err := checkName("token", name); err != nil {
		return TokenCredentials{}, err
	}
	t := meta.RegistryToken{RegistryID: reg.ID, Name: name, ScopeMap: scopeMap, Enabled: true}
	creds := TokenCredentials{Username: name}
	for i := range t.Passwords {
		v := RandomSecret()
		t.Passwords[i] = meta.TokenPassword{Hash: HashPassword(v), CreatedAt: s.now().UTC()}
		creds.Passwords = append(creds.Passwords, TokenPassword{Name: "password" + strconv.Itoa(i+1), Value: v})
	}
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		if _, err := tx.RegistryToken(ctx, reg.ID, name); err == nil {
			return fmt.Errorf("%w: token %q", ErrExists, name)
		}
		return tx.PutRegistryToken(ctx, &t)
	})
	return creds, err
}

// GenerateTokenPassword replaces password1 or password2 (which is 1 or 2)
// of a token, expiring after days days (0: never).
func (s *Service) GenerateTokenPassword(ctx context.Context, reg meta.Registry, name string, which, days int) (TokenCredentials, error) {
	if which != 1 && which != 2 {
		return TokenCredentials{}, fmt.Errorf("%w: give --password1 or --password2", ErrInvalid)
	}
	if days < 0 {
		return TokenCredentials{}, fmt.Errorf("%w: --expiration-in-days must not be negative", ErrInvalid)
	}
	v := RandomSecret()
	p := meta.TokenPassword{Hash: HashPassword(v), CreatedAt: s.now().UTC()}
	out := TokenPassword{Name: "password" + strconv.Itoa(which), Value: v}
	if days > 0 {
		p.ExpiresAt = s.now().UTC().AddDate(0, 0, days)
		out.Expiry = &p.ExpiresAt
	}
	err := s.updateToken(ctx, reg, name, func(t *meta.RegistryToken) { t.Passwords[which-1] = p })
	return TokenCredentials{Username: name, Passwords: []TokenPassword{out}}, err
}

// SetTokenEnabled enables or disables a token; a disabled token stops
// working at once.
func (s *Service) SetTokenEnabled(ctx context.Context, reg meta.Registry, name string, enabled bool) error {
	return s.updateToken(ctx, reg, name, func(t *meta.RegistryToken) { t.Enabled = enabled })
}

// SetTokenScopeMap binds a token to another scope map.
func (s *Service) SetTokenScopeMap(ctx context.Context, reg meta.Registry, name, scopeMap string) error {
	return s.updateToken(ctx, reg, name, func(t *meta.RegistryToken) { t.ScopeMap = scopeMap })
}

func (s *Service) updateToken(ctx context.Context, reg meta.Registry, name string, change func(*meta.RegistryToken)) error {
	defer s.forget()
	return s.db.Update(ctx, func(tx *meta.Tx) error {
		t, err := tx.RegistryToken(ctx, reg.ID, name)
		if errors.Is(err, meta.ErrNotFound) {
			return fmt.Errorf("%w: token %q", ErrNotFound, name)
		} else if err != nil {
			return err
		}
		change(&t)
		return tx.PutRegistryToken(ctx, &t)
	})
}

// CheckToken returns a registry's token when it is enabled and the password
// is one of its unexpired passwords.
func (s *Service) CheckToken(ctx context.Context, reg meta.Registry, name, password string) (meta.RegistryToken, error) {
	t, err := s.db.RegistryToken(ctx, reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return t, ErrBadCredentials
	} else if err != nil {
		return t, err
	}
	if !t.Enabled {
		return t, ErrBadCredentials
	}
	now := s.now()
	key := "token:" + strconv.FormatInt(reg.ID, 10) + ":" + name
	_, err = s.secrets.checkWith(ctx, key, password, func(ctx context.Context, _, password string) (meta.User, time.Time, error) {
		for _, p := range t.Passwords {
			if p.Hash == "" || !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt) {
				continue
			}
			if ok, _ := CheckPassword(p.Hash, password); ok {
				return meta.User{Name: t.Name}, p.ExpiresAt, nil
			}
		}
		return meta.User{}, time.Time{}, ErrBadCredentials
	})
	return t, err
}
