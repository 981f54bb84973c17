//go:build !unix

package buildcontext_test

import "testing"

func mkfifo(t *testing.T, p string) { t.Skip("no FIFOs on this platform") }

func mksocket(t *testing.T, p string) { t.Skip("no unix sockets checked on this platform") }
