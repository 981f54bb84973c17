package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// GetByID returns the resource with id ("/registries/R", as its "id"
// property gives it) as the server sends it, for commands that work on any
// resource type without knowing its fields.
func (c *Client) GetByID(ctx context.Context, id string) (json.RawMessage, error) {
	p, err := idPath(id)
	if err != nil {
		return nil, err
	}
	var out json.RawMessage
	err = c.Do(ctx, "GET", p, nil, &out)
	return out, err
}

// PatchByID sends body to the resource with id (PATCH) and returns the
// answer as the server sends it.
func (c *Client) PatchByID(ctx context.Context, id string, body any) (json.RawMessage, error) {
	p, err := idPath(id)
	if err != nil {
		return nil, err
	}
	var out json.RawMessage
	err = c.Do(ctx, "PATCH", p, body, &out)
	return out, err
}

// idPath turns a resource ID into its management API path, escaping each
// segment.
func idPath(id string) (string, error) {
	segs := strings.Split(strings.TrimPrefix(id, "/"), "/")
	if !strings.HasPrefix(id, "/") || len(segs) < 2 {
		return "", fmt.Errorf("invalid resource ID %q: want /<type>/<name>, such as /registries/myregistry", id)
	}
	for i, s := range segs {
		if s == "" {
			return "", fmt.Errorf("invalid resource ID %q: want /<type>/<name>, such as /registries/myregistry", id)
		}
		segs[i] = seg(s)
	}
	return "/api/" + strings.Join(segs, "/"), nil
}
