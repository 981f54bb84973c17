package buildcontext_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/buildcontext"
)

// ent is one entry of a hand-made archive.
type ent struct {
	name string
	typ  byte // tar.TypeReg when zero
	link string
	body string
	mode int64
}

func file(name, body string) ent { return ent{name: name, body: body} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir} }
func symlink(name, target string) ent {
	return ent{name: name, typ: tar.TypeSymlink, link: target}
}
func hardlink(name, target string) ent { return ent{name: name, typ: tar.TypeLink, link: target} }

// archive writes entries as a tar, gzip-compressed when gz is set, exactly
// as given: no cleaning of names, which is the point.
func archive(t testing.TB, gz bool, entries ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		if e.typ == tar.TypeXGlobalHeader {
			must(t, tw.WriteHeader(&tar.Header{Typeflag: e.typ, PAXRecords: map[string]string{"comment": "e3f1c0de"}}))
			continue
		}
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Size: int64(len(e.body)), ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// sandbox returns a destination inside a fresh directory that also holds a
// sentinel file and a directory beside it, and a check that everything
// outside the destination is as it was.
func sandbox(t testing.TB) (dest string, outsideUnchanged func() error) {
	t.Helper()
	parent := t.TempDir()
	must(t, os.WriteFile(filepath.Join(parent, "sentinel"), []byte("sentinel"), 0o644))
	must(t, os.MkdirAll(filepath.Join(parent, "outside", "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(parent, "outside", "etc", "passwd"), []byte("root:x:0:0"), 0o644))
	dest = filepath.Join(parent, "dest")
	want := []string{".", "dest", "outside", "outside/etc", "outside/etc/passwd", "sentinel"}
	return dest, func() error {
		var got []string
		err := filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(parent, p)
			got = append(got, filepath.ToSlash(rel))
			if rel == "dest" {
				return filepath.SkipDir
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return errors.New("outside the destination: " + strings.Join(got, " ") + ", want " + strings.Join(want, " "))
		}
		for p, body := range map[string]string{"sentinel": "sentinel", "outside/etc/passwd": "root:x:0:0"} {
			b, err := os.ReadFile(filepath.Join(parent, p))
			if err != nil || string(b) != body {
				return errors.New(p + " changed")
			}
		}
		return nil
	}
}

func TestExtractRefusesUnsafeArchives(t *testing.T) {
	long := strings.Repeat("n", 256)
	tests := []struct {
		name    string
		entries []ent
		limits  buildcontext.Limits
		want    string // the whole error
	}{
		{"parent", []ent{file("../x", "evil")}, buildcontext.Limits{}, `context: "../x": leaves the context`},
		{"parent of a parent", []ent{file("../../x", "evil")}, buildcontext.Limits{}, `context: "../../x": leaves the context`},
		{"absolute", []ent{file("/etc/x", "evil")}, buildcontext.Limits{}, `context: "/etc/x": is an absolute path`},
		{"climbs out from inside", []ent{dir("a/"), file("a/../../x", "evil")}, buildcontext.Limits{}, `context: "a/../../x": leaves the context`},
		{"dot-dot that stays inside", []ent{file("a/../x", "x")}, buildcontext.Limits{}, `context: "a/../x": has a ".." element`},
		{"symlink to an absolute path", []ent{symlink("l", "/etc"), file("l/passwd", "evil")}, buildcontext.Limits{}, `context: "l": links to "/etc", outside the context`},
		{"symlink up and out", []ent{symlink("l", "../.."), file("l/x", "evil")}, buildcontext.Limits{}, `context: "l": links to "../..", outside the context`},
		{"symlink out from a subdirectory", []ent{symlink("a/b/l", "../../../outside")}, buildcontext.Limits{}, `context: "a/b/l": links to "../../../outside", outside the context`},
		{"write through an inner symlink", []ent{dir("sub/"), symlink("l", "sub"), file("l/passwd", "evil")}, buildcontext.Limits{}, `context: "l/passwd": goes through the symlink "l"`},
		{"directory over a symlink", []ent{dir("sub/"), symlink("l", "sub"), dir("l/")}, buildcontext.Limits{}, `context: "l/": is already in the archive, and not as a directory`},
		{"file over a symlink", []ent{file("target", "t"), symlink("l", "target"), file("l", "evil")}, buildcontext.Limits{}, `context: "l": is already in the archive`},
		{"symlink escaping through another symlink", []ent{symlink("p", "."), symlink("q", "p/p/../..")}, buildcontext.Limits{}, `context: "q": links to "p/p/../..", which leads outside the context through other links`},
		{"symlink loop", []ent{symlink("a", "b"), symlink("b", "a")}, buildcontext.Limits{}, `context: "a": links to "b" through more than 40 links`},
		{"hard link to an absolute path", []ent{hardlink("h", "/etc/passwd")}, buildcontext.Limits{}, `context: "h": is a hard link to "/etc/passwd", outside the context`},
		{"hard link out", []ent{hardlink("h", "../outside/etc/passwd")}, buildcontext.Limits{}, `context: "h": is a hard link to "../outside/etc/passwd", which leaves the context`},
		{"hard link to something not in the archive", []ent{hardlink("h", "sentinel")}, buildcontext.Limits{}, `context: "h": is a hard link to "sentinel", which is not a file earlier in the archive`},
		{"hard link to a symlink", []ent{symlink("l", "x"), hardlink("h", "l")}, buildcontext.Limits{}, `context: "h": is a hard link to "l", which is not a file earlier in the archive`},
		{"character device", []ent{{name: "dev/null", typ: tar.TypeChar}}, buildcontext.Limits{}, `context: "dev/null": is a device node: a context holds only files, directories and links`},
		{"block device", []ent{{name: "sda", typ: tar.TypeBlock}}, buildcontext.Limits{}, `context: "sda": is a device node: a context holds only files, directories and links`},
		{"fifo", []ent{{name: "pipe", typ: tar.TypeFifo}}, buildcontext.Limits{}, `context: "pipe": is a named pipe (FIFO): a context holds only files, directories and links`},
		{"too many files", []ent{file("1", ""), file("2", ""), file("3", ""), file("4", "")}, buildcontext.Limits{MaxFiles: 3}, `context: "4": more than 3 entries in the context`},
		{"too many bytes, by the header", []ent{file("a", "12345"), file("b", "678")}, buildcontext.Limits{MaxBytes: 7}, `context: "b": the context unpacks to more than 7 bytes`},
		{"name too long", []ent{file(strings.Repeat("a/", 60)+"x", "")}, buildcontext.Limits{MaxNameLen: 120}, `context: "` + strings.Repeat("a/", 60) + `x": name longer than 120 bytes`},
		{"path element too long", []ent{file("a/"+long, "")}, buildcontext.Limits{}, `context: "a/` + long + `": has a path element longer than 255 bytes`},
		{"symlink target too long", []ent{symlink("l", strings.Repeat("x", 50))}, buildcontext.Limits{MaxNameLen: 40}, `context: "l": links to a target longer than 40 bytes`},
		{"twice", []ent{file("a", "1"), file("./a", "2")}, buildcontext.Limits{}, `context: "./a": is already in the archive`},
	}
	for _, tt := range tests {
		for _, gz := range []bool{true, false} {
			name := tt.name
			if !gz {
				name += ", plain tar"
			}
			t.Run(name, func(t *testing.T) {
				dest, outsideUnchanged := sandbox(t)
				err := buildcontext.Extract(context.Background(), bytes.NewReader(archive(t, gz, tt.entries...)), dest, tt.limits)
				if err == nil || err.Error() != tt.want {
					t.Errorf("Extract: %v\nwant %s", err, tt.want)
				}
				var refused *buildcontext.RefusedError
				if !errors.As(err, &refused) {
					t.Errorf("Extract: %v is not a *RefusedError", err)
				}
				if err := outsideUnchanged(); err != nil {
					t.Error(err)
				}
				assertEmpty(t, dest)
			})
		}
	}
}

func TestExtractRefusesWhatIsNotAnArchive(t *testing.T) {
	good := archive(t, true, file("a", strings.Repeat("a", 10000)))
	for name, data := range map[string][]byte{
		"text":            []byte(strings.Repeat("not an archive at all\n", 100)),
		"truncated gzip":  good[:len(good)/2],
		"bad gzip header": append([]byte{0x1f, 0x8b, 0x99}, good[3:]...),
		"corrupt deflate": append(append([]byte{}, good[:12]...), bytes.Repeat([]byte{0xff}, 200)...),
	} {
		t.Run(name, func(t *testing.T) {
			dest, outsideUnchanged := sandbox(t)
			err := buildcontext.Extract(context.Background(), bytes.NewReader(data), dest, buildcontext.Limits{})
			var refused *buildcontext.RefusedError
			if !errors.As(err, &refused) || !strings.HasPrefix(err.Error(), "context: not a valid tar or tar.gz archive") {
				t.Errorf("Extract: %v, want a refusal of the archive", err)
			}
			if err := outsideUnchanged(); err != nil {
				t.Error(err)
			}
			assertEmpty(t, dest)
		})
	}
}

// bomb streams a gzip-compressed tar of entries of size bytes of zeros each,
// total bytes in all, written as it is read and never stored. It returns
// the reader and a function that stops the writer and says how many bytes
// of tar it had produced.
func bomb(t *testing.T, total, size int64) (io.Reader, func() int64) {
	pr, pw := io.Pipe()
	produced := make(chan int64, 1)
	go func() {
		cw := &countingWriter{}
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		tw := tar.NewWriter(io.MultiWriter(zw, cw))
		var err error
		for i := int64(0); err == nil && i*size < total; i++ {
			err = tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("zeros/%06d", i), Typeflag: tar.TypeReg, Mode: 0o644, Size: size})
			if err == nil {
				_, err = io.CopyN(tw, zeros{}, size)
			}
		}
		if err == nil {
			err = tw.Close()
		}
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
		produced <- cw.n
	}()
	return pr, func() int64 {
		pr.CloseWithError(errors.New("test is done"))
		return <-produced
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func TestExtractRefusesDecompressionBombs(t *testing.T) {
	const tenGiB = 10 << 30
	tests := []struct {
		name   string
		size   int64 // of each entry
		limits buildcontext.Limits
		want   string
	}{
		{"one 10 GiB file, default limits", tenGiB, buildcontext.Limits{}, "the context unpacks to more than 2147483648 bytes"},
		{"10 GiB in 16 MiB files", 16 << 20, buildcontext.Limits{MaxBytes: 40 << 20}, "the context unpacks to more than 41943040 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest, outsideUnchanged := sandbox(t)
			r, stop := bomb(t, tenGiB, tt.size)
			err := buildcontext.Extract(context.Background(), r, dest, tt.limits)
			produced := stop()
			if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
				t.Errorf("Extract: %v, want %q", err, tt.want)
			}
			// Refused at the first header, or after 32 MiB of the second
			// case: the rest of the 10 GiB is never produced.
			if produced > 256<<20 {
				t.Errorf("the bomb produced %d bytes of tar before Extract stopped reading", produced)
			}
			if err := outsideUnchanged(); err != nil {
				t.Error(err)
			}
			assertEmpty(t, dest)
		})
	}
}

func TestExtractAcceptsOrdinaryArchives(t *testing.T) {
	dest, outsideUnchanged := sandbox(t)
	data := archive(t, true,
		ent{name: "./", typ: tar.TypeDir, mode: 0o755},
		ent{name: "./bin/", typ: tar.TypeDir, mode: 0o555},
		ent{name: "./bin/run", body: "#!/bin/sh\n", mode: 0o4755},
		file("src/deep/er/main.go", "package main"),
		symlink("src/current", "deep/er"),
		symlink("src/deep/up", "../../bin/run"),
		symlink("dangling", "nowhere/at/all"),
		hardlink("src/copy.go", "src/deep/er/main.go"),
		ent{name: "pax_global_header", typ: tar.TypeXGlobalHeader},
		dir("src/"),
	)
	if err := buildcontext.Extract(context.Background(), bytes.NewReader(data), dest, buildcontext.Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := outsideUnchanged(); err != nil {
		t.Error(err)
	}
	got := listTree(t, dest)
	want := map[string]string{
		"bin":                 "dir 0755", // setuid dropped below, owner's rwx kept here
		"bin/run":             "file 0755 #!/bin/sh\n",
		"dangling":            "link nowhere/at/all",
		"src":                 "dir 0755",
		"src/copy.go":         "file 0644 package main",
		"src/current":         "link deep/er",
		"src/deep":            "dir 0755",
		"src/deep/er":         "dir 0755",
		"src/deep/er/main.go": "file 0644 package main",
		"src/deep/up":         "link ../../bin/run",
	}
	if !mapsEqual(got, want) {
		t.Errorf("extracted\n%v\nwant\n%v", got, want)
	}
	fi, err := os.Stat(filepath.Join(dest, "src", "deep", "er", "main.go"))
	must(t, err)
	if !fi.ModTime().Equal(time.Unix(1700000000, 0)) {
		t.Errorf("mtime %v, want the archive's", fi.ModTime())
	}
}

func TestExtractNeedsAnEmptyDestination(t *testing.T) {
	dest := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dest, "old"), nil, 0o644))
	err := buildcontext.Extract(context.Background(), bytes.NewReader(archive(t, true, file("a", "a"))), dest, buildcontext.Limits{})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Extract into a directory in use: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dest, "old")); err != nil {
		t.Errorf("Extract touched what it found: %v", err)
	}
}

func TestExtractStopsWhenCancelled(t *testing.T) {
	dest, _ := sandbox(t)
	r, stop := bomb(t, 1<<40, 1<<30)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := buildcontext.Extract(ctx, r, dest, buildcontext.Limits{MaxBytes: 1 << 40})
	stop()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Extract: %v, want context.Canceled", err)
	}
	assertEmpty(t, dest)
}

// listTree describes every path under dir: its kind, permissions, and
// content or target.
func listTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "link " + target
		case fi.IsDir():
			out[rel] = "dir " + modeString(fi.Mode())
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = "file " + modeString(fi.Mode()) + " " + string(b)
		}
		return nil
	})
	must(t, err)
	return out
}

func modeString(m fs.FileMode) string {
	s := fmt.Sprintf("%04o", m.Perm())
	if m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
		s += "+special"
	}
	return s
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func assertEmpty(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("after a refusal the destination still holds %q", names)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
