package buildcontext_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/pkg/buildcontext"
)

// tree writes files (path → content) under a new directory; a path ending
// in "/" is an empty directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type packed struct {
	raw     []byte
	names   []string
	headers map[string]*tar.Header
	content map[string]string
}

func pack(t *testing.T, src string, opts buildcontext.PackOptions) packed {
	t.Helper()
	r, _, err := buildcontext.Pack(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	defer r.Close()
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading the packed context: %v", err)
	}
	return parse(t, raw)
}

func parse(t *testing.T, raw []byte) packed {
	t.Helper()
	p := packed{raw: raw, headers: map[string]*tar.Header{}, content: map[string]string{}}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		p.names = append(p.names, h.Name)
		p.headers[h.Name] = h
		p.content[h.Name] = string(b)
	}
	return p
}

func TestPackDockerignore(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		dockerfile string
		want       []string
	}{{
		name: "patterns, exceptions and **",
		files: map[string]string{
			".dockerignore":       "# build output\n*.log\n!keep.log\n**/node_modules\n/secret\n",
			"Dockerfile":          "FROM scratch",
			"a.log":               "x",
			"keep.log":            "x",
			"main.go":             "x",
			"secret/key":          "x",
			"web/node_modules/m":  "x",
			"web/app.js":          "x",
			"web/sub/b.log":       "x",
			"node_modules/left/x": "x",
		},
		want: []string{".dockerignore", "Dockerfile", "keep.log", "main.go", "web/", "web/app.js", "web/sub/", "web/sub/b.log"},
	}, {
		name: "an exception inside an excluded directory brings back its parents",
		files: map[string]string{
			".dockerignore": "vendor\n!vendor/keep/**\n",
			"vendor/a/x":    "x",
			"vendor/keep/y": "y",
		},
		want: []string{".dockerignore", "vendor/", "vendor/keep/", "vendor/keep/y"},
	}, {
		name: "the Dockerfile and .dockerignore are packed even when ignored",
		files: map[string]string{
			".dockerignore": "*\n",
			"Dockerfile":    "FROM scratch",
			"src/a":         "x",
		},
		want: []string{".dockerignore", "Dockerfile"},
	}, {
		name: "a Dockerfile in an ignored directory",
		files: map[string]string{
			".dockerignore":    "build\n",
			"build/Dockerfile": "FROM scratch",
			"build/other":      "x",
			"main.go":          "x",
		},
		dockerfile: "build/Dockerfile",
		want:       []string{".dockerignore", "build/", "build/Dockerfile", "main.go"},
	}, {
		name: "<Dockerfile>.dockerignore wins over .dockerignore",
		files: map[string]string{
			".dockerignore":                     "*.go\n",
			"build/app.Dockerfile":              "FROM scratch",
			"build/app.Dockerfile.dockerignore": "docs\n",
			"docs/x":                            "x",
			"main.go":                           "x",
		},
		dockerfile: "build/app.Dockerfile",
		want:       []string{".dockerignore", "build/", "build/app.Dockerfile", "build/app.Dockerfile.dockerignore", "main.go"},
	}, {
		name: "version-control folders are left out at any depth, exceptions or not",
		files: map[string]string{
			".dockerignore":        "!.git\n!**/.hg\n",
			".git/config":          "x",
			".svn/entries":         "x",
			".bzr/branch":          "x",
			"sub/.hg/store":        "x",
			"module/.git":          "gitdir: ../.git/modules/module",
			"module/a.go":          "x",
			".github/workflow.yml": "x",
			".gitignore":           "x",
		},
		want: []string{".dockerignore", ".github/", ".github/workflow.yml", ".gitignore", "module/", "module/a.go", "sub/"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pack(t, tree(t, tt.files), buildcontext.PackOptions{Dockerfile: tt.dockerfile})
			if !slices.Equal(p.names, tt.want) {
				t.Errorf("packed %q\nwant      %q", p.names, tt.want)
			}
		})
	}
}

func TestPackIsDeterministic(t *testing.T) {
	files := map[string]string{
		"Dockerfile": "FROM scratch\nCOPY . /\n",
		"b/c/d.txt":  strings.Repeat("data ", 10000),
		"a.txt":      "a",
		"a/x":        "x",
		"empty/":     "",
	}
	one := tree(t, files)
	two := tree(t, files)
	// Different times, owners cannot be changed without root, but times can.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(two, "a.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(two, "b"), old, old); err != nil {
		t.Fatal(err)
	}
	sum := func(dir string) string {
		return fmt.Sprintf("%x", sha256.Sum256(pack(t, dir, buildcontext.PackOptions{}).raw))
	}
	a, b, c := sum(one), sum(one), sum(two)
	if a != b || a != c {
		t.Fatalf("the same tree packed to different bytes: %s, %s, %s", a, b, c)
	}

	var buf bytes.Buffer
	if _, err := buildcontext.Write(context.Background(), &buf, one, buildcontext.PackOptions{}); err != nil {
		t.Fatal(err)
	}
	if w := fmt.Sprintf("%x", sha256.Sum256(buf.Bytes())); w != a {
		t.Errorf("Write and Pack differ: %s, %s", w, a)
	}

	p := pack(t, one, buildcontext.PackOptions{})
	if want := []string{"Dockerfile", "a/", "a/x", "a.txt", "b/", "b/c/", "b/c/d.txt", "empty/"}; !slices.Equal(p.names, want) {
		t.Errorf("entries %q, want %q (sorted, parents first)", p.names, want)
	}
	for _, h := range p.headers {
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: uid %d gid %d uname %q gname %q mtime %v: want all zero", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
	}
}

func TestPackKeepsModesAndSymlinks(t *testing.T) {
	dir := tree(t, map[string]string{"run.sh": "#!/bin/sh", "private": "x", "sub/f": "f"})
	must(t, os.Chmod(filepath.Join(dir, "run.sh"), 0o755))
	must(t, os.Chmod(filepath.Join(dir, "private"), 0o600))
	must(t, os.Chmod(filepath.Join(dir, "sub"), 0o750))
	must(t, os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")))
	must(t, os.Symlink("sub", filepath.Join(dir, "subdir")))
	must(t, os.Symlink("../../../outside", filepath.Join(dir, "sub", "up")))

	p := pack(t, dir, buildcontext.PackOptions{})
	if want := []string{"passwd", "private", "run.sh", "sub/", "sub/f", "sub/up", "subdir"}; !slices.Equal(p.names, want) {
		t.Fatalf("entries %q, want %q", p.names, want)
	}
	for name, mode := range map[string]int64{"run.sh": 0o755, "private": 0o600, "sub/": 0o750} {
		if got := p.headers[name].Mode; got != mode {
			t.Errorf("%s: mode %o, want %o", name, got, mode)
		}
	}
	for name, target := range map[string]string{"passwd": "/etc/passwd", "subdir": "sub", "sub/up": "../../../outside"} {
		h := p.headers[name]
		if h.Typeflag != tar.TypeSymlink || h.Linkname != target || p.content[name] != "" {
			t.Errorf("%s: type %c, link %q, %d bytes: want a symlink to %q, not followed", name, h.Typeflag, h.Linkname, len(p.content[name]), target)
		}
	}
}

func TestPackRefusesSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		kind string
		make func(*testing.T, string)
	}{{"named pipe", mkfifo}, {"socket", mksocket}} {
		t.Run(tc.kind, func(t *testing.T) {
			dir := tree(t, map[string]string{"Dockerfile": "FROM scratch", "ignored/": ""})
			tc.make(t, filepath.Join(dir, "sub", "special"))
			_, _, err := buildcontext.Pack(context.Background(), dir, buildcontext.PackOptions{})
			if err == nil || !strings.Contains(err.Error(), `"sub/special"`) || !strings.Contains(err.Error(), tc.kind) {
				t.Errorf("Pack of a context with a %s: %v, want an error naming sub/special as one", tc.kind, err)
			}

			// Left out by .dockerignore, it does not matter.
			must(t, os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("sub\n"), 0o644))
			p := pack(t, dir, buildcontext.PackOptions{})
			if want := []string{".dockerignore", "Dockerfile", "ignored/"}; !slices.Equal(p.names, want) {
				t.Errorf("entries %q, want %q", p.names, want)
			}
		})
	}
}

func TestPackProgress(t *testing.T) {
	dir := tree(t, map[string]string{"a": strings.Repeat("a", 1<<20), "b/c": "hello", "d": ""})
	var last buildcontext.Stats
	calls := 0
	r, total, err := buildcontext.Pack(context.Background(), dir, buildcontext.PackOptions{
		Progress: func(s buildcontext.Stats) { last = s; calls++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (buildcontext.Stats{Files: 3, Bytes: 1<<20 + 5}); *total != want {
		t.Errorf("totals %+v, want %+v", *total, want)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if last != *total || calls < 4 {
		t.Errorf("last progress %+v after %d calls, want %+v", last, calls, *total)
	}
}

func TestPackPassesArchivesThrough(t *testing.T) {
	src := pack(t, tree(t, map[string]string{"Dockerfile": "FROM scratch"}), buildcontext.PackOptions{}).raw
	file := filepath.Join(t.TempDir(), "ctx.tar.gz")
	must(t, os.WriteFile(file, src, 0o644))

	var done buildcontext.Stats
	r, total, err := buildcontext.Pack(context.Background(), file, buildcontext.PackOptions{Progress: func(s buildcontext.Stats) { done = s }})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	must(t, err)
	must(t, r.Close())
	if !bytes.Equal(got, src) {
		t.Error("a .tar.gz file was not passed through unchanged")
	}
	if want := (buildcontext.Stats{Files: -1, Bytes: int64(len(src))}); *total != want || done != want {
		t.Errorf("totals %+v, progress %+v, want %+v", *total, done, want)
	}

	r, total, err = buildcontext.Pack(context.Background(), "-", buildcontext.PackOptions{Stdin: bytes.NewReader(src)})
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(r)
	must(t, err)
	if !bytes.Equal(got, src) || total.Bytes != -1 {
		t.Errorf("standard input: %d bytes (want %d), total %+v", len(got), len(src), *total)
	}

	plain := filepath.Join(t.TempDir(), "ctx.tar")
	must(t, os.WriteFile(plain, []byte("not gzip at all"), 0o644))
	for _, tc := range []struct {
		src   string
		stdin io.Reader
	}{{plain, nil}, {"-", strings.NewReader("")}, {"-", strings.NewReader("\x1f")}} {
		if _, _, err := buildcontext.Pack(context.Background(), tc.src, buildcontext.PackOptions{Stdin: tc.stdin}); err == nil || !strings.Contains(err.Error(), "not a gzip-compressed tar") {
			t.Errorf("Pack(%s): %v, want an error saying it is not a .tar.gz", tc.src, err)
		}
	}
}

func TestPackErrors(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM scratch", ".dockerignore": "[oops\n"})
	_, _, err := buildcontext.Pack(context.Background(), dir, buildcontext.PackOptions{})
	if err == nil || !strings.Contains(err.Error(), ".dockerignore") {
		t.Errorf("bad .dockerignore: %v", err)
	}
	_, _, err = buildcontext.Pack(context.Background(), dir, buildcontext.PackOptions{Dockerfile: "../Dockerfile"})
	if err == nil || !strings.Contains(err.Error(), "outside the context") {
		t.Errorf("Dockerfile outside the context: %v", err)
	}
	_, _, err = buildcontext.Pack(context.Background(), filepath.Join(dir, "missing"), buildcontext.PackOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing context: %v", err)
	}
}

func TestPackCancel(t *testing.T) {
	// Incompressible content: the packer is still writing, blocked on the
	// reader, when cancel comes (8 MiB of one letter would compress to a
	// few KiB and could be done before it).
	noise := make([]byte, 8<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	dir := tree(t, map[string]string{"big": string(noise)})
	ctx, cancel := context.WithCancel(context.Background())
	r, _, err := buildcontext.Pack(ctx, dir, buildcontext.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 1024)
	if _, err := r.Read(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.Copy(io.Discard, r); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v, want context.Canceled", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
