package client

import "context"

// Usage is one figure of a registry's usage: "Size" in "Bytes"
// (deduplicated: each blob and manifest once), or "Repositories",
// "Manifests" or "Blobs" as a "Count".
type Usage struct {
	Name         string `json:"name"`
	CurrentValue int64  `json:"currentValue"`
	Unit         string `json:"unit"`
}

// RegistryUsage is what GET /api/registries/{name}/usage answers.
type RegistryUsage struct {
	Value []Usage `json:"value"`
}

// Usage returns what registry name stores.
func (r Registries) Usage(ctx context.Context, name string) (RegistryUsage, error) {
	var out RegistryUsage
	err := r.c.Do(ctx, "GET", registryPath(name)+"/usage", nil, &out)
	if out.Value == nil {
		out.Value = []Usage{}
	}
	return out, err
}
