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

// Verifier checks user names and passwords. A verdict is remembered for a
// while under a hash of the credentials, so that HTTP Basic auth costs a
// password hash once, not on every request: a good one for ttl, a wrong
// one for badTTL. Concurrent checks of the same credentials share one hash.
type Verifier struct {
	check  checkFunc
	ttl    time.Duration
	badTTL time.Duration
	now    func() time.Time

	mu       sync.RWMutex
	seen     map[[32]byte]verdict
	inflight map[[32]byte]*flight
}

type verdict struct {
	good  bool
	user  meta.User // what the check returned, without the hash
	until time.Time
}

type flight struct {
	done chan struct{}
	user meta.User
	err  error
}

// maxVerdicts bounds the memory of remembered verdicts.
const maxVerdicts = 10000

// dummyHash is checked for unknown users, so that a wrong user name costs
// as much time as a wrong password and answers reveal no user names.
var dummyHash = HashPassword(RandomPassword())

// checkFunc checks a name and password once, the slow way. A good answer
// may say until when it holds (zero: no limit).
type checkFunc func(ctx context.Context, name, password string) (meta.User, time.Time, error)

// NewVerifier returns a verifier of user passwords that remembers good
// credentials for ttl and wrong ones for a few seconds.
func NewVerifier(users userStore, ttl time.Duration) *Verifier {
	return newVerifier(ttl, func(ctx context.Context, name, password string) (meta.User, time.Time, error) {
		u, err := checkUser(ctx, users, name, password)
		return u, time.Time{}, err
	})
}

func newVerifier(ttl time.Duration, check checkFunc) *Verifier {
	return &Verifier{check: check, ttl: ttl, badTTL: 5 * time.Second, now: time.Now,
		seen: map[[32]byte]verdict{}, inflight: map[[32]byte]*flight{}}
}

// Check returns the user when name and password are right.
func (v *Verifier) Check(ctx context.Context, name, password string) (meta.User, error) {
	return v.checkWith(ctx, name, password, v.check)
}

// checkWith is Check with another slow check, sharing the cache: name must
// then be distinct from the names Check sees.
func (v *Verifier) checkWith(ctx context.Context, name, password string, check checkFunc) (meta.User, error) {
	key := sha256.Sum256([]byte(name + "\x00" + password))
	// The hit, nearly every call, takes only the read lock.
	v.mu.RLock()
	vd, ok := v.seen[key]
	v.mu.RUnlock()
	if ok && v.now().Before(vd.until) {
		if vd.good {
			return vd.user, nil
		}
		return meta.User{}, ErrBadCredentials
	}
	v.mu.Lock()
	if vd, ok := v.seen[key]; ok && v.now().Before(vd.until) {
		v.mu.Unlock()
		if vd.good {
			return vd.user, nil
		}
		return meta.User{}, ErrBadCredentials
	}
	if f, ok := v.inflight[key]; ok {
		v.mu.Unlock()
		select {
		case <-f.done:
			return f.user, f.err
		case <-ctx.Done():
			return meta.User{}, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	v.inflight[key] = f
	v.mu.Unlock()

	var limit time.Time
	f.user, limit, f.err = check(ctx, name, password)

	v.mu.Lock()
	delete(v.inflight, key)
	if f.err == nil || errors.Is(f.err, ErrBadCredentials) {
		if len(v.seen) >= maxVerdicts {
			v.seen = map[[32]byte]verdict{} // good callers come back
		}
		ttl := v.ttl
		if f.err != nil {
			ttl = v.badTTL
		}
		until := v.now().Add(ttl)
		if f.err == nil && !limit.IsZero() && limit.Before(until) {
			until = limit // a secret that expires stops working at once
		}
		u := f.user
		u.PasswordHash = ""
		v.seen[key] = verdict{good: f.err == nil, user: u, until: until}
	}
	v.mu.Unlock()
	close(f.done)
	return f.user, f.err
}

func checkUser(ctx context.Context, users userStore, name, password string) (meta.User, error) {
	u, err := users.User(ctx, name)
	if errors.Is(err, meta.ErrNotFound) {
		CheckPassword(dummyHash, password)
		return meta.User{}, ErrBadCredentials
	} else if err != nil {
		return meta.User{}, err
	}
	good, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return meta.User{}, err
	}
	if !good {
		return meta.User{}, ErrBadCredentials
	}
	return u, nil
}

// Forget drops every remembered verdict, after any password changes.
func (v *Verifier) Forget() {
	v.mu.Lock()
	v.seen = map[[32]byte]verdict{}
	v.mu.Unlock()
}
