package identity

import (
	"context"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/token"
)

// KeyStore keeps token signing keys in the metadata store, sealed, so that
// every replica signs and verifies with the same keys.
type KeyStore struct {
	DB   *meta.DB
	Seal *Sealer
}

var _ token.KeyStore = KeyStore{}

func keyLabel(id string) string { return "signing-key:" + id }

// Keys returns every key, unsealed.
func (k KeyStore) Keys(ctx context.Context) ([]token.Key, error) {
	stored, err := k.DB.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]token.Key, 0, len(stored))
	for _, s := range stored {
		secret, err := k.Seal.Open(s.Secret, keyLabel(s.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, token.Key{ID: s.ID, Secret: secret, CreatedAt: s.CreatedAt, RetiredAt: s.RetiredAt})
	}
	return out, nil
}

// AddKey stores a new key, sealed.
func (k KeyStore) AddKey(ctx context.Context, key token.Key) error {
	return k.DB.Update(ctx, func(tx *meta.Tx) error {
		return tx.AddSigningKey(ctx, meta.SigningKey{ID: key.ID, Secret: k.Seal.Seal(key.Secret, keyLabel(key.ID)), CreatedAt: key.CreatedAt, RetiredAt: key.RetiredAt})
	})
}

// RetireKey stops a key from signing.
func (k KeyStore) RetireKey(ctx context.Context, id string, at time.Time) error {
	return k.DB.Update(ctx, func(tx *meta.Tx) error { return tx.RetireSigningKey(ctx, id, at) })
}
