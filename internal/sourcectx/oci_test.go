package sourcectx_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/buildcontext"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/sourcectx"
	"github.com/berth-project/berth/internal/testserver"
)

func TestParseOCI(t *testing.T) {
	dg := "sha256:" + strings.Repeat("a", 64)
	for _, tt := range []struct {
		in   string
		want regclient.Reference
	}{
		{"oci://myregistry.example.com/hello-world.dockerfile:1.0", regclient.Reference{Host: "myregistry.example.com", Repository: "hello-world.dockerfile", Tag: "1.0"}},
		{"oci://127.0.0.1:5000/ctx/app", regclient.Reference{Host: "127.0.0.1:5000", Repository: "ctx/app", Tag: "latest"}},
		{"oci://r.example.com/ctx@" + dg, regclient.Reference{Host: "r.example.com", Repository: "ctx", Digest: oci.Digest(dg)}},
	} {
		got, err := sourcectx.ParseOCI(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseOCI(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"myregistry.example.com/ctx:1", "oci://", "oci://ctx:1", "oci://r.example.com/UPPER:1", "oci://r.example.com/ctx@sha256:zz"} {
		if _, err := sourcectx.ParseOCI(in); err == nil || !strings.Contains(err.Error(), "oci://<login server>/<repository>") {
			t.Errorf("ParseOCI(%q) = %v, want an error showing the form", in, err)
		}
	}
}

// registry is a berth server and the oras CLI logged in to it.
type registry struct {
	srv    *testserver.Server
	oras   string
	env    []string
	client *regclient.Client
}

func newRegistry(t *testing.T) *registry {
	t.Helper()
	r := &registry{oras: testserver.Tool(t, "oras")}
	r.srv = testserver.Start(t, testserver.Opts{})
	home := t.TempDir()
	r.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, "docker"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
	}
	r.client = regclient.New(regclient.Options{PlainHTTP: true, Username: testserver.AdminUser, Password: r.srv.Password})
	return r
}

// run runs oras in dir with the admin's credentials and returns stdout.
func (r *registry) run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	args = append(args, "--plain-http", "-u", testserver.AdminUser, "-p", r.srv.Password)
	cmd := exec.Command(r.oras, args...)
	cmd.Dir = dir
	cmd.Env = r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("oras %s: %v\n%s%s", strings.Join(args[:len(args)-5], " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// push runs `oras push` of paths from dir and returns the manifest digest.
func (r *registry) push(t *testing.T, dir, ref string, paths ...string) string {
	t.Helper()
	out := r.run(t, dir, append([]string{"push", "--format", "json", ref}, paths...)...)
	var pushed struct{ Digest string }
	if err := json.Unmarshal([]byte(out), &pushed); err != nil || pushed.Digest == "" {
		t.Fatalf("oras push --format json printed %q: %v", out, err)
	}
	return pushed.Digest
}

type rawLayer struct {
	mediaType   string
	content     []byte
	annotations map[string]string
}

// pushRaw pushes a manifest built here, blob by blob, with oras, so that
// it can hold what `oras push` would never write.
func (r *registry) pushRaw(t *testing.T, repo, tag string, layers []rawLayer) {
	t.Helper()
	dir := t.TempDir()
	blob := func(mediaType string, content []byte) oci.Descriptor {
		d := oci.Descriptor{MediaType: mediaType, Digest: oci.FromBytes(content), Size: int64(len(content))}
		name := filepath.Join(dir, d.Digest.Hex())
		if err := os.WriteFile(name, content, 0o644); err != nil {
			t.Fatal(err)
		}
		r.run(t, dir, "blob", "push", r.srv.Addr+"/"+repo, name)
		return d
	}
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     oci.MediaTypeImageManifest,
		"artifactType":  "application/vnd.example.context",
		"config":        blob(oci.MediaTypeEmptyJSON, []byte("{}")),
	}
	var ds []oci.Descriptor
	for _, l := range layers {
		d := blob(l.mediaType, l.content)
		d.Annotations = l.annotations
		ds = append(ds, d)
	}
	m["layers"] = ds
	r.pushManifest(t, repo+":"+tag, m)
}

func (r *registry) pushManifest(t *testing.T, ref string, m any) {
	t.Helper()
	dir := t.TempDir()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	r.run(t, dir, "manifest", "push", r.srv.Addr+"/"+ref, "manifest.json")
}

func (r *registry) fetch(t *testing.T, ref string, limit int64) (string, error) {
	t.Helper()
	parsed, err := sourcectx.ParseOCI("oci://" + r.srv.Addr + "/" + ref)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dest := filepath.Join(t.TempDir(), "ctx")
	err = sourcectx.FetchOCI(ctx, r.client, parsed, dest, limit)
	if err != nil {
		if entries, _ := os.ReadDir(dest); len(entries) > 0 {
			t.Errorf("FetchOCI(%s) failed and left %d entries in dest", ref, len(entries))
		}
	}
	return dest, err
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFetchOCI(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	work := t.TempDir()
	writeFiles(t, work, map[string]string{
		"Dockerfile":      "FROM scratch\nCOPY hello.txt /\n",
		"hello.txt":       "hello\n",
		"src/main.go":     "package main\n",
		"src/lib/util.go": "package lib\n",
		"conf/app.yaml":   "a: 1\n",
	})

	t.Run("one file", func(t *testing.T) {
		r.push(t, work, r.srv.Addr+"/hello-world.dockerfile:1.0", "Dockerfile")
		dest, err := r.fetch(t, "hello-world.dockerfile:1.0", 0)
		if err != nil {
			t.Fatalf("FetchOCI: %v", err)
		}
		equalTrees(t, "one file", tree(t, dest), map[string]string{"Dockerfile": "FROM scratch\nCOPY hello.txt /\n"})
		info, err := os.Stat(filepath.Join(dest, "Dockerfile"))
		if err != nil || info.Mode().Perm() != 0o644 {
			t.Errorf("Dockerfile: %v, mode %v; want 0644", err, info.Mode())
		}
	})

	want := map[string]string{
		"Dockerfile":      "FROM scratch\nCOPY hello.txt /\n",
		"hello.txt":       "hello\n",
		"src/main.go":     "package main\n",
		"src/lib/util.go": "package lib\n",
		"conf/app.yaml":   "a: 1\n",
	}
	var digest string
	t.Run("files, a nested file and a directory", func(t *testing.T) {
		digest = r.push(t, work, r.srv.Addr+"/ctx/app:v1", "Dockerfile", "hello.txt", "src", "conf/app.yaml")
		dest, err := r.fetch(t, "ctx/app:v1", 0)
		if err != nil {
			t.Fatalf("FetchOCI: %v", err)
		}
		equalTrees(t, "artifact", tree(t, dest), want)
	})

	t.Run("by digest", func(t *testing.T) {
		dest, err := r.fetch(t, "ctx/app@"+digest, 0)
		if err != nil {
			t.Fatalf("FetchOCI: %v", err)
		}
		equalTrees(t, "artifact by digest", tree(t, dest), want)
	})

	t.Run("whole directory", func(t *testing.T) {
		r.push(t, work, r.srv.Addr+"/ctx/whole:v1", ".")
		dest, err := r.fetch(t, "ctx/whole:v1", 0)
		if err != nil {
			t.Fatalf("FetchOCI: %v", err)
		}
		equalTrees(t, "artifact of .", tree(t, dest), want)
	})

	t.Run("over the limit", func(t *testing.T) {
		_, err := r.fetch(t, "ctx/app:v1", 20)
		if err == nil || !strings.Contains(err.Error(), "limit of 20 bytes") {
			t.Fatalf("FetchOCI with a 20-byte limit = %v, want over the limit", err)
		}
		t.Logf("error: %v", err)
	})

	t.Run("unknown tag", func(t *testing.T) {
		_, err := r.fetch(t, "ctx/app:nosuch", 0)
		if err == nil || !strings.Contains(err.Error(), "not found in the registry") {
			t.Fatalf("FetchOCI of an unknown tag = %v, want not found", err)
		}
		t.Logf("error: %v", err)
	})

	t.Run("wrong credentials", func(t *testing.T) {
		parsed, _ := sourcectx.ParseOCI("oci://" + r.srv.Addr + "/ctx/app:v1")
		c := regclient.New(regclient.Options{PlainHTTP: true, Username: testserver.AdminUser, Password: r.srv.Password + "-wrong"})
		err := sourcectx.FetchOCI(context.Background(), c, parsed, t.TempDir(), 0)
		if err == nil {
			t.Fatal("FetchOCI with wrong credentials succeeded")
		}
		t.Logf("error: %v", err)
	})

	t.Run("dest not empty", func(t *testing.T) {
		parsed, _ := sourcectx.ParseOCI("oci://" + r.srv.Addr + "/ctx/app:v1")
		dest := t.TempDir()
		writeFiles(t, dest, map[string]string{"old": "x"})
		err := sourcectx.FetchOCI(context.Background(), r.client, parsed, dest, 0)
		if err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("FetchOCI into a full directory = %v, want not empty", err)
		}
	})
}

func targz(t *testing.T, entries ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range entries {
		body := []byte(h.Linkname)
		if h.Typeflag == tar.TypeReg {
			body = []byte("content of " + h.Name)
			h.Size = int64(len(body))
			h.Linkname = ""
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(body)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

// Manifests that oras push would not write, pushed raw: every one is
// refused, and nothing lands in dest or beside it.
func TestFetchOCIRefuses(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	const layerType = "application/vnd.oci.image.layer.v1.tar"
	file := func(title, content string) rawLayer {
		return rawLayer{mediaType: layerType, content: []byte(content), annotations: map[string]string{sourcectx.AnnotationTitle: title}}
	}
	dir := func(title string, content []byte) rawLayer {
		return rawLayer{mediaType: layerType + "+gzip", content: content, annotations: map[string]string{sourcectx.AnnotationTitle: title, sourcectx.AnnotationUnpack: "true"}}
	}
	for _, tt := range []struct {
		name   string
		layers []rawLayer
		want   string
	}{
		{"parent title", []rawLayer{file("Dockerfile", "FROM scratch\n"), file("../evil", "evil")}, `layer 2: title "../evil" leaves the context`},
		{"nested parent title", []rawLayer{file("a/../../evil", "evil")}, "leaves the context"},
		{"absolute title", []rawLayer{file("/tmp/evil", "evil")}, "absolute path"},
		{"no title", []rawLayer{file("Dockerfile", "x"), {mediaType: layerType, content: []byte("x")}}, "layer 2 has no org.opencontainers.image.title annotation"},
		{"duplicate title", []rawLayer{file("Dockerfile", "a"), file("./Dockerfile", "b")}, "both titled"},
		{"file inside a directory", []rawLayer{dir("src", targz(t, &tar.Header{Name: "a.go", Typeflag: tar.TypeReg})), file("src/a.go", "b")}, "lies inside"},
		{"dot file", []rawLayer{file(".", "x")}, "names no file"},
		{"directory leaving the context", []rawLayer{dir("src", targz(t, &tar.Header{Name: "src/../../evil", Typeflag: tar.TypeReg}))}, `context: "src/../../evil"`},
		{"directory with an escaping link", []rawLayer{dir("src", targz(t, &tar.Header{Name: "src/up", Typeflag: tar.TypeSymlink, Linkname: "../.."}))}, "outside the context"},
		{"directory with an absolute link", []rawLayer{dir("src", targz(t, &tar.Header{Name: "src/passwd", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}))}, "outside the context"},
		{"directory holding other names", []rawLayer{file("Dockerfile", "x"), dir("src", targz(t, &tar.Header{Name: "src/a.go", Typeflag: tar.TypeReg}, &tar.Header{Name: "Dockerfile", Typeflag: tar.TypeReg}))}, `"Dockerfile": lies outside the directory "src"`},
		{"directory without its title", []rawLayer{dir("src", targz(t, &tar.Header{Name: "lib/a.go", Typeflag: tar.TypeReg}))}, `lies outside the directory "src"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			repo := "hostile/" + strings.ReplaceAll(tt.name, " ", "-")
			r.pushRaw(t, repo, "v1", tt.layers)
			dest, err := r.fetch(t, repo+":v1", 0)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FetchOCI = %v, want an error saying %q", err, tt.want)
			}
			t.Logf("error: %v", err)
			if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) > 1 {
				t.Errorf("FetchOCI left %d entries beside dest", len(entries)-1)
			}
			if strings.HasPrefix(tt.name, "directory") && !errors.As(err, new(*buildcontext.RefusedError)) {
				t.Errorf("error %v is not a *buildcontext.RefusedError", err)
			}
		})
	}

	t.Run("directory unpacking over the limit", func(t *testing.T) {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		tw.WriteHeader(&tar.Header{Name: "src/zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 20})
		tw.Write(make([]byte, 1<<20))
		tw.Close()
		gz.Close()
		r.pushRaw(t, "hostile/bomb", "v1", []rawLayer{dir("src", buf.Bytes())})
		_, err := r.fetch(t, "hostile/bomb:v1", 64<<10)
		if err == nil || !errors.As(err, new(*buildcontext.RefusedError)) {
			t.Fatalf("FetchOCI of 1 MiB unpacked under a 64 KiB limit = %v, want a RefusedError", err)
		}
		t.Logf("error: %v", err)
	})

	t.Run("index", func(t *testing.T) {
		work := t.TempDir()
		writeFiles(t, work, map[string]string{"Dockerfile": "FROM scratch\n"})
		d := r.push(t, work, r.srv.Addr+"/hostile/index:member", "Dockerfile")
		body := r.run(t, work, "manifest", "fetch", r.srv.Addr+"/hostile/index@"+d)
		r.pushManifest(t, "hostile/index:v1", map[string]any{
			"schemaVersion": 2,
			"mediaType":     oci.MediaTypeImageIndex,
			"manifests": []oci.Descriptor{{
				MediaType: oci.MediaTypeImageManifest, Digest: oci.Digest(d), Size: int64(len(body)),
			}},
		})
		_, err := r.fetch(t, "hostile/index:v1", 0)
		if err == nil || !strings.Contains(err.Error(), "is an index") {
			t.Fatalf("FetchOCI of an index = %v, want is an index", err)
		}
		t.Logf("error: %v", err)
	})
}
