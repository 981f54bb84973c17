package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// manifestAccept names every manifest type berth serves, so that /v2
// answers a manifest as it was pushed.
const manifestAccept = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, " +
	"application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, " +
	"application/vnd.oci.artifact.manifest.v1+json, */*"

// maxManifest bounds a manifest read (the OCI limit is 4 MiB).
const maxManifest = 4 << 20

// Subject returns the digest of the subject of repo@digest (GET
// /v2/<repo>/manifests/<digest>), or "" when it has none: the image a
// signature or an SBOM is about. The metadata API does not list it.
func (m *Metadata) Subject(ctx context.Context, repo, digest string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", m.base+"/v2/"+repo+"/manifests/"+url.PathEscape(digest), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", manifestAccept)
	req.Header.Set("User-Agent", m.c.userAgent)
	req.SetBasicAuth(NullUser, m.refresh)
	resp, err := m.c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("cannot reach %s: %w", m.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return "", parseError(resp)
	}
	var body struct {
		Subject *struct {
			Digest string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxManifest)).Decode(&body); err != nil {
		return "", fmt.Errorf("decoding manifest %s@%s: %w", repo, digest, err)
	}
	if body.Subject == nil {
		return "", nil
	}
	return body.Subject.Digest, nil
}
