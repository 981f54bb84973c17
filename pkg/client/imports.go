package client

import (
	"context"
	"net/url"
)

// ImportRequest is the body of POST /api/registries/{name}/importImage.
type ImportRequest struct {
	Source     ImportSource `json:"source"`
	TargetTags []string     `json:"targetTags,omitempty"`
	// Mode is ImportNoForce (default) or ImportForce.
	Mode string `json:"mode,omitempty"`
}

// Import modes.
const (
	ImportNoForce = "NoForce"
	ImportForce   = "Force"
)

// ImportSource names the image to import.
type ImportSource struct {
	// RegistryURI is the source's login server (host[:port]).
	RegistryURI string `json:"registryUri"`
	// SourceImage is repo:tag or repo@digest.
	SourceImage string             `json:"sourceImage"`
	Credentials *ImportCredentials `json:"credentials,omitempty"`
}

// ImportCredentials sign in to an external source registry.
type ImportCredentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// ImportTarget is a target repository with the tags an import sets.
type ImportTarget struct {
	Repository string   `json:"repository"`
	Tags       []string `json:"tags"`
}

// ImportResult is what an import did (only Source and Targets when it
// was accepted to run after the call returned).
type ImportResult struct {
	Source      string         `json:"source"`
	Digest      string         `json:"digest,omitempty"`
	MediaType   string         `json:"mediaType,omitempty"`
	Targets     []ImportTarget `json:"targets"`
	Manifests   int            `json:"manifests"`
	Blobs       int            `json:"blobs"`
	BlobsCopied int            `json:"blobsCopied"`
	BytesCopied int64          `json:"bytesCopied"`
}

// ImportImage imports an image into registry, server-side. With noWait
// the server answers once the request is checked and imports afterwards.
func (c *Client) ImportImage(ctx context.Context, registry string, in ImportRequest, noWait bool) (ImportResult, error) {
	path := "/api/registries/" + url.PathEscape(registry) + "/importImage"
	if noWait {
		path += "?noWait=true"
	}
	var out ImportResult
	err := c.Do(ctx, "POST", path, in, &out)
	return out, err
}
