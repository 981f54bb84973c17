package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
)

// pattern is deterministic blob content of any length that costs a memcpy
// to produce, so a 1 GiB blob is streamed without ever being held in memory.
// It repeats a pseudo-random block whose first 8 bytes are replaced by a
// stamp of the block's index, so no two blocks, and no two seeds, are equal.
type pattern struct {
	seed  uint64
	block [patternBlock]byte
}

const patternBlock = 64 << 10

var _ io.ReaderAt = (*pattern)(nil)

func newPattern(seed uint64) *pattern {
	p := &pattern{seed: seed}
	r := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i < patternBlock; i += 8 {
		binary.LittleEndian.PutUint64(p.block[i:], r.Uint64())
	}
	return p
}

// ReadAt fills buf with the content at off; the pattern has no end, callers
// bound it with io.NewSectionReader.
func (p *pattern) ReadAt(buf []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("pattern: negative offset")
	}
	total := len(buf)
	for len(buf) > 0 {
		index, in := off/patternBlock, int(off%patternBlock)
		n := copy(buf, p.block[in:])
		if in < 8 {
			var stamp [8]byte
			binary.LittleEndian.PutUint64(stamp[:], uint64(index)*0x9e3779b97f4a7c15^p.seed)
			copy(buf[:n], stamp[in:])
		}
		buf, off = buf[n:], off+int64(n)
	}
	return total, nil
}

// reader returns the first size bytes of the pattern as a stream.
func (p *pattern) reader(size int64) *io.SectionReader {
	return io.NewSectionReader(p, 0, size)
}

// digest returns the sha256 digest of the first size bytes.
func (p *pattern) digest(size int64) (string, error) {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, readerOnly{p.reader(size)}, make([]byte, 1<<20)); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// readerOnly and writerOnly hide ReadFrom/WriteTo so that io.CopyBuffer uses
// the buffer it is given: the pull and the loopback TCP limit then read the
// same way and their ratio compares like with like.
type readerOnly struct{ io.Reader }

type writerOnly struct{ io.Writer }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// drain reads r to its end in 256 KiB reads and returns the byte count.
func drain(r io.Reader) (int64, error) {
	return io.CopyBuffer(discard{}, readerOnly{r}, make([]byte, 256<<10))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails, per crypto/rand
	return hex.EncodeToString(b)
}

// sizeFlag is a byte count written as a number with an optional unit:
// B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB or K/M/G/T (powers of 1024).
type sizeFlag int64

func (s *sizeFlag) String() string { return formatSize(int64(*s)) }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	if num == "" {
		return 0, fmt.Errorf("size %q: want a number with an optional unit such as MiB", s)
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q", s, s[i:])
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %v", s, err)
	}
	v := f * float64(mult)
	if v < 1 || v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: out of range", s)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("size %q: not a whole number of bytes", s)
	}
	return int64(v), nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// formatSize writes n in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
