package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Sealer encrypts the few secrets berth must be able to read back (admin
// passwords, which can be shown again, and token signing keys) with a master
// key kept in a file beside the data, never in the metadata store. A copy
// of the database alone reveals none of them.
type Sealer struct {
	aead cipher.AEAD
}

// ErrUnseal is sealed data that does not open with this master key.
var ErrUnseal = errors.New("identity: sealed data does not open with this master key")

// LoadSealer reads the master key at path, creating it (mode 0600) on the
// first start.
func LoadSealer(path string) (*Sealer, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create master key: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("master key %s: want 32 bytes, found %d", path, len(key))
	}
	return NewSealer(key)
}

// NewSealer returns a sealer over a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts p; label binds the result to what it is for, so a sealed
// value cannot be moved to another column or registry.
func (s *Sealer) Seal(p []byte, label string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, p, []byte(label))
}

// Open decrypts what Seal made with the same label.
func (s *Sealer) Open(sealed []byte, label string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrUnseal
	}
	p, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(label))
	if err != nil {
		return nil, ErrUnseal
	}
	return p, nil
}
