package buildengine

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
)

// DebianBusybox is where Debian's busybox-static package puts busybox.
const DebianBusybox = "/bin/busybox"

const (
	mediaTypeConfig    = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// busyboxApplets are linked to busybox in the base image: a shell and the
// commands build steps and tests use. (Debian's busybox 1.35 wget crashes
// on -T; use timeout instead.)
var busyboxApplets = []string{
	"[", "ash", "awk", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "dirname",
	"echo", "env", "false", "find", "grep", "gunzip", "gzip", "head", "hostname", "id",
	"ip", "ln", "ls", "mkdir", "mv", "nc", "printf", "ps", "pwd", "rm", "rmdir", "sed",
	"sh", "sleep", "sort", "tail", "tar", "tee", "test", "timeout", "touch", "tr", "true", "uname",
	"wc", "wget", "which",
}

// epoch is the time of every file and of the image itself, so the same
// busybox always gives the same digests and BuildKit's cache holds.
var epoch = time.Unix(0, 0).UTC()

// WriteBusyboxImage adds to the OCI image layout at layoutDir (created if
// need be) a one-layer image for this machine's platform: busybox, read
// from the static binary at busybox (DebianBusybox if empty), as
// /bin/busybox with /bin/sh and other applets linked to it. index.json
// names it ref, replacing an entry of that name. It returns the manifest's
// descriptor; its digest is what BuildKit's oci-layout:// contexts take.
//
// No registry is involved: tests and agents get a base image from a Debian
// package alone. Concurrent writers to one layout must be serialised by
// the caller.
func WriteBusyboxImage(layoutDir, busybox, ref string) (oci.Descriptor, error) {
	if busybox == "" {
		busybox = DebianBusybox
	}
	bin, err := readStaticBinary(busybox)
	if err != nil {
		return oci.Descriptor{}, err
	}
	tarball, err := busyboxLayer(bin)
	if err != nil {
		return oci.Descriptor{}, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz) // no name, no time: the same bytes every time
	if _, err := zw.Write(tarball); err != nil {
		return oci.Descriptor{}, err
	}
	if err := zw.Close(); err != nil {
		return oci.Descriptor{}, err
	}
	config, err := json.Marshal(imageConfig{
		Created:      epoch.Format(time.RFC3339),
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Config: containerConfig{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd: []string{"sh"},
		},
		RootFS: rootFS{Type: "layers", DiffIDs: []oci.Digest{oci.FromBytes(tarball)}},
		History: []history{{
			Created:   epoch.Format(time.RFC3339),
			CreatedBy: "berth: " + busybox + " with its applets linked in /bin",
		}},
	})
	if err != nil {
		return oci.Descriptor{}, err
	}
	l, err := ocilayout.Create(layoutDir)
	if err != nil {
		return oci.Descriptor{}, err
	}
	layerDesc, err := l.PutBytes(mediaTypeLayerGzip, gz.Bytes())
	if err != nil {
		return oci.Descriptor{}, err
	}
	configDesc, err := l.PutBytes(mediaTypeConfig, config)
	if err != nil {
		return oci.Descriptor{}, err
	}
	manifest, err := json.Marshal(imageManifest{
		SchemaVersion: 2,
		MediaType:     oci.MediaTypeImageManifest,
		Config:        configDesc,
		Layers:        []oci.Descriptor{layerDesc},
	})
	if err != nil {
		return oci.Descriptor{}, err
	}
	desc, err := l.PutBytes(oci.MediaTypeImageManifest, manifest)
	if err != nil {
		return oci.Descriptor{}, err
	}
	desc.Platform = &oci.Platform{Architecture: runtime.GOARCH, OS: "linux"}
	if err := l.Tag(desc, ref); err != nil {
		return oci.Descriptor{}, err
	}
	return desc, nil
}

// readStaticBinary reads busybox and refuses a dynamically linked one,
// which would not run in an image without its C library.
func readStaticBinary(path string) ([]byte, error) {
	f, err := elf.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("buildengine: %s not found: %w", path, ErrNotInstalled)
	}
	if err != nil {
		return nil, fmt.Errorf("buildengine: busybox: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, fmt.Errorf("buildengine: %s is dynamically linked; install Debian's busybox-static: %w", path, ErrNotInstalled)
		}
	}
	return os.ReadFile(path)
}

// busyboxLayer returns the uncompressed layer: /bin/busybox, its applets,
// /usr/bin/env for scripts' #! lines, /tmp, and an /etc/passwd and
// /etc/group naming root.
func busyboxLayer(busybox []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: epoch})
	}
	file := func(name string, mode int64, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)), ModTime: epoch}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	link := func(name, target string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: epoch})
	}
	steps := []func() error{
		func() error { return dir("bin/", 0o755) },
		func() error { return file("bin/busybox", 0o755, busybox) },
		func() error { return dir("etc/", 0o755) },
		func() error { return file("etc/group", 0o644, []byte("root:x:0:\n")) },
		func() error { return file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\n")) },
		func() error { return dir("root/", 0o700) },
		func() error { return dir("tmp/", 0o1777) },
		func() error { return dir("usr/", 0o755) },
		func() error { return dir("usr/bin/", 0o755) },
		func() error { return link("usr/bin/env", "/bin/busybox") },
	}
	for _, applet := range busyboxApplets {
		steps = append(steps, func() error { return link("bin/"+applet, "busybox") })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// The JSON documents of an image, with only the fields written here.
type (
	imageManifest struct {
		SchemaVersion int              `json:"schemaVersion"`
		MediaType     string           `json:"mediaType"`
		Config        oci.Descriptor   `json:"config"`
		Layers        []oci.Descriptor `json:"layers"`
	}
	imageConfig struct {
		Created      string          `json:"created"`
		Architecture string          `json:"architecture"`
		OS           string          `json:"os"`
		Config       containerConfig `json:"config"`
		RootFS       rootFS          `json:"rootfs"`
		History      []history       `json:"history"`
	}
	containerConfig struct {
		Env []string `json:"Env"`
		Cmd []string `json:"Cmd"`
	}
	rootFS struct {
		Type    string       `json:"type"`
		DiffIDs []oci.Digest `json:"diff_ids"`
	}
	history struct {
		Created   string `json:"created"`
		CreatedBy string `json:"created_by"`
	}
)
