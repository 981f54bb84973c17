package client

import (
	"context"
	"time"
)

// User is a user principal; the API never gives its password.
type User struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Properties UserProperties `json:"properties"`
}

// UserProperties are a user's properties.
type UserProperties struct {
	PrincipalID string    `json:"principalId"`
	CreatedAt   time.Time `json:"createdAt,omitzero"`
}

// Users calls /api/users (Owner at / only).
type Users struct{ c *Client }

// Users returns the user calls.
func (c *Client) Users() Users { return Users{c} }

func userPath(name string) string { return "/api/users/" + seg(name) }

// Create creates user name with password (PUT); an existing user is a
// Conflict.
func (u Users) Create(ctx context.Context, name, password string) (User, error) {
	var out User
	err := u.c.Do(ctx, "PUT", userPath(name), map[string]string{"password": password}, &out)
	return out, err
}

// Get returns user name.
func (u Users) Get(ctx context.Context, name string) (User, error) {
	var out User
	err := u.c.Do(ctx, "GET", userPath(name), nil, &out)
	return out, err
}

// List returns every user.
func (u Users) List(ctx context.Context) ([]User, error) {
	return getList[User](ctx, u.c, "/api/users")
}

// ResetPassword gives user name a new password; the old one stops working
// at once.
func (u Users) ResetPassword(ctx context.Context, name, password string) error {
	return u.c.Do(ctx, "POST", userPath(name)+"/resetPassword", map[string]string{"password": password}, nil)
}

// Delete removes user name and its role assignments.
func (u Users) Delete(ctx context.Context, name string) error {
	return u.c.Do(ctx, "DELETE", userPath(name), nil, nil)
}
