package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-project/berth/pkg/buildcontext"
	"github.com/berth-project/berth/pkg/client"
)

// contextSize is the size of the uploaded context, the issue's "context
// upload MB/s for a 200 MB context".
const contextSize = 200_000_000

// uploadTries is how many times each upload figure is measured; the best
// counts, as for the machine limits.
const uploadTries = 3

// contextMix is what the generated context holds, the mix of
// BenchmarkContext200MB (internal/buildcontext), so that the two figures
// compare: a few large binaries (incompressible), medium files half binary
// and half text, many source files, then small text files up to the size.
var contextMix = []struct {
	count, size int
	binary      bool
}{
	{1, 48 << 20, true},
	{12, 4 << 20, true},
	{100, 256 << 10, true},
	{100, 256 << 10, false},
	{4000, 8 << 10, false},
}

// makeContext writes about size bytes of files under dir in contextMix and
// returns the bytes and files written. The content depends only on the
// seed, so every run uploads the same context.
func makeContext(dir string, size int64) (int64, int, error) {
	rng := rand.New(rand.NewPCG(5, 200))
	bin := rand.NewChaCha8([32]byte{5, 200})
	words := []string{"func", "return", "if", "err", "!=", "nil", "{", "}", "ctx", "context.Context", "string",
		"int64", "for", "range", "package", "import", "//", "the", "build", "context", "\n", "\t", "=", ":="}
	text := func(n int) []byte {
		var b bytes.Buffer
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		return b.Bytes()[:n]
	}
	var total int64
	files := 0
	write := func(name string, data []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		total += int64(len(data))
		files++
		return nil
	}
	for _, m := range contextMix {
		for i := range m.count {
			if total+int64(m.size) > size {
				break
			}
			kind, data := "src", []byte(nil)
			if m.binary {
				kind, data = "bin", make([]byte, m.size)
				bin.Read(data)
			} else {
				data = text(m.size)
			}
			if err := write(fmt.Sprintf("%s/%d/%03d/f%04d", kind, m.size, i/100, i), data); err != nil {
				return total, files, err
			}
		}
	}
	for i := 0; total < size; i++ {
		n := min(512+rng.IntN(4096), int(size-total))
		if err := write(fmt.Sprintf("small/%03d/f%05d.txt", i/100, i), text(n)); err != nil {
			return total, files, err
		}
	}
	return total, files, nil
}

// uploadFigures measures a 200 MB context three ways, each best of
// uploadTries: packed alone (to a discarded stream, the ceiling of the
// second), packed and uploaded as `berth build DIR` does (the stream made
// while it is sent), and its tar.gz uploaded alone as `berth build
// FILE.tar.gz` does. The first two count the context's file bytes, the
// last the archive's.
func (b *bench) uploadFigures(ctx context.Context, runs client.Runs) error {
	const phase = "build"
	work, err := os.MkdirTemp("", "berth-bench-context-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	dir := filepath.Join(work, "context")
	b.logf("writing a %d MB context", contextSize/1_000_000)
	size, files, err := makeContext(dir, contextSize)
	if err != nil {
		return fmt.Errorf("writing the context: %w", err)
	}
	archive := filepath.Join(work, "context.tar.gz")
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	_, err = buildcontext.Write(ctx, f, dir, buildcontext.PackOptions{})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("packing the context: %w", err)
	}
	fi, err := os.Stat(archive)
	if err != nil {
		return err
	}
	packed := fi.Size()
	b.logf("context: %d files, %d bytes, packed to %d bytes", files, size, packed)

	var packMBps, bothMBps, uploadMBps float64
	for range uploadTries {
		start := time.Now()
		if _, err := buildcontext.Write(ctx, discard{}, dir, buildcontext.PackOptions{}); err != nil {
			return err
		}
		packMBps = max(packMBps, mbps(size, time.Since(start)))

		start = time.Now()
		r, _, err := buildcontext.Pack(ctx, dir, buildcontext.PackOptions{})
		if err != nil {
			return err
		}
		got, err := runs.UploadContext(ctx, r, -1)
		r.Close()
		if err != nil {
			return fmt.Errorf("pack and upload: %w", err)
		}
		bothMBps = max(bothMBps, mbps(size, time.Since(start)))
		if got.Size != packed {
			return fmt.Errorf("pack and upload: the server stored %d bytes, the archive has %d", got.Size, packed)
		}

		// As `berth build context.tar.gz` sends it: passed through Pack,
		// which checks the gzip header, with its size known.
		start = time.Now()
		r, _, err = buildcontext.Pack(ctx, archive, buildcontext.PackOptions{})
		if err != nil {
			return err
		}
		_, err = runs.UploadContext(ctx, r, packed)
		elapsed := time.Since(start)
		r.Close()
		if err != nil {
			return fmt.Errorf("upload: %w", err)
		}
		uploadMBps = max(uploadMBps, mbps(packed, elapsed))
	}
	b.add(phase, fmt.Sprintf("%d MB context, %d files, packed", size/1e6, files), float64(packed)/mb, "MB", nil)
	b.add(phase, "pack alone, best of 3", packMBps, "MB/s", nil)
	b.addRatio(phase, "pack + upload, best of 3", bothMBps, "MB/s", "pack", packMBps, nil)
	b.addRatio(phase, "upload of the tar.gz alone, best of 3", uploadMBps, "MB/s", "sha256", b.sha256MBps, nil)
	return nil
}
