package buildcontext_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/buildcontext"
)

// FuzzExtract feeds Extract arbitrary bytes, starting from archives that
// break each rule: it must never panic, never create or change anything
// outside the destination, leave the destination empty when it fails, and
// leave no symlink that resolves outside it when it succeeds.
func FuzzExtract(f *testing.F) {
	seeds := [][]ent{
		{file("Dockerfile", "FROM scratch"), dir("src/"), file("src/main.go", "package main")},
		{file("../x", "evil")},
		{file("/etc/x", "evil")},
		{dir("a/"), file("a/../../x", "evil")},
		{symlink("l", "/etc"), file("l/passwd", "evil")},
		{symlink("l", "../.."), file("l/x", "evil")},
		{dir("sub/"), symlink("l", "sub"), file("l/x", "x")},
		{symlink("p", "."), symlink("q", "p/p/../.."), file("q/x", "evil")},
		{file("t", "t"), hardlink("h", "t"), hardlink("h2", "/etc/passwd")},
		{{name: "dev/null", typ: tar.TypeChar}},
		{file("a", "1"), file("a", "2")},
	}
	for _, s := range seeds {
		f.Add(archive(f, false, s...))
		f.Add(archive(f, true, s...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dest, outsideUnchanged := sandbox(t)
		err := buildcontext.Extract(context.Background(), bytes.NewReader(data), dest, buildcontext.Limits{MaxBytes: 1 << 20, MaxFiles: 200})
		if err := outsideUnchanged(); err != nil {
			t.Fatal(err)
		}
		if err != nil {
			assertEmpty(t, dest)
			return
		}
		walkErr := filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return err
			}
			resolved, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil // dangling, a loop, or through a file: goes nowhere
			}
			realDest, _ := filepath.EvalSymlinks(dest)
			if resolved != realDest && !strings.HasPrefix(resolved, realDest+string(filepath.Separator)) {
				t.Errorf("symlink %s resolves to %s, outside %s", p, resolved, realDest)
			}
			return nil
		})
		if walkErr != nil {
			t.Fatal(walkErr)
		}
	})
}
