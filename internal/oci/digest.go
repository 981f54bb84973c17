// Package oci owns the vocabulary of the OCI image and distribution specs:
// digests, media types, the name and tag grammar, and manifest validation.
// It knows nothing of HTTP, storage or identities.
package oci

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"strings"
)

// Digest is a content identifier "algorithm:hex", validated by ParseDigest.
type Digest string

// ErrDigestInvalid is returned for a digest that does not follow the grammar
// or names an algorithm berth does not support.
var ErrDigestInvalid = errors.New("invalid digest")

// ParseDigest validates s as a sha256 or sha512 digest with lower-case hex.
func ParseDigest(s string) (Digest, error) {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok {
		return "", ErrDigestInvalid
	}
	var want int
	switch alg {
	case "sha256":
		want = 64
	case "sha512":
		want = 128
	default:
		return "", ErrDigestInvalid
	}
	if len(hex) != want {
		return "", ErrDigestInvalid
	}
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", ErrDigestInvalid
		}
	}
	return Digest(s), nil
}

// Algorithm returns the part before the colon.
func (d Digest) Algorithm() string { a, _, _ := strings.Cut(string(d), ":"); return a }

// Hex returns the part after the colon.
func (d Digest) Hex() string { _, h, _ := strings.Cut(string(d), ":"); return h }

func (d Digest) String() string { return string(d) }

// NewHash returns a fresh hash for the digest's algorithm.
func (d Digest) NewHash() hash.Hash { return NewHash(d.Algorithm()) }

// NewHash returns a hash for a supported algorithm, sha256 for anything else.
func NewHash(alg string) hash.Hash {
	if alg == "sha512" {
		return sha512.New()
	}
	return sha256.New()
}

// FromHash builds a digest from a finished hash of the given algorithm.
func FromHash(alg string, h hash.Hash) Digest {
	const hexdigits = "0123456789abcdef"
	sum := h.Sum(nil)
	b := make([]byte, 0, len(alg)+1+2*len(sum))
	b = append(b, alg...)
	b = append(b, ':')
	for _, c := range sum {
		b = append(b, hexdigits[c>>4], hexdigits[c&15])
	}
	return Digest(b)
}

// FromBytes is the sha256 digest of p.
func FromBytes(p []byte) Digest {
	h := sha256.New()
	h.Write(p)
	return FromHash("sha256", h)
}

// FromBytesAlg is the digest of p with the given algorithm.
func FromBytesAlg(alg string, p []byte) Digest {
	h := NewHash(alg)
	h.Write(p)
	return FromHash(alg, h)
}
