package identity

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// Errors the identity service returns; the HTTP layers map them.
var (
	ErrNotFound     = errors.New("identity: not found")
	ErrExists       = errors.New("identity: already exists")
	ErrInvalid      = errors.New("identity: invalid")
	ErrSecretExpiry = errors.New("identity: the secret has expired")
)

// Tenant is the one tenant of a berth instance, as service principals name it.
const Tenant = "berth"

// DefaultSecretYears is how long a service principal's secret lasts.
const DefaultSecretYears = 1

// Service manages the principals of the instance and checks their
// credentials.
type Service struct {
	db       *meta.DB
	seal     *Sealer
	now      func() time.Time
	verifier *Verifier
	secrets  *Verifier // service principal secrets, by appId
	onChange func()    // told after any credential changes
}

// OnChange registers a function told after any credential changes here,
// so that caches elsewhere drop what they know at once.
func (s *Service) OnChange(f func()) { s.onChange = f }

// NewService returns the identity service. ttl is how long a good password
// check is remembered.
func NewService(db *meta.DB, seal *Sealer, ttl time.Duration) *Service {
	s := &Service{db: db, seal: seal, now: time.Now}
	s.verifier = NewVerifier(db, ttl)
	s.secrets = newSecretVerifier(s, ttl)
	return s
}

// SetClock replaces the clock that decides expiry (tests).
func (s *Service) SetClock(now func() time.Time) {
	s.now = now
	s.verifier.now = now
	s.secrets.now = now
}

// Sealer seals what must be read back.
func (s *Service) Sealer() *Sealer { return s.seal }

var principalName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`)

func checkName(what, name string) error {
	if !principalName.MatchString(name) {
		return fmt.Errorf("%w: %s name %q: use 1-128 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", ErrInvalid, what, name)
	}
	return nil
}

// forget drops remembered verdicts after a credential changed.
func (s *Service) forget() {
	s.verifier.Forget()
	s.secrets.Forget()
	if s.onChange != nil {
		s.onChange()
	}
}

// CreateUser adds a user with a password.
func (s *Service) CreateUser(ctx context.Context, name, password string) (meta.Principal, error) {
	if err := checkName("user", name); err != nil {
		return meta.Principal{}, err
	}
	if len(password) < 8 {
		return meta.Principal{}, fmt.Errorf("%w: a password needs at least 8 characters", ErrInvalid)
	}
	p := meta.Principal{Kind: meta.KindUser, Name: name, PasswordHash: HashPassword(password)}
	err := s.db.Update(ctx, func(tx *meta.Tx) error { return tx.CreatePrincipal(ctx, &p) })
	if errors.Is(err, meta.ErrConflict) {
		return p, fmt.Errorf("%w: user %q", ErrExists, name)
	}
	return p, err
}

// ResetPassword gives a user a new password; the old one stops working at once.
func (s *Service) ResetPassword(ctx context.Context, name, password string) error {
	if len(password) < 8 {
		return fmt.Errorf("%w: a password needs at least 8 characters", ErrInvalid)
	}
	u, err := s.db.PrincipalByName(ctx, meta.KindUser, name)
	if err != nil {
		return s.notFound(err, "user", name)
	}
	err = s.db.Update(ctx, func(tx *meta.Tx) error { return tx.UpdatePrincipalPassword(ctx, u.ID, HashPassword(password)) })
	s.forget()
	return err
}

// CheckUser returns the user when the password is right.
func (s *Service) CheckUser(ctx context.Context, name, password string) (meta.Principal, error) {
	u, err := s.verifier.Check(ctx, name, password)
	if err != nil {
		return meta.Principal{}, err
	}
	return meta.Principal{ID: u.PrincipalID, Kind: meta.KindUser, Name: name}, nil
}

// SPCredentials are what create-for-rbac and a credential reset print once.
type SPCredentials struct {
	AppID       string    `json:"appId"`
	DisplayName string    `json:"displayName"`
	Password    string    `json:"password"`
	Tenant      string    `json:"tenant"`
	PrincipalID string    `json:"principalId"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// CreateServicePrincipal adds a service principal with a secret valid for
// years years.
func (s *Service) CreateServicePrincipal(ctx context.Context, name string, years int) (meta.Principal, SPCredentials, error) {
	if err := checkName("service principal", name); err != nil {
		return meta.Principal{}, SPCredentials{}, err
	}
	if years <= 0 || years > 100 {
		return meta.Principal{}, SPCredentials{}, fmt.Errorf("%w: --years must be between 1 and 100", ErrInvalid)
	}
	p := meta.Principal{Kind: meta.KindServicePrincipal, Name: name, AppID: meta.NewID()}
	secret := RandomSecret()
	sec := meta.Secret{PrincipalID: "", Hash: HashPassword(secret), Hint: secret[:3], ExpiresAt: s.now().AddDate(years, 0, 0)}
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		if err := tx.CreatePrincipal(ctx, &p); err != nil {
			return err
		}
		sec.PrincipalID = p.ID
		return tx.AddSecret(ctx, &sec)
	})
	if errors.Is(err, meta.ErrConflict) {
		return p, SPCredentials{}, fmt.Errorf("%w: service principal %q", ErrExists, name)
	} else if err != nil {
		return p, SPCredentials{}, err
	}
	return p, SPCredentials{AppID: p.AppID, DisplayName: name, Password: secret, Tenant: Tenant, PrincipalID: p.ID, ExpiresAt: sec.ExpiresAt}, nil
}

// ResetServicePrincipalCredential replaces every secret of a service
// principal with a new one; the old ones stop working at once.
func (s *Service) ResetServicePrincipalCredential(ctx context.Context, appID string, years int) (SPCredentials, error) {
	if years <= 0 || years > 100 {
		return SPCredentials{}, fmt.Errorf("%w: --years must be between 1 and 100", ErrInvalid)
	}
	p, err := s.ServicePrincipal(ctx, appID)
	if err != nil {
		return SPCredentials{}, err
	}
	secret := RandomSecret()
	sec := meta.Secret{PrincipalID: p.ID, Hash: HashPassword(secret), Hint: secret[:3], ExpiresAt: s.now().AddDate(years, 0, 0)}
	err = s.db.Update(ctx, func(tx *meta.Tx) error {
		if err := tx.DeleteSecrets(ctx, p.ID); err != nil {
			return err
		}
		return tx.AddSecret(ctx, &sec)
	})
	s.forget()
	return SPCredentials{AppID: p.AppID, DisplayName: p.Name, Password: secret, Tenant: Tenant, PrincipalID: p.ID, ExpiresAt: sec.ExpiresAt}, err
}

// ServicePrincipal looks a service principal up by appId, principalId or name.
func (s *Service) ServicePrincipal(ctx context.Context, ref string) (meta.Principal, error) {
	return s.find(ctx, meta.KindServicePrincipal, ref)
}

// find looks a principal of a kind up by appId/clientId, principalId or name.
func (s *Service) find(ctx context.Context, kind, ref string) (meta.Principal, error) {
	for _, look := range []func() (meta.Principal, error){
		func() (meta.Principal, error) { return s.db.PrincipalByAppID(ctx, ref) },
		func() (meta.Principal, error) { return s.db.Principal(ctx, ref) },
		func() (meta.Principal, error) { return s.db.PrincipalByName(ctx, kind, ref) },
	} {
		p, err := look()
		if err == nil && p.Kind == kind {
			return p, nil
		}
		if err != nil && !errors.Is(err, meta.ErrNotFound) {
			return p, err
		}
	}
	return meta.Principal{}, fmt.Errorf("%w: %s %q", ErrNotFound, kindWord(kind), ref)
}

// Resolve finds any principal by principalId, appId/clientId or user name,
// as role assignments name their assignee.
func (s *Service) Resolve(ctx context.Context, ref string) (meta.Principal, error) {
	if p, err := s.db.Principal(ctx, ref); err == nil {
		return p, nil
	}
	if p, err := s.db.PrincipalByAppID(ctx, ref); err == nil {
		return p, nil
	}
	for _, kind := range []string{meta.KindUser, meta.KindServicePrincipal, meta.KindManagedIdentity} {
		if p, err := s.db.PrincipalByName(ctx, kind, ref); err == nil {
			return p, nil
		}
	}
	return meta.Principal{}, fmt.Errorf("%w: no principal has the id, appId or name %q", ErrNotFound, ref)
}

func kindWord(kind string) string {
	switch kind {
	case meta.KindServicePrincipal:
		return "service principal"
	case meta.KindManagedIdentity:
		return "managed identity"
	case meta.KindTrustedService:
		return "trusted service"
	}
	return kind
}

// CheckServicePrincipal returns the service principal when the secret is
// one of its unexpired secrets.
func (s *Service) CheckServicePrincipal(ctx context.Context, appID, secret string) (meta.Principal, error) {
	if _, err := s.secrets.Check(ctx, appID, secret); err != nil {
		return meta.Principal{}, err
	}
	p, err := s.db.PrincipalByAppID(ctx, appID)
	if err != nil || p.Kind != meta.KindServicePrincipal {
		return meta.Principal{}, ErrBadCredentials
	}
	return p, nil
}

// CreateManagedIdentity adds a user-assigned managed identity.
func (s *Service) CreateManagedIdentity(ctx context.Context, name string) (meta.Principal, error) {
	if err := checkName("identity", name); err != nil {
		return meta.Principal{}, err
	}
	p := meta.Principal{Kind: meta.KindManagedIdentity, Name: name, AppID: meta.NewID()}
	err := s.db.Update(ctx, func(tx *meta.Tx) error { return tx.CreatePrincipal(ctx, &p) })
	if errors.Is(err, meta.ErrConflict) {
		return p, fmt.Errorf("%w: identity %q", ErrExists, name)
	}
	return p, err
}

// ManagedIdentity looks a managed identity up by clientId, principalId or name.
func (s *Service) ManagedIdentity(ctx context.Context, ref string) (meta.Principal, error) {
	return s.find(ctx, meta.KindManagedIdentity, ref)
}

// Principal looks a principal up by its principalId.
func (s *Service) Principal(ctx context.Context, id string) (meta.Principal, error) {
	p, err := s.db.Principal(ctx, id)
	return p, s.notFound(err, "principal", id)
}

// Principals lists the principals of a kind ("" for all).
func (s *Service) Principals(ctx context.Context, kind string) ([]meta.Principal, error) {
	return s.db.Principals(ctx, kind)
}

// DeletePrincipal removes a principal with its secrets and role
// assignments; its credentials and tokens stop working at once.
func (s *Service) DeletePrincipal(ctx context.Context, p meta.Principal) error {
	err := s.db.Update(ctx, func(tx *meta.Tx) error { return tx.DeletePrincipal(ctx, p.ID) })
	s.forget()
	if errors.Is(err, meta.ErrNotFound) {
		return fmt.Errorf("%w: %s %q", ErrNotFound, kindWord(p.Kind), p.Name)
	}
	return err
}

func (s *Service) notFound(err error, what, name string) error {
	if errors.Is(err, meta.ErrNotFound) {
		return fmt.Errorf("%w: %s %q", ErrNotFound, what, name)
	}
	return err
}

// RandomSecret returns a 40-character secret.
func RandomSecret() string { return RandomPassword() + RandomPassword()[:16] }

// newSecretVerifier checks service principal secrets: the name is the appId.
func newSecretVerifier(s *Service, ttl time.Duration) *Verifier {
	return newVerifier(ttl, func(ctx context.Context, appID, secret string) (meta.User, time.Time, error) {
		p, err := s.db.PrincipalByAppID(ctx, appID)
		if errors.Is(err, meta.ErrNotFound) || err == nil && p.Kind != meta.KindServicePrincipal {
			CheckPassword(dummyHash, secret)
			return meta.User{}, time.Time{}, ErrBadCredentials
		} else if err != nil {
			return meta.User{}, time.Time{}, err
		}
		secrets, err := s.db.Secrets(ctx, p.ID)
		if err != nil {
			return meta.User{}, time.Time{}, err
		}
		now := s.now()
		for _, sec := range secrets {
			if !now.Before(sec.ExpiresAt) {
				continue
			}
			if ok, _ := CheckPassword(sec.Hash, secret); ok {
				return meta.User{PrincipalID: p.ID, Name: p.Name}, sec.ExpiresAt, nil
			}
		}
		return meta.User{}, time.Time{}, ErrBadCredentials
	})
}

// CreateSystemIdentity adds the system-assigned managed identity of owner
// (a task): it lives and dies with its owner, is never listed among the
// user-assigned identities, and its tokens may use the tasks bypass of a
// registry's network rules.
func (s *Service) CreateSystemIdentity(ctx context.Context, owner string) (meta.Principal, error) {
	if owner == "" {
		return meta.Principal{}, errors.New("identity: a system-assigned identity needs an owner")
	}
	p := meta.Principal{Kind: meta.KindManagedIdentity, Name: "system-" + meta.NewID(), AppID: meta.NewID(), Owner: owner}
	err := s.db.Update(ctx, func(tx *meta.Tx) error { return tx.CreatePrincipal(ctx, &p) })
	return p, err
}

// SetTrusted marks a principal as a trusted service, whose tokens pass a
// registry's network rules when the registry allows trusted services, or
// takes the mark away. Tokens issued before the change keep what they
// carry until they expire.
func (s *Service) SetTrusted(ctx context.Context, p meta.Principal, trusted bool) error {
	err := s.db.Update(ctx, func(tx *meta.Tx) error { return tx.SetPrincipalTrusted(ctx, p.ID, trusted) })
	s.forget()
	return s.notFound(err, kindWord(p.Kind), p.Name)
}
