package client

import (
	"context"
	"net/url"
)

// ServiceTag names the egress address prefixes of berth's public agent
// pools in one region ("BerthTasks.<region>"), for network rules that let
// builds through.
type ServiceTag struct {
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Properties ServiceTagProperties `json:"properties"`
}

// ServiceTagProperties are a service tag's properties.
type ServiceTagProperties struct {
	Region          string   `json:"region"`
	AddressPrefixes []string `json:"addressPrefixes"`
	ChangeNumber    int64    `json:"changeNumber"` // changes whenever the prefixes do
}

// ServiceTags returns the service tags of location
// (GET /api/serviceTags?location=L), never nil.
func (c *Client) ServiceTags(ctx context.Context, location string) ([]ServiceTag, error) {
	var out struct {
		Values []ServiceTag `json:"values"`
	}
	if err := c.Do(ctx, "GET", "/api/serviceTags?location="+url.QueryEscape(location), nil, &out); err != nil {
		return nil, err
	}
	if out.Values == nil {
		out.Values = []ServiceTag{}
	}
	return out.Values, nil
}
