package testserver

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// tailSize bounds how much server output a test keeps: enough for the
// start-up and the last requests, small enough for a long test.
const tailSize = 256 << 10

// failureTail is how much of the server's output a failed test logs.
const failureTail = 16 << 10

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[…]" + s[len(s)-n:]
}

// tailBuffer keeps the last tailSize bytes written to it. It is safe for
// concurrent use, since os/exec copies output from another goroutine.
type tailBuffer struct {
	mu      sync.Mutex
	buf     []byte
	dropped bool
}

func newTailBuffer() *tailBuffer { return &tailBuffer{} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - tailSize; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.dropped = true
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped {
		return "[…]" + string(b.buf)
	}
	return string(b.buf)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
