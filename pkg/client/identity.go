package client

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// LoginRequest is what Login sends: a user name and password, or a service
// principal's application ID and secret. Exactly one pair must be given.
type LoginRequest struct {
	Username string
	Password string

	ClientID     string // service principal application ID
	ClientSecret string
}

// IdentityToken is an identity (management-plane) token.
type IdentityToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresIn   int       `json:"expires_in"` // seconds, as the server gave it
	ExpiresAt   time.Time `json:"-"`          // computed when the answer arrived; zero when the server gave no lifetime
}

// Login exchanges credentials for an identity token at
// POST /identity/oauth2/token (grant_type=password or client_credentials,
// form-encoded). It sends no token of its own.
func (c *Client) Login(ctx context.Context, r LoginRequest) (IdentityToken, error) {
	form := url.Values{}
	switch {
	case r.Username != "" && r.ClientID != "":
		return IdentityToken{}, errors.New("client: give a user name or a client ID, not both")
	case r.Username != "":
		form.Set("grant_type", "password")
		form.Set("username", r.Username)
		form.Set("password", r.Password)
	case r.ClientID != "":
		form.Set("grant_type", "client_credentials")
		form.Set("client_id", r.ClientID)
		form.Set("client_secret", r.ClientSecret)
	default:
		return IdentityToken{}, errors.New("client: a login needs a user name or a client ID")
	}
	var tok IdentityToken
	err := c.do(ctx, "POST", "/identity/oauth2/token", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()), &tok, false)
	if err != nil {
		return IdentityToken{}, err
	}
	if tok.AccessToken == "" {
		return IdentityToken{}, errors.New("the server's login answer has no access_token")
	}
	if tok.ExpiresIn > 0 {
		tok.ExpiresAt = time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return tok, nil
}
