package sourcectx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/buildcontext"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/regclient"
)

// Annotations of an ORAS artifact's layers.
const (
	// AnnotationTitle is a layer's file name, relative to the context.
	AnnotationTitle = "org.opencontainers.image.title"
	// AnnotationUnpack "true" marks a layer that is a directory packed as
	// tar+gzip, as `oras push` packs directories.
	AnnotationUnpack = "io.deis.oras.content.unpack"
)

// ParseOCI parses oci://<login server>/<repository>:<tag> or …@<digest>.
func ParseOCI(s string) (regclient.Reference, error) {
	if !hasPrefixFold(s, "oci://") {
		return regclient.Reference{}, fmt.Errorf("context %q: want oci://<login server>/<repository>:<tag>", s)
	}
	ref, err := regclient.ParseReference(s[len("oci://"):])
	if err != nil {
		return regclient.Reference{}, fmt.Errorf("context %q: want oci://<login server>/<repository>:<tag> or @<digest>: %w", s, err)
	}
	return ref, nil
}

// ociLayer is a layer of the artifact, checked.
type ociLayer struct {
	oci.Descriptor
	title  string // a clean relative slash path, or "." for the whole context
	unpack bool
}

// FetchOCI unpacks the ORAS artifact ref into dest, which must be empty
// or not exist: each layer is the file its title annotation names, or,
// marked for unpacking, a directory extracted under buildcontext's rules.
// Blobs stream to disk and are checked against their digests; limit
// bounds the bytes written (0 or less: buildcontext's default). On error
// dest is left empty.
func FetchOCI(ctx context.Context, c *regclient.Client, ref regclient.Reference, dest string, limit int64) error {
	if limit <= 0 {
		limit = buildcontext.DefaultMaxBytes
	}
	name := "oci://" + ref.String()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("context %s: %w", name, fmt.Errorf(format, args...))
	}
	body, desc, err := c.Manifest(ctx, ref, ref.Version())
	if err != nil {
		return fail("%w", registryError(err))
	}
	m, err := oci.ParseManifest(desc.MediaType, body)
	if err != nil {
		return fail("the registry holds no valid manifest here: %w", err)
	}
	if oci.IsIndex(m.MediaType) {
		return fail("is an index (a multi-platform image or a list of manifests), not an ORAS artifact: push the context's files with `oras push %s <files>` and name that artifact", ref)
	}
	var raw struct {
		Layers []oci.Descriptor `json:"layers"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return fail("the registry holds no valid manifest here: %w", err)
	}
	layers, err := checkLayers(raw.Layers, limit)
	if err != nil {
		return fail("%w", err)
	}

	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fail("%w", err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return fail("%w", err)
	}
	defer root.Close()
	if names, err := fs.ReadDir(root.FS(), "."); err != nil {
		return fail("%w", err)
	} else if len(names) > 0 {
		return fail("%s is not empty", dest)
	}
	var used int64
	for i, l := range layers {
		n, err := fetchLayer(ctx, c, ref, root, dest, l, limit-used)
		if errors.Is(err, errOverLimit) {
			err = fmt.Errorf("the context's files add up to more than the limit of %d bytes: push a smaller context", limit)
		}
		if err != nil {
			emptyDir(root)
			return fail("layer %d (%s): %w", i+1, l.title, err)
		}
		used += n
	}
	return nil
}

// checkLayers reads and checks every layer's title before anything is
// fetched.
func checkLayers(ds []oci.Descriptor, limit int64) ([]ociLayer, error) {
	var (
		layers []ociLayer
		total  int64
		seen   = map[string]int{}
	)
	for i, d := range ds {
		title, ok := d.Annotations[AnnotationTitle]
		if !ok || title == "" {
			return nil, fmt.Errorf("layer %d has no %s annotation, so it names no file: an oci:// context is an artifact pushed with `oras push <ref> <files>`, not a container image", i+1, AnnotationTitle)
		}
		unpack := d.Annotations[AnnotationUnpack] == "true"
		clean, err := checkTitle(title, unpack)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		if j, dup := seen[clean]; dup {
			return nil, fmt.Errorf("layers %d and %d are both titled %q: push each file once", j+1, i+1, title)
		}
		seen[clean] = i
		total += d.Size
		if total > limit {
			return nil, fmt.Errorf("the artifact's layers add up to more than the limit of %d bytes: push a smaller context", limit)
		}
		layers = append(layers, ociLayer{Descriptor: d, title: clean, unpack: unpack})
	}
	// A file inside another layer's directory, or below a file, could be
	// written through what the other layer unpacked.
	titles := make([]string, 0, len(layers))
	for _, l := range layers {
		titles = append(titles, l.title)
	}
	slices.Sort(titles)
	for i, t := range titles {
		for _, u := range titles[i+1:] {
			if t == "." || strings.HasPrefix(u, t+"/") {
				return nil, fmt.Errorf("layer %q lies inside layer %q: push the directory or its files, not both", u, t)
			}
		}
	}
	return layers, nil
}

// checkTitle checks a layer's title: a relative slash path that stays in
// the context. "." (a whole directory pushed as is) is allowed for an
// unpacked layer.
func checkTitle(title string, unpack bool) (string, error) {
	if strings.HasPrefix(title, "/") || strings.Contains(title, "\\") || filepath.IsAbs(title) {
		return "", fmt.Errorf("title %q is an absolute path: push files by relative names, from the context's directory", title)
	}
	for _, e := range strings.Split(title, "/") {
		if e == ".." {
			return "", fmt.Errorf("title %q leaves the context: push files by names inside the context's directory", title)
		}
	}
	for _, c := range []byte(title) {
		if c < ' ' || c == 0x7f {
			return "", fmt.Errorf("title %q holds a control character", title)
		}
	}
	clean := path.Clean(title)
	if clean == "." && !unpack {
		return "", fmt.Errorf("title %q names no file", title)
	}
	for _, e := range strings.Split(clean, "/") {
		if len(e) > 255 {
			return "", fmt.Errorf("title %q has a name over 255 bytes", title)
		}
	}
	return clean, nil
}

// fetchLayer writes one layer under root and returns the bytes written.
func fetchLayer(ctx context.Context, c *regclient.Client, ref regclient.Reference, root *os.Root, dest string, l ociLayer, remaining int64) (int64, error) {
	rc, err := c.Blob(ctx, ref, l.Descriptor)
	if err != nil {
		return 0, registryError(err)
	}
	defer rc.Close()
	h := l.Digest.NewHash()
	blob := &countingReader{r: io.TeeReader(io.LimitReader(rc, l.Size+1), h)}
	check := func() error {
		if blob.n != l.Size {
			return fmt.Errorf("the registry sent %d bytes, the manifest says %d", blob.n, l.Size)
		}
		if got := oci.FromHash(l.Digest.Algorithm(), h); got != l.Digest {
			return fmt.Errorf("the registry sent content with digest %s, the manifest says %s", got, l.Digest)
		}
		return nil
	}
	if dir := path.Dir(l.title); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return 0, err
		}
	}

	if !l.unpack {
		f, err := root.OpenFile(l.title, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(f, io.LimitReader(blob, remaining+1))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		switch {
		case err != nil:
			return 0, err
		case n > remaining:
			return 0, errOverLimit
		}
		return n, check()
	}

	// oras packs a directory with its own name as the entries' prefix
	// (src/main.go for title src) and unpacks it beside the title. It is
	// unpacked here into a scratch directory of dest, so that a link's
	// target means the same once the title's tree is moved into place.
	scratch := fmt.Sprintf(".berth-unpack-%s", l.Digest.Hex()[:16])
	if err := root.Mkdir(scratch, 0o700); err != nil {
		return 0, err
	}
	defer root.RemoveAll(scratch)
	if err := buildcontext.Extract(ctx, blob, filepath.Join(dest, scratch), buildcontext.Limits{MaxBytes: remaining}); err != nil {
		return 0, fmt.Errorf("unpacking the directory: %w", err)
	}
	if _, err := io.Copy(io.Discard, blob); err != nil { // the archive's padding
		return 0, err
	}
	if err := check(); err != nil {
		return 0, err
	}
	if err := moveTitle(root, scratch, l.title); err != nil {
		return 0, err
	}
	return treeSize(filepath.Join(dest, filepath.FromSlash(l.title)))
}

// moveTitle moves the tree of title out of scratch into place, after
// checking that the archive held nothing else.
func moveTitle(root *os.Root, scratch, title string) error {
	found := false
	err := fs.WalkDir(root.FS(), scratch, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == scratch {
			return err
		}
		rel := strings.TrimPrefix(p, scratch+"/")
		switch {
		case title == "." || rel == title:
			found = true
			return fs.SkipDir
		case strings.HasPrefix(title, rel+"/") && d.IsDir():
			return nil
		}
		return &buildcontext.RefusedError{Entry: rel, Reason: fmt.Sprintf("lies outside the directory %q that the layer's title names: push directories with oras push", title)}
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("the archive holds no directory %q, which the layer's title names: push directories with oras push", title)
	}
	if title != "." {
		return root.Rename(scratch+"/"+title, title)
	}
	entries, err := fs.ReadDir(root.FS(), scratch)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := root.Rename(scratch+"/"+e.Name(), e.Name()); err != nil {
			return err
		}
	}
	return nil
}

// treeSize is the size of the regular files under dir.
func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}

// emptyDir removes everything under root.
func emptyDir(root *os.Root) {
	names, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return
	}
	for _, e := range names {
		root.RemoveAll(e.Name())
	}
}

// registryError says what to do about a registry's refusal.
func registryError(err error) error {
	var re *regclient.Error
	if !errors.As(err, &re) {
		return err
	}
	switch {
	case re.Status == http.StatusNotFound || re.Code == "MANIFEST_UNKNOWN" || re.Code == "NAME_UNKNOWN" || re.Code == "BLOB_UNKNOWN":
		return fmt.Errorf("not found in the registry (%w): check the repository and tag, or push the context first with `oras push`", err)
	case re.Status == http.StatusUnauthorized || re.Status == http.StatusForbidden || re.Code == "DENIED" || re.Code == "UNAUTHORIZED":
		return fmt.Errorf("the registry refused access (%w): the run's credentials need pull rights on the repository, and the registry's network rules must admit this agent", err)
	}
	return err
}

var errOverLimit = errors.New("over the size limit")

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
