package buildcontext_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/buildcontext"
	packer "github.com/berth-project/berth/pkg/buildcontext"
)

// TestPackExtractRoundTrip packs a directory as the CLI does and unpacks it
// as the agent does: what comes out is the tree that went in, less what
// .dockerignore and the version-control rule leave out.
func TestPackExtractRoundTrip(t *testing.T) {
	src := t.TempDir()
	write := func(name, body string, mode os.FileMode) {
		p := filepath.Join(src, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(body), mode))
		must(t, os.Chmod(p, mode))
	}
	write(".dockerignore", "*.log\nbuild/\n", 0o644)
	write("Dockerfile", "FROM scratch\nCOPY . /\n", 0o644)
	write("run.sh", "#!/bin/sh\necho hi\n", 0o755)
	write("secret.key", "k", 0o600)
	write("debug.log", "left out", 0o644)
	write("build/out.o", "left out", 0o644)
	write(".git/HEAD", "ref: refs/heads/main", 0o644)
	write("src/a/b/c.txt", string(make([]byte, 100_000)), 0o644)
	write("src/empty.txt", "", 0o644)
	must(t, os.MkdirAll(filepath.Join(src, "empty", "dir"), 0o750))
	must(t, os.Chmod(filepath.Join(src, "empty"), 0o711))
	must(t, os.Symlink("a/b/c.txt", filepath.Join(src, "src", "c")))
	must(t, os.Symlink("../Dockerfile", filepath.Join(src, "src", "df")))
	must(t, os.Symlink("missing", filepath.Join(src, "dangling")))

	ctx := context.Background()
	r, _, err := packer.Pack(ctx, src, packer.PackOptions{})
	must(t, err)
	defer r.Close()
	dest := filepath.Join(t.TempDir(), "ctx")
	if err := buildcontext.Extract(ctx, r, dest, buildcontext.Limits{}); err != nil {
		t.Fatal(err)
	}

	want := listTree(t, src)
	for _, gone := range []string{"debug.log", "build", "build/out.o", ".git", ".git/HEAD"} {
		delete(want, gone)
	}
	got := listTree(t, dest)
	if !mapsEqual(got, want) {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: got %.40q, want %.40q", k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: got %.40q, not in the source", k, v)
			}
		}
	}
}
