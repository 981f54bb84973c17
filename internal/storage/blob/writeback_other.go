//go:build !linux

package blob

import "os"

// startWriteback is a no-op where the kernel offers no sync_file_range.
func startWriteback(f *os.File, off, n int64) {}
