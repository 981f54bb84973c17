package client

import (
	"context"
	"net/url"
	"time"
)

// Password is one of the two passwords of an admin user or a token. Value is
// only given when the password was just made (or, for an admin user, when
// the credentials are listed).
type Password struct {
	Name         string    `json:"name"` // "password"/"password2" (admin user), "password1"/"password2" (token)
	Value        string    `json:"value,omitempty"`
	CreationTime time.Time `json:"creationTime,omitzero"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// list is the management API's list envelope.
type list[T any] struct {
	Value []T `json:"value"`
}

// getList GETs a list and returns its items, never nil.
func getList[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var l list[T]
	if err := c.Do(ctx, "GET", path, nil, &l); err != nil {
		return nil, err
	}
	if l.Value == nil {
		l.Value = []T{}
	}
	return l.Value, nil
}

// seg escapes one path segment (a name or an ID given by the user).
func seg(s string) string { return url.PathEscape(s) }
