package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// The build phase's base image and the checks that a build can run here.
// internal/buildengine writes the same kind of image for tests and agents,
// but the bench may import nothing under internal/ (internal/archtest), so
// it makes its own: one layer, busybox as /bin/sh, nothing downloaded.

// debianBusybox is where Debian's busybox-static, which `make engine`
// installs, puts a statically linked busybox.
const debianBusybox = "/bin/busybox"

const (
	mediaTypeLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
	mediaTypeIndex     = "application/vnd.oci.image.index.v1+json"
)

// cannotBuild is what keeps the builds from running on this machine; the
// phase reports it as a skip, not a failure.
type cannotBuild string

func (c cannotBuild) Error() string { return string(c) }

// buildTools are the local programs the build figures drive besides the
// server: the berth CLI and BuildKit's buildctl.
type buildTools struct {
	berth    string
	buildctl string
	busybox  string
}

// findBuildTools checks that the builds can run: as root (BuildKit's runc
// worker needs it), with busybox-static and buildctl installed. buildctl is
// looked for next to the berth binary first, where `make engine` links it.
// buildkitd itself is the server's to find; the first build says if it
// could not (see berthBuild).
func findBuildTools(berthPath string) (buildTools, error) {
	if os.Geteuid() != 0 {
		return buildTools{}, cannotBuild("not root: BuildKit's runc worker needs root")
	}
	berth, err := filepath.Abs(berthPath)
	if err != nil {
		return buildTools{}, err
	}
	t := buildTools{berth: berth, busybox: debianBusybox}
	if err := checkStatic(t.busybox); err != nil {
		return buildTools{}, cannotBuild("no engine: " + err.Error() + "; run `make engine`")
	}
	t.buildctl = filepath.Join(filepath.Dir(berth), "buildctl")
	if fi, err := os.Stat(t.buildctl); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		if t.buildctl, err = exec.LookPath("buildctl"); err != nil {
			return buildTools{}, cannotBuild("no engine: buildctl is neither beside " + berth + " nor on $PATH; run `make engine`")
		}
	}
	return t, nil
}

// checkStatic refuses a missing or dynamically linked binary, which would
// not run in an image without its C library.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s (busybox-static) not found", path)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: install Debian's busybox-static", path)
		}
	}
	return nil
}

// baseImage is the bench's base image, as blobs to push and to lay out.
type baseImage struct {
	layer, config, manifest []byte
	manifestDesc            descriptor
}

// newBaseImage makes a one-layer image for this machine's platform holding
// the busybox binary at busybox as /bin/busybox with /bin/sh linked to it:
// enough for `RUN echo hi > /hi`. Times are the epoch, so the same busybox
// gives the same digests.
func newBaseImage(busybox string) (*baseImage, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, err
	}
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	epoch := time.Unix(0, 0).UTC()
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755},
		{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin))},
		{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: "busybox", Mode: 0o777},
		{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755},
		{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd))},
		{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777},
	} {
		h.ModTime = epoch
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		switch h.Name {
		case "bin/busybox":
			_, err = tw.Write(bin)
		case "etc/passwd":
			_, err = tw.Write([]byte(passwd))
		}
		if err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz) // no name, no time: the same bytes every time
	if _, err := zw.Write(tarball.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	img := &baseImage{layer: gz.Bytes()}
	img.config, err = json.Marshal(map[string]any{
		"created":      epoch.Format(time.RFC3339),
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, "Cmd": []string{"sh"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{sha256Digest(tarball.Bytes())}},
		"history":      []map[string]string{{"created": epoch.Format(time.RFC3339), "created_by": "berth-bench: " + busybox + " as /bin/sh"}},
	})
	if err != nil {
		return nil, err
	}
	img.manifest, err = json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{2, mediaTypeManifest, descriptorOf(mediaTypeConfig, img.config), []descriptor{descriptorOf(mediaTypeLayerGzip, img.layer)}})
	if err != nil {
		return nil, err
	}
	img.manifestDesc = descriptorOf(mediaTypeManifest, img.manifest)
	return img, nil
}

const passwd = "root:x:0:0:root:/root:/bin/sh\n"

func descriptorOf(mediaType string, blob []byte) descriptor {
	return descriptor{MediaType: mediaType, Digest: sha256Digest(blob), Size: int64(len(blob))}
}

// push pushes the image as repo:tag with plain distribution calls.
func (img *baseImage) push(ctx context.Context, reg *registry, repo, tag string) error {
	c := newClient(1, smallTimeout)
	defer closeClient(c)
	for _, blob := range [][]byte{img.layer, img.config} {
		if err := reg.pushBytes(ctx, c, repo, sha256Digest(blob), blob); err != nil {
			return err
		}
	}
	return reg.putManifest(ctx, c, repo, tag, img.manifest)
}

// writeLayout writes the image as an OCI image layout in dir, the store
// buildctl reads it from (--oci-layout), as berth's agent hands base
// images to BuildKit.
func (img *baseImage) writeLayout(dir string) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	for _, blob := range [][]byte{img.layer, img.config, img.manifest} {
		d := sha256Digest(blob)
		if err := os.WriteFile(filepath.Join(blobs, d[len("sha256:"):]), blob, 0o644); err != nil {
			return err
		}
	}
	index, err := json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}{2, mediaTypeIndex, []descriptor{img.manifestDesc}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644)
}
