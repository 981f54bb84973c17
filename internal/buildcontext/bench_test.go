package buildcontext_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/buildcontext"
	packer "github.com/berth-project/berth/pkg/buildcontext"
)

// contextSize is the size of the benchmark's context, the figure the issue
// asks a baseline for: "context upload MB/s for a 200 MB context".
const contextSize = 200_000_000

// BenchmarkContext200MB packs a 200 MB context as the CLI does, unpacks it
// as the agent does, and both through a pipe as one upload would; MB/s
// counts the context's file bytes, not the compressed stream.
//
//	go test -run '^$' -bench BenchmarkContext200MB -benchtime 3x ./internal/buildcontext
func BenchmarkContext200MB(b *testing.B) {
	src := b.TempDir()
	size, files := makeContext(b, src, contextSize)
	ctx := context.Background()

	var packed bytes.Buffer
	if _, err := packer.Write(ctx, &packed, src, packer.PackOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Logf("context: %d files, %d bytes; packed %d bytes (%.2f of the raw size)", files, size, packed.Len(), float64(packed.Len())/float64(size))

	b.Run("Pack", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := packer.Write(ctx, io.Discard, src, packer.PackOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Extract", func(b *testing.B) {
		b.SetBytes(size)
		work := b.TempDir()
		i := 0
		for b.Loop() {
			dest := filepath.Join(work, fmt.Sprint(i))
			i++
			if err := buildcontext.Extract(ctx, bytes.NewReader(packed.Bytes()), dest, buildcontext.Limits{}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			must(b, os.RemoveAll(dest))
			b.StartTimer()
		}
	})
	b.Run("PackExtract", func(b *testing.B) {
		b.SetBytes(size)
		work := b.TempDir()
		i := 0
		for b.Loop() {
			dest := filepath.Join(work, fmt.Sprint(i))
			i++
			r, _, err := packer.Pack(ctx, src, packer.PackOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if err := buildcontext.Extract(ctx, r, dest, buildcontext.Limits{}); err != nil {
				b.Fatal(err)
			}
			r.Close()
			b.StopTimer()
			must(b, os.RemoveAll(dest))
			b.StartTimer()
		}
	})
}

// makeContext writes about size bytes of files under dir, in the mix a
// real context has: a few large binaries (incompressible), some medium
// files half text and half binary, and many small source files (text).
// It returns the bytes and files written.
func makeContext(tb testing.TB, dir string, size int64) (int64, int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(5, 200))
	words := []string{"func", "return", "if", "err", "!=", "nil", "{", "}", "ctx", "context.Context", "string", "int64", "for", "range", "package", "import", "//", "the", "build", "context", "\n", "\t", "=", ":="}
	text := func(n int) []byte {
		var b bytes.Buffer
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		return b.Bytes()[:n]
	}
	binary := func(n int) []byte {
		b := make([]byte, n)
		for i := 0; i+8 <= n; i += 8 {
			v := rng.Uint64()
			for j := range 8 {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		return b
	}
	mix := []struct {
		count, size int
		binary      bool
	}{
		{1, 48 << 20, true}, // a model or a fat binary
		{12, 4 << 20, true}, // vendored binaries, images
		{100, 256 << 10, true},
		{100, 256 << 10, false},
		{4000, 8 << 10, false}, // source files
	}
	var total int64
	files := 0
	write := func(name string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		must(tb, os.MkdirAll(filepath.Dir(p), 0o755))
		must(tb, os.WriteFile(p, data, 0o644))
		total += int64(len(data))
		files++
	}
	for _, m := range mix {
		for i := 0; i < m.count; i++ {
			kind, data := "src", []byte(nil)
			if m.binary {
				kind, data = "bin", binary(m.size)
			} else {
				data = text(m.size)
			}
			write(fmt.Sprintf("%s/%d/%03d/f%04d", kind, m.size, i/100, i), data)
		}
	}
	// Small files up to the size asked for.
	for i := 0; total < size; i++ {
		n := min(512+rng.IntN(4096), int(size-total))
		write(fmt.Sprintf("small/%03d/f%05d.txt", i/100, i), text(n))
	}
	return total, files
}
