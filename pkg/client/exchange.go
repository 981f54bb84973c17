package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// NullUser is the user name docker-compatible clients send with a registry
// refresh token as the password.
const NullUser = "00000000-0000-0000-0000-000000000000"

// Exchange turns the client's identity token (from its TokenSource) into a
// refresh token for the registry served at loginServer (host[:port]), at
// POST <scheme>://<loginServer>/oauth2/exchange, the scheme being the
// server URL's. The identity token goes in the form body, never in a header.
func (c *Client) Exchange(ctx context.Context, loginServer string) (string, error) {
	if loginServer == "" || strings.ContainsAny(loginServer, "/?#@ ") {
		return "", fmt.Errorf("client: %q is not a login server (host[:port])", loginServer)
	}
	if c.tokens == nil {
		return "", errors.New("client: an exchange needs an identity token")
	}
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(c.base)
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":   {"access_token"},
		"service":      {loginServer},
		"access_token": {tok},
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	err = c.doURL(ctx, "POST", u.Scheme+"://"+loginServer, "/oauth2/exchange", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()), &out, false)
	if err != nil {
		return "", err
	}
	if out.RefreshToken == "" {
		return "", errors.New("the registry's exchange answer has no refresh_token")
	}
	return out.RefreshToken, nil
}

// Host returns the host[:port] of the server URL: the login server of the
// default registry, which has none of its own.
func (c *Client) Host() string {
	u, err := url.Parse(c.base)
	if err != nil {
		return ""
	}
	return u.Host
}
