//go:build unix

package buildcontext_test

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func mkfifo(t *testing.T, p string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, syscall.Mkfifo(p, 0o644))
}

func mksocket(t *testing.T, p string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Skipf("cannot make a unix socket here: %v", err)
	}
	t.Cleanup(func() { l.Close() })
}
