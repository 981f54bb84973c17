package regclient

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/berth-project/berth/internal/oci"
)

// Manifest fetches the manifest ref names by version (a tag or a digest),
// checking a digest, for a copy that goes manifest by manifest (import).
func (c *Client) Manifest(ctx context.Context, ref Reference, version string) ([]byte, oci.Descriptor, error) {
	return c.getManifest(ctx, ref, version)
}

// Blob opens blob d of ref's repository for reading: a stream, never the
// whole blob in memory. The caller closes it, and checks the content
// against d (the registry that stores it does).
func (c *Client) Blob(ctx context.Context, ref Reference, d oci.Descriptor) (io.ReadCloser, error) {
	resp, err := c.do(ctx, ref.Host, pullScope(ref), func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, "GET", c.url(ref, "blobs", string(d.Digest)), nil)
	})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	if resp.ContentLength >= 0 && d.Size >= 0 && resp.ContentLength != d.Size {
		resp.Body.Close()
		return nil, fmt.Errorf("%s@%s: the registry sent %d bytes, the manifest says %d", ref.Repository, d.Digest, resp.ContentLength, d.Size)
	}
	return resp.Body, nil
}
