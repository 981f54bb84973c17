package token

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"sync"
	"time"
)

// secretLen is the size of a signing key: 256 bits, the size of the MAC.
const secretLen = 32

// Key is one signing key as the metadata store keeps it.
type Key struct {
	ID        string // the "kid" of the tokens it signs
	Secret    []byte
	CreatedAt time.Time
	// RetiredAt is when the key stopped signing; zero while it may sign.
	// A retired key still verifies until every token it signed has
	// expired, and the store may delete it after that.
	RetiredAt time.Time
}

// KeyStore is what Service needs of the metadata store. All replicas must
// see the same keys.
type KeyStore interface {
	// Keys returns every key, retired or not.
	Keys(ctx context.Context) ([]Key, error)
	// AddKey stores a new key.
	AddKey(ctx context.Context, k Key) error
	// RetireKey sets a key's RetiredAt. When replicas race, either time
	// will do: all of them are after the key stopped signing.
	RetireKey(ctx context.Context, id string, at time.Time) error
}

// signingKey is a Key decoded once, when keys are loaded, so that Verify
// parses nothing but the token.
type signingKey struct {
	id      string
	created time.Time
	retired time.Time
	// verifyUntil ends a retired key's life; zero for a key not retired.
	verifyUntil time.Time
	// header is the first segment of every token the key signs. Verify
	// looks keys up by it, which also makes it refuse any other header.
	header string
	macs   sync.Pool // of hash.Hash: hmac.New costs two SHA-256 blocks
}

func (k *signingKey) mac(signed []byte) [sha256.Size]byte {
	h := k.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(signed)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	k.macs.Put(h)
	return sum
}

// keyring is the set of keys a Service holds between two Refreshes. Its
// keys never change: Refresh builds a new keyring and swaps it in, which
// also forgets the tokens verified with the old one.
type keyring struct {
	byHeader map[string]*signingKey
	byID     map[string]*signingKey
	// signers are the keys not retired, newest first.
	signers []*signingKey

	verified verifiedTokens
}

// signer picks the key to sign with at now: the newest one that has been in
// the store for at least the propagation delay, so that every replica knows
// it; when none has, at first start, the newest one.
func (r *keyring) signer(now time.Time, propagation time.Duration) *signingKey {
	for _, k := range r.signers {
		if !now.Before(k.created.Add(propagation)) {
			return k
		}
	}
	if len(r.signers) > 0 {
		return r.signers[0]
	}
	return nil
}

func newKey(now time.Time) Key {
	id := make([]byte, 12)
	secret := make([]byte, secretLen)
	// crypto/rand.Read never fails: it crashes the program instead.
	rand.Read(id)
	rand.Read(secret)
	return Key{ID: base64.RawURLEncoding.EncodeToString(id), Secret: secret, CreatedAt: now}
}

// Refresh reloads the keys from the store, adds a key when the newest one
// is near RotateEvery, and retires keys older than RotateEvery once a newer
// key signs. Replicas call it periodically, more often than
// Options.Propagation. On error the keys loaded before stay in use.
func (s *Service) Refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	keys, err := s.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("token: load keys: %w", err)
	}
	now := s.opts.Now()
	changed := false
	if s.needKey(keys, now) {
		if err := s.store.AddKey(ctx, newKey(now)); err != nil {
			return fmt.Errorf("token: add key: %w", err)
		}
		changed = true
	}
	for _, id := range s.toRetire(keys, now) {
		if err := s.store.RetireKey(ctx, id, now); err != nil {
			return fmt.Errorf("token: retire key %s: %w", id, err)
		}
		changed = true
	}
	if changed {
		// Reload rather than patch: another replica may have added a key too.
		if keys, err = s.store.Keys(ctx); err != nil {
			return fmt.Errorf("token: load keys: %w", err)
		}
	}
	r, err := s.keyring(keys, now)
	if err != nil {
		return err
	}
	s.ring.Store(r)
	return nil
}

// needKey reports whether a new key must be added now: when no key will
// still be young enough to sign once a key added now has propagated.
func (s *Service) needKey(keys []Key, now time.Time) bool {
	for _, k := range keys {
		if k.RetiredAt.IsZero() && now.Before(k.CreatedAt.Add(s.opts.RotateEvery-s.opts.Propagation)) {
			return false
		}
	}
	return true
}

// toRetire lists the keys older than RotateEvery for which a newer key has
// propagated and so signs in their place.
func (s *Service) toRetire(keys []Key, now time.Time) []string {
	var ids []string
	for _, old := range keys {
		if !old.RetiredAt.IsZero() || now.Before(old.CreatedAt.Add(s.opts.RotateEvery)) {
			continue
		}
		for _, k := range keys {
			if k.RetiredAt.IsZero() && k.CreatedAt.After(old.CreatedAt) && !now.Before(k.CreatedAt.Add(s.opts.Propagation)) {
				ids = append(ids, old.ID)
				break
			}
		}
	}
	return ids
}

// keyring decodes keys. Keys whose tokens have all expired are left out. A
// malformed key is an error rather than skipped: it means the store is
// corrupt, and tokens it signed would fail in ways hard to trace.
func (s *Service) keyring(keys []Key, now time.Time) (*keyring, error) {
	r := &keyring{byHeader: map[string]*signingKey{}, byID: map[string]*signingKey{}}
	for _, k := range keys {
		if k.ID == "" || len(k.Secret) < secretLen {
			return nil, fmt.Errorf("token: malformed key %q in the store: %d-byte secret", k.ID, len(k.Secret))
		}
		if r.byID[k.ID] != nil {
			return nil, fmt.Errorf("token: key %q twice in the store", k.ID)
		}
		sk := &signingKey{id: k.ID, created: k.CreatedAt, retired: k.RetiredAt}
		if !k.RetiredAt.IsZero() {
			sk.verifyUntil = k.RetiredAt.Add(s.maxLifetime + Leeway)
			if !now.Before(sk.verifyUntil) {
				continue
			}
		}
		kid, _ := json.Marshal(k.ID) // a string always encodes
		sk.header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":` + string(kid) + `}`))
		secret := slices.Clone(k.Secret)
		sk.macs.New = func() any { return hmac.New(sha256.New, secret) }
		r.byHeader[sk.header] = sk
		r.byID[sk.id] = sk
		if sk.retired.IsZero() {
			r.signers = append(r.signers, sk)
		}
	}
	slices.SortFunc(r.signers, func(a, b *signingKey) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	return r, nil
}
