package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRunStepCached(t *testing.T) {
	run := "#5 [1/2] RUN echo hi > /hi\n"
	tests := []struct {
		name          string
		progress      string
		cached, found bool
	}{
		{"ran", "#4 DONE 0.1s\n\n" + run + "#5 DONE 0.2s\n\n#6 exporting to oci image format\n", false, true},
		{"cached", "#4 DONE 0.0s\n\n" + run + "#5 CACHED\n\n#6 exporting layers done\n", true, true},
		{"in berth's log", "2026/12/02 10:18:37 Launching container with name: build\n" + run + "#5 CACHED\n", true, true},
		{"another step cached", "#4 CACHED\n" + run + "#5 DONE 0.2s\n", false, true},
		{"no RUN step", "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n", false, false},
		{"the Dockerfile quoted, not a step", "FROM x\nRUN echo hi > /hi\n", false, false},
	}
	for _, tt := range tests {
		cached, found := runStepCached(tt.progress)
		if cached != tt.cached || found != tt.found {
			t.Errorf("%s: runStepCached = %v, %v; want %v, %v", tt.name, cached, found, tt.cached, tt.found)
		}
	}
}

func TestMedian(t *testing.T) {
	d := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v)
		}
		return out
	}
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{d(7), 7},
		{d(9, 1, 5), 5},
		{d(4, 1, 3, 2), 2},
		{d(5, 1, 4, 2, 3), 3},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("median sorted its argument: %v", tt.in)
		}
	}
}

func TestBuildctlArgsNameTheBaseImage(t *testing.T) {
	args := strings.Join(buildctlArgs("/d/buildkitd.sock", "/ctx", "/out", "linux/amd64", "127.0.0.1:5000/bench/x-base:1", "sha256:abc", "/layout"), " ")
	for _, want := range []string{
		"--addr unix:///d/buildkitd.sock build ",
		"--local context=/ctx --local dockerfile=/ctx",
		"--output type=oci,tar=false,dest=/out",
		"--opt platform=linux/amd64",
		"--opt context:127.0.0.1:5000/bench/x-base:1=oci-layout://base@sha256:abc",
		"--oci-layout base=/layout",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("buildctl args %q lack %q", args, want)
		}
	}
}

func TestSelectBuildAddsSHA256(t *testing.T) {
	got, err := selectPhases("build")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sha256", "build"}; !slices.Equal(got, want) {
		t.Errorf("selectPhases(build) = %v, want %v", got, want)
	}
}

// TestBaseImageIsConsistent checks the image the agent and buildctl build
// on: every digest names the bytes it should, the layer holds busybox as
// /bin/sh, and the layout lists the manifest.
func TestBaseImageIsConsistent(t *testing.T) {
	dir := t.TempDir()
	busybox := filepath.Join(dir, "busybox")
	if err := os.WriteFile(busybox, []byte("not really busybox"), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := newBaseImage(busybox)
	if err != nil {
		t.Fatal(err)
	}
	again, err := newBaseImage(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if again.manifestDesc.Digest != img.manifestDesc.Digest {
		t.Errorf("two images of the same busybox differ: %s, %s", img.manifestDesc.Digest, again.manifestDesc.Digest)
	}
	var m struct {
		Config descriptor   `json:"config"`
		Layers []descriptor `json:"layers"`
	}
	if err := json.Unmarshal(img.manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.Config != descriptorOf(mediaTypeConfig, img.config) || len(m.Layers) != 1 || m.Layers[0] != descriptorOf(mediaTypeLayerGzip, img.layer) {
		t.Errorf("the manifest does not name the config and layer: %s", img.manifest)
	}
	zr, err := gzip.NewReader(bytes.NewReader(img.layer))
	if err != nil {
		t.Fatal(err)
	}
	tarball, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var config struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(img.config, &config); err != nil {
		t.Fatal(err)
	}
	if want := []string{sha256Digest(tarball)}; !slices.Equal(config.RootFS.DiffIDs, want) {
		t.Errorf("diff_ids %v, want %v", config.RootFS.DiffIDs, want)
	}
	entries := map[string]*tar.Header{}
	var body []byte
	tr := tar.NewReader(bytes.NewReader(tarball))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
		if h.Name == "bin/busybox" {
			body, _ = io.ReadAll(tr)
		}
	}
	if string(body) != "not really busybox" || entries["bin/busybox"].Mode&0o111 == 0 {
		t.Errorf("bin/busybox: %q, mode %o", body, entries["bin/busybox"].Mode)
	}
	if sh := entries["bin/sh"]; sh == nil || sh.Typeflag != tar.TypeSymlink || sh.Linkname != "busybox" {
		t.Errorf("bin/sh is not a link to busybox: %+v", sh)
	}

	layout := filepath.Join(dir, "layout")
	if err := img.writeLayout(layout); err != nil {
		t.Fatal(err)
	}
	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0] != img.manifestDesc {
		t.Errorf("index.json lists %v, want the manifest %v", index.Manifests, img.manifestDesc)
	}
	for _, d := range []descriptor{img.manifestDesc, m.Config, m.Layers[0]} {
		blob, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(d.Digest, "sha256:")))
		if err != nil || sha256Digest(blob) != d.Digest {
			t.Errorf("blob %s: %v, or its bytes do not match", d.Digest, err)
		}
	}
}

func TestMakeContextIsExactAndRepeatable(t *testing.T) {
	const size = 3_000_000
	sum := func(dir string) string {
		h := sha256.New()
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			h.Write([]byte(rel + "\x00"))
			h.Write(b)
			return err
		})
		return hex.EncodeToString(h.Sum(nil))
	}
	var sums []string
	for range 2 {
		dir := t.TempDir()
		total, files, err := makeContext(dir, size)
		if err != nil {
			t.Fatal(err)
		}
		if total != size || files < 10 {
			t.Fatalf("makeContext wrote %d bytes in %d files, want %d bytes in many", total, files, size)
		}
		sums = append(sums, sum(dir))
	}
	if sums[0] != sums[1] {
		t.Error("two contexts of the same size differ")
	}
}
