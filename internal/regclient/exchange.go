package regclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// NullUser is the user name that goes with a registry refresh token used
// as a password, as docker-compatible clients send it.
const NullUser = "00000000-0000-0000-0000-000000000000"

// Exchange turns an identity token into a refresh token for the registry
// at host, at its POST /oauth2/exchange, from the client's egress address
// (so the registry's network rules judge the exchange as they judge the
// run). Use the refresh token as the password of NullUser.
func (c *Client) Exchange(ctx context.Context, host, identityToken string) (string, error) {
	form := url.Values{
		"grant_type":   {"access_token"},
		"service":      {host},
		"access_token": {identityToken},
	}
	return c.refreshToken(ctx, host, "/oauth2/exchange", form, false)
}

// RefreshToken is a refresh token for the registry at host standing for the
// client's own credentials: its password when the client logs in as
// NullUser already, else one the registry's token endpoint issues for the
// user name and password (offline_token=true).
func (c *Client) RefreshToken(ctx context.Context, host string) (string, error) {
	switch {
	case c.user == "":
		return "", errors.New("the client has no credentials")
	case c.user == NullUser:
		return c.pass, nil
	}
	form := url.Values{
		"grant_type":    {"password"},
		"service":       {host},
		"username":      {c.user},
		"password":      {c.pass},
		"offline_token": {"true"},
	}
	return c.refreshToken(ctx, host, "/oauth2/token", form, true)
}

func (c *Client) refreshToken(ctx context.Context, host, path string, form url.Values, basic bool) (string, error) {
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", fmt.Errorf("%q is not a login server (host[:port])", host)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.scheme+"://"+host+path, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", readError(resp)
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return "", fmt.Errorf("%s%s: %w", host, path, err)
	}
	if out.RefreshToken == "" {
		return "", fmt.Errorf("%s%s answered no refresh_token", host, path)
	}
	return out.RefreshToken, nil
}

// HTTPClient is the client's HTTP client: its connections leave from the
// egress address and honour Resolve, for a caller that speaks another API
// of the same registry (its /acr/v1 metadata API).
func (c *Client) HTTPClient() *http.Client { return c.http }
