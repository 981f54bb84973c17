// Package client is a typed HTTP client for berth's APIs: the identity
// endpoint, the management API (one file per resource), a registry's
// /oauth2/exchange and (later) the agent API. It uses
// only the standard library and knows nothing of berth's server packages or
// of its command line, so that other programs can import it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// TokenSource gives the bearer token sent with each request. An empty token
// sends no Authorization header; an error stops the request before it is sent
// (for example "not logged in").
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context) (string, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// StaticToken is a TokenSource that always gives the same token.
type StaticToken string

// Token returns t.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// Client calls one berth server. Its zero value is not usable; call New.
// A Client is safe for concurrent use.
type Client struct {
	base      string // scheme://host[:port][/prefix], no trailing slash
	http      *http.Client
	tokens    TokenSource
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc
// (default: http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithTokenSource makes the Client send "Authorization: Bearer <token>" with
// every request that is not a login.
func WithTokenSource(ts TokenSource) Option { return func(c *Client) { c.tokens = ts } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a Client for the server at baseURL ("http://127.0.0.1:5000",
// "https://berth.example.com"). Paths given to Do are appended to it.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: give a URL such as http://127.0.0.1:5000", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("invalid server URL %q: it must have no query, fragment or user information", baseURL)
	}
	c := &Client{base: strings.TrimSuffix(u.String(), "/"), http: http.DefaultClient, userAgent: "berth-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL returns the server URL the Client was made for, without a trailing
// slash.
func (c *Client) BaseURL() string { return c.base }

// Do sends a request to path (which starts with "/" and may carry a query
// string) with in encoded as JSON (no body when in is nil), and decodes a JSON
// response into out (ignored when out is nil or the response has no body).
// An answer of status 400 or more is returned as an *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	contentType := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request for %s %s: %w", method, path, err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	return c.do(ctx, method, path, contentType, body, out, true)
}

func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader, out any, authenticate bool) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("client: path %q must start with /", path)
	}
	return c.doURL(ctx, method, c.base, path, contentType, body, out, authenticate)
}

// doURL is do on base (the server, or a registry's login server) + path.
func (c *Client) doURL(ctx context.Context, method, base, path, contentType string, body io.Reader, out any, authenticate bool) error {
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authenticate && c.tokens != nil {
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return err
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said below, once
		}
		return fmt.Errorf("cannot reach %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return parseError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decoding the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// Error is an error answer of the server: status 400 or more, with the code
// and message of its body when the body is one of berth's error envelopes.
type Error struct {
	Status  int    // HTTP status
	Code    string // "NAME_UNKNOWN", "ResourceNotFound", "invalid_grant", … ("" for a body that is not JSON)
	Message string // what to show a user
}

// Error returns the message alone, so that the command line prints
// "Error: <message>".
func (e *Error) Error() string { return e.Message }

// AsError returns err as an *Error when it is one (or wraps one).
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// parseError reads the error envelopes berth answers with:
//
//	management: {"error":{"code":"…","message":"…"}}
//	OCI:        {"errors":[{"code":"…","message":"…"}, …]}
//	OAuth 2:    {"error":"invalid_grant","error_description":"…"}
//
// and falls back to the status and the start of the body for anything else
// (a proxy's HTML page, plain text).
func parseError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{Status: resp.StatusCode}
	var env struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
		Errors           []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &env) == nil {
		var mgmt struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		var oauth string
		switch {
		case len(env.Errors) > 0:
			e.Code = env.Errors[0].Code
			msgs := make([]string, 0, len(env.Errors))
			for _, x := range env.Errors {
				msgs = append(msgs, firstNonEmpty(x.Message, x.Code))
			}
			e.Message = strings.Join(msgs, "; ")
		case len(env.Error) > 0 && json.Unmarshal(env.Error, &mgmt) == nil:
			e.Code, e.Message = mgmt.Code, firstNonEmpty(mgmt.Message, mgmt.Code)
		case len(env.Error) > 0 && json.Unmarshal(env.Error, &oauth) == nil:
			e.Code, e.Message = oauth, firstNonEmpty(env.ErrorDescription, oauth)
		}
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("the server answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if text := snippet(b); text != "" {
			e.Message += ": " + text
		}
	}
	return e
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// snippet returns the first line of a non-JSON body, shortened, or "" when
// it looks like markup that would only clutter an error line.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" || strings.HasPrefix(s, "<") {
		return ""
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	const max = 200
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}
