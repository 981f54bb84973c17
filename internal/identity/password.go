// Package identity owns who can sign in: users and their password hashes,
// and the check of credentials a request presents. It knows no HTTP routes
// and no registry content.
package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"golang.org/x/crypto/bcrypt"
)

// bcryptCost makes a check take tens of milliseconds on one core. A request
// never pays it twice for the same credentials (see Verifier). bcrypt rather
// than argon2id: argon2id's memory cost would stay in the server's RSS.
const bcryptCost = 10

// ErrBadHash is a stored hash berth cannot read.
var ErrBadHash = errors.New("identity: malformed password hash")

// HashPassword returns a bcrypt hash of password.
func HashPassword(password string) string {
	h, _ := bcrypt.GenerateFromPassword(bcryptInput(password), bcryptCost)
	return string(h)
}

// CheckPassword reports whether password matches a hash from HashPassword.
func CheckPassword(hash, password string) (bool, error) {
	err := bcrypt.CompareHashAndPassword([]byte(hash), bcryptInput(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, ErrBadHash
}

// bcryptInput is what bcrypt sees: bcrypt reads at most 72 bytes, so a
// longer password is replaced by a digest of all of it.
func bcryptInput(password string) []byte {
	if len(password) <= 72 {
		return []byte(password)
	}
	return prehash(password)
}

func prehash(password string) []byte {
	sum := sha256.Sum256([]byte(password)) // 43 characters in base64: under bcrypt's limit
	return []byte(base64.RawStdEncoding.EncodeToString(sum[:]))
}

// RandomPassword returns a password of 24 URL-safe characters.
func RandomPassword() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
