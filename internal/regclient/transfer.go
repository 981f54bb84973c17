package regclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
)

// Pulled is an image copied into a layout.
type Pulled struct {
	// Digest is what the reference named at the registry: the index or
	// manifest digest a tag pointed at (the dependency report's digest).
	Digest oci.Digest
	// Manifest is the image manifest for the platform, now in the layout.
	Manifest oci.Descriptor
}

// Pull copies the image ref names, for platform ("linux/amd64"), into
// the layout: its manifest, config and layers. An index is resolved to
// its member for platform.
func (c *Client) Pull(ctx context.Context, ref Reference, l *ocilayout.Layout, platform string) (Pulled, error) {
	body, desc, err := c.getManifest(ctx, ref, ref.Version())
	if err != nil {
		return Pulled{}, err
	}
	out := Pulled{Digest: desc.Digest}
	m, err := oci.ParseManifest(desc.MediaType, body)
	if err != nil {
		return Pulled{}, fmt.Errorf("%s: %w", ref, err)
	}
	if oci.IsIndex(desc.MediaType) {
		child, ok := pickPlatform(m.Children, platform)
		if !ok {
			return Pulled{}, fmt.Errorf("%s has no image for platform %s", ref, platform)
		}
		if body, desc, err = c.getManifest(ctx, ref, string(child.Digest)); err != nil {
			return Pulled{}, err
		}
		if m, err = oci.ParseManifest(desc.MediaType, body); err != nil {
			return Pulled{}, fmt.Errorf("%s@%s: %w", ref, child.Digest, err)
		}
	}
	for _, b := range m.Blobs {
		if err := c.pullBlob(ctx, ref, b, l); err != nil {
			return Pulled{}, err
		}
	}
	if err := l.WriteBlob(desc.Digest, desc.Size, bytes.NewReader(body)); err != nil {
		return Pulled{}, err
	}
	out.Manifest = desc
	return out, nil
}

func pickPlatform(ds []oci.Descriptor, platform string) (oci.Descriptor, bool) {
	os, arch, _ := strings.Cut(platform, "/")
	arch, variant, _ := strings.Cut(arch, "/")
	for _, d := range ds {
		if p := d.Platform; p != nil && p.OS == os && p.Architecture == arch && (variant == "" || p.Variant == variant) {
			return d, true
		}
	}
	return oci.Descriptor{}, false
}

// getManifest fetches a manifest by tag or digest, checking a digest.
func (c *Client) getManifest(ctx context.Context, ref Reference, version string) ([]byte, oci.Descriptor, error) {
	resp, err := c.do(ctx, ref.Host, pullScope(ref), func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", c.url(ref, "manifests", version), nil)
		if err == nil {
			req.Header.Set("Accept", strings.Join(oci.ManifestMediaTypes, ", "))
		}
		return req, err
	})
	if err != nil {
		return nil, oci.Descriptor{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, oci.Descriptor{}, readError(resp)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, oci.MaxManifestSize+1))
	if err != nil {
		return nil, oci.Descriptor{}, err
	}
	if len(body) > oci.MaxManifestSize {
		return nil, oci.Descriptor{}, fmt.Errorf("%s: manifest over %d bytes", ref, oci.MaxManifestSize)
	}
	d := oci.FromBytes(body)
	if strings.HasPrefix(version, "sha") && oci.Digest(version) != d {
		return nil, oci.Descriptor{}, fmt.Errorf("%s: the registry sent a manifest that does not match %s", ref, version)
	}
	mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return body, oci.Descriptor{MediaType: strings.TrimSpace(mt), Digest: d, Size: int64(len(body))}, nil
}

func (c *Client) pullBlob(ctx context.Context, ref Reference, d oci.Descriptor, l *ocilayout.Layout) error {
	if l.Has(d.Digest) {
		return nil
	}
	rc, err := c.Blob(ctx, ref, d)
	if err != nil {
		return err
	}
	defer rc.Close()
	return l.WriteBlob(d.Digest, d.Size, rc)
}

// Push uploads the manifest desc of the layout, with everything it
// references, to ref (by tag, or by digest when ref has no tag), and
// returns the digest the registry holds.
func (c *Client) Push(ctx context.Context, l *ocilayout.Layout, desc oci.Descriptor, ref Reference) (oci.Digest, error) {
	body, err := l.Bytes(desc.Digest)
	if err != nil {
		return "", err
	}
	m, err := oci.ParseManifest(desc.MediaType, body)
	if err != nil {
		return "", err
	}
	for _, child := range m.Children {
		if _, err := c.Push(ctx, l, child, Reference{Host: ref.Host, Repository: ref.Repository, Digest: child.Digest}); err != nil {
			return "", err
		}
	}
	for _, b := range m.Blobs {
		if err := c.pushBlob(ctx, ref, b, l); err != nil {
			return "", err
		}
	}
	version := ref.Tag
	if version == "" {
		version = string(desc.Digest)
	}
	resp, err := c.do(ctx, ref.Host, pushScope(ref), func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, "PUT", c.url(ref, "manifests", version), bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", desc.MediaType)
		}
		return req, err
	})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", readError(resp)
	}
	return desc.Digest, nil
}

// pushBlob uploads a blob the registry does not have yet, in one PUT.
func (c *Client) pushBlob(ctx context.Context, ref Reference, d oci.Descriptor, l *ocilayout.Layout) error {
	resp, err := c.do(ctx, ref.Host, pushScope(ref), func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, "HEAD", c.url(ref, "blobs", string(d.Digest)), nil)
	})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	resp, err = c.do(ctx, ref.Host, pushScope(ref), func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, "POST", c.url(ref, "blobs", "uploads/"), nil)
	})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return readError(resp)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return fmt.Errorf("upload location: %w", err)
	}
	q := loc.Query()
	q.Set("digest", string(d.Digest))
	loc.RawQuery = q.Encode()
	resp, err = c.do(ctx, ref.Host, pushScope(ref), func() (*http.Request, error) {
		f, err := l.ReadBlob(d.Digest)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, "PUT", loc.String(), f)
		if err != nil {
			f.Close()
			return nil, err
		}
		req.ContentLength = d.Size
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Length", strconv.FormatInt(d.Size, 10))
		return req, nil
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return readError(resp)
	}
	return nil
}
