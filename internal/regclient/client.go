// Package regclient is the small OCI distribution client of the build
// agent: it pulls images into an OCI layout and pushes them back, speaking
// the registry token flow, with every connection leaving from one egress
// address so that a registry's network rules judge the agent as they would
// any client there.
package regclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/oci"
)

// Options configure a Client.
type Options struct {
	// Egress is the source address of every connection; zero: the
	// system's choice.
	Egress netip.Addr
	// PlainHTTP talks http:// instead of https://.
	PlainHTTP bool
	// TLS configures https (nil: the system roots).
	TLS *tls.Config
	// Username and Password are sent as Basic credentials to the token
	// endpoint a registry's challenge names (for berth, the null user and a
	// refresh token, or a registry token); empty: anonymous.
	Username, Password string
	// Timeout bounds each request's headers (0: 30 s).
	Timeout time.Duration
	// Resolve maps a registry's HOST:PORT to the HOST:PORT to connect to
	// instead, as a private DNS zone would: requests, Host headers and
	// TLS names stay the registry's. A dedicated agent pool reaches its
	// registry's login server through a private endpoint this way.
	Resolve map[string]string
	// Token mints a registry access token to send as Bearer on every
	// request, for a caller that mints its own (the import service): a
	// 401 then means the token expired, and Token is called once more,
	// never the challenge's token endpoint.
	Token func(ctx context.Context) (string, error)
}

// Client talks to one registry (one login server).
type Client struct {
	http   *http.Client
	scheme string
	user   string
	pass   string
	mint   func(ctx context.Context) (string, error) // Options.Token

	mu     sync.Mutex
	tokens map[string]string // scope → bearer token
	minted string            // the last token mint made
}

// New returns a client for the registry at host (host:port).
func New(opts Options) *Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if opts.Egress.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: opts.Egress.AsSlice()}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	dial := d.DialContext
	if len(opts.Resolve) > 0 {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, resolve(opts.Resolve, addr, opts.PlainHTTP))
		}
	}
	tr := &http.Transport{
		DialContext:           dial,
		TLSClientConfig:       opts.TLS,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   8,
		Proxy:                 nil, // egress is the point: never through a proxy
	}
	scheme := "https"
	if opts.PlainHTTP {
		scheme = "http"
	}
	return &Client{http: &http.Client{Transport: tr}, scheme: scheme, user: opts.Username, pass: opts.Password, mint: opts.Token, tokens: map[string]string{}}
}

// resolve is where to connect for addr (HOST:PORT, as the transport
// dials it): what m maps it to, or maps its host to when the port is the
// scheme's own (a registry named without a port).
func resolve(m map[string]string, addr string, plainHTTP bool) string {
	if to, ok := m[addr]; ok {
		return to
	}
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (port == "443" && !plainHTTP || port == "80" && plainHTTP) {
		if to, ok := m[host]; ok {
			return to
		}
	}
	return addr
}

// Error is a refusal from a registry, with the OCI error code.
type Error struct {
	Status  int
	Code    string // e.g. DENIED, UNAUTHORIZED, MANIFEST_UNKNOWN
	Message string
}

// Error reads as docker prints registry errors: "denied: <message>".
func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("registry answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return strings.ToLower(e.Code) + ": " + e.Message
}

// IsDenied reports whether err is a registry's DENIED (network rules or
// missing rights).
func IsDenied(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "DENIED"
}

func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var env struct {
		Errors []struct{ Code, Message string }
	}
	e := &Error{Status: resp.StatusCode}
	if json.Unmarshal(b, &env) == nil && len(env.Errors) > 0 {
		e.Code, e.Message = env.Errors[0].Code, env.Errors[0].Message
	}
	return e
}

// Ping checks that the registry at host answers and that the client's
// credentials are good for it (the agent's "Logging in to registry").
func (c *Client) Ping(ctx context.Context, host string) error {
	resp, err := c.do(ctx, host, "", func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, "GET", c.scheme+"://"+host+"/v2/", nil)
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return readError(resp)
	}
	return nil
}

// do sends the request newReq makes, with a bearer token for scope when it
// has one; on a 401 challenge it fetches a token from the realm the
// registry names and sends the request again.
func (c *Client) do(ctx context.Context, host, scope string, newReq func() (*http.Request, error)) (*http.Response, error) {
	send := func() (*http.Response, error) {
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		tok := c.tokens[host+" "+scope]
		if c.mint != nil {
			tok = c.minted
		}
		c.mu.Unlock()
		switch {
		case tok != "":
			req.Header.Set("Authorization", "Bearer "+tok)
		case c.user == NullUser:
			// A berth refresh token goes with the first request: a
			// registry whose firewall lets its holder through (a task's
			// system-assigned identity, a trusted service) refuses an
			// anonymous request before it could ask for a token.
			req.SetBasicAuth(c.user, c.pass)
		}
		return c.http.Do(req)
	}
	if c.mint != nil {
		return c.doMinted(ctx, send)
	}
	resp, err := send()
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if isBasic(challenge) {
		// A registry with Basic authentication (Distribution with htpasswd)
		// takes the credentials on every request, with no token endpoint.
		if c.user == "" {
			return nil, &Error{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "the registry asks for a user name and password"}
		}
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(c.user, c.pass)
		return c.http.Do(req)
	}
	if err := c.fetchToken(ctx, host, scope, challenge); err != nil {
		return nil, err
	}
	return send()
}

// doMinted sends with the token mint made, minting the first one, and a
// new one when the registry says the last has expired (401).
func (c *Client) doMinted(ctx context.Context, send func() (*http.Response, error)) (*http.Response, error) {
	renew := func() error {
		tok, err := c.mint(ctx)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.minted = tok
		c.mu.Unlock()
		return nil
	}
	c.mu.Lock()
	none := c.minted == ""
	c.mu.Unlock()
	if none {
		if err := renew(); err != nil {
			return nil, err
		}
	}
	resp, err := send()
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err := renew(); err != nil {
		return nil, err
	}
	return send()
}

func isBasic(challenge string) bool {
	return len(challenge) >= 5 && strings.EqualFold(challenge[:5], "basic")
}

// fetchToken answers a Bearer challenge: GET realm?service=&scope= with the
// client's Basic credentials.
func (c *Client) fetchToken(ctx context.Context, host, scope, challenge string) error {
	params, ok := parseChallenge(challenge)
	if !ok {
		return &Error{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "the registry asks for credentials berth cannot give: " + challenge}
	}
	q := url.Values{"service": {params["service"]}}
	if scope == "" {
		scope = params["scope"]
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", params["realm"]+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return readError(resp)
	}
	var out struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return fmt.Errorf("token endpoint %s: %w", params["realm"], err)
	}
	tok := out.AccessToken
	if tok == "" {
		tok = out.Token
	}
	c.mu.Lock()
	c.tokens[host+" "+scope] = tok
	c.mu.Unlock()
	return nil
}

// parseChallenge reads `Bearer realm="…",service="…",scope="…"`.
func parseChallenge(h string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for rest != "" {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(k), ","))
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				return nil, false
			}
			out[k] = v[1 : end+1]
			rest = v[end+2:]
		} else {
			val, after, _ := strings.Cut(v, ",")
			out[k] = val
			rest = after
		}
	}
	return out, out["realm"] != ""
}

// Reference names an image: host/repository[:tag][@digest].
type Reference struct {
	Host       string
	Repository string
	Tag        string
	Digest     oci.Digest
}

// ParseReference parses "host[:port]/repo[:tag][@digest]"; the tag
// defaults to "latest" when there is neither.
func ParseReference(s string) (Reference, error) {
	host, rest, ok := strings.Cut(s, "/")
	if !ok || host == "" || (!strings.ContainsAny(host, ".:") && host != "localhost") {
		return Reference{}, fmt.Errorf("image %q: want <login server>/<repository>[:tag]", s)
	}
	r := Reference{Host: host}
	if name, d, ok := strings.Cut(rest, "@"); ok {
		dg, err := oci.ParseDigest(d)
		if err != nil {
			return Reference{}, fmt.Errorf("image %q: %w", s, err)
		}
		r.Digest, rest = dg, name
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		r.Tag, rest = rest[i+1:], rest[:i]
		if !oci.ValidTag(r.Tag) {
			return Reference{}, fmt.Errorf("image %q: invalid tag %q", s, r.Tag)
		}
	}
	if !oci.ValidName(rest) {
		return Reference{}, fmt.Errorf("image %q: invalid repository name %q", s, rest)
	}
	r.Repository = rest
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// String is the reference as ParseReference reads it.
func (r Reference) String() string {
	s := r.Host + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + string(r.Digest)
	}
	return s
}

// Version is the tag or digest a manifest request names: the digest when
// there is one.
func (r Reference) Version() string {
	if r.Digest != "" {
		return string(r.Digest)
	}
	return r.Tag
}

func (c *Client) url(r Reference, kind, what string) string {
	return c.scheme + "://" + r.Host + "/v2/" + r.Repository + "/" + kind + "/" + what
}

func pullScope(r Reference) string { return "repository:" + r.Repository + ":pull" }
func pushScope(r Reference) string { return "repository:" + r.Repository + ":pull,push" }
