package identity

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// ErrBadCredentials is a wrong user name or password.
var ErrBadCredentials = errors.New("identity: wrong user name or password")

// userStore is what the verifier needs of the metadata store.
type userStore interface {
	User(ctx context.Context, name string) (meta.User, error)
}

// Verifier checks user names and passwords. A successful check is
// remembered for a short while under a hash of the credentials, so that
// HTTP Basic auth costs a password hash once, not on every request.
type Verifier struct {
	users userStore
	ttl   time.Duration
	now   func() time.Time

	mu   sync.RWMutex
	seen map[[32]byte]time.Time // sha256(user \x00 password) -> valid until
}

// NewVerifier returns a verifier that remembers good credentials for ttl.
func NewVerifier(users userStore, ttl time.Duration) *Verifier {
	return &Verifier{users: users, ttl: ttl, now: time.Now, seen: map[[32]byte]time.Time{}}
}

// Check returns the user when name and password are right.
func (v *Verifier) Check(ctx context.Context, name, password string) (meta.User, error) {
	key := sha256.Sum256([]byte(name + "\x00" + password))
	now := v.now()
	v.mu.RLock()
	until, ok := v.seen[key]
	v.mu.RUnlock()
	if ok && now.Before(until) {
		return meta.User{Name: name}, nil
	}
	u, err := v.users.User(ctx, name)
	if errors.Is(err, meta.ErrNotFound) {
		return u, ErrBadCredentials
	} else if err != nil {
		return u, err
	}
	good, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return u, err
	}
	if !good {
		return u, ErrBadCredentials
	}
	v.mu.Lock()
	if len(v.seen) > 10000 {
		v.seen = map[[32]byte]time.Time{} // bound the memory; good callers come back
	}
	v.seen[key] = now.Add(v.ttl)
	v.mu.Unlock()
	return u, nil
}

// Forget drops every remembered check, after any password changes.
func (v *Verifier) Forget() {
	v.mu.Lock()
	v.seen = map[[32]byte]time.Time{}
	v.mu.Unlock()
}
