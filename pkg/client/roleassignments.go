package client

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// RoleAssignment gives a principal a role at a scope.
type RoleAssignment struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties RoleAssignmentProperties `json:"properties"`
}

// RoleAssignmentProperties are a role assignment's properties.
type RoleAssignmentProperties struct {
	PrincipalID        string    `json:"principalId"`
	PrincipalName      string    `json:"principalName"`
	PrincipalType      string    `json:"principalType"`
	RoleDefinitionName string    `json:"roleDefinitionName"`
	Scope              string    `json:"scope"`
	CreatedAt          time.Time `json:"createdAt,omitzero"`
}

// RoleAssignmentCreate is what RoleAssignments.Create sends.
type RoleAssignmentCreate struct {
	Assignee string `json:"assignee"` // principalId, appId, user name or identity name
	Role     string `json:"role"`
	Scope    string `json:"scope"`
}

// RoleAssignmentFilter selects role assignments; empty fields match all.
type RoleAssignmentFilter struct {
	Assignee string
	Role     string
	Scope    string
}

// RoleAssignments calls /api/roleAssignments.
type RoleAssignments struct{ c *Client }

// RoleAssignments returns the role assignment calls.
func (c *Client) RoleAssignments() RoleAssignments { return RoleAssignments{c} }

// Create assigns a role; an existing identical assignment is a Conflict.
func (r RoleAssignments) Create(ctx context.Context, in RoleAssignmentCreate) (RoleAssignment, error) {
	var out RoleAssignment
	err := r.c.Do(ctx, "POST", "/api/roleAssignments", in, &out)
	return out, err
}

// List returns the role assignments that match f.
func (r RoleAssignments) List(ctx context.Context, f RoleAssignmentFilter) ([]RoleAssignment, error) {
	q := url.Values{}
	for k, v := range map[string]string{"assignee": f.Assignee, "role": f.Role, "scope": f.Scope} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/api/roleAssignments"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return getList[RoleAssignment](ctx, r.c, path)
}

// Delete deletes the role assignment id, given as its name or its full ID
// ("/roleAssignments/<name>").
func (r RoleAssignments) Delete(ctx context.Context, id string) error {
	name := strings.TrimPrefix(id, "/roleAssignments/")
	return r.c.Do(ctx, "DELETE", "/api/roleAssignments/"+seg(name), nil, nil)
}
