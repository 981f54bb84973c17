package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// registry is the client side of the OCI distribution API, only as much of
// it as the phases drive. Every call takes the *http.Client of its phase, so
// that each phase has a transport sized for its concurrency.
type registry struct {
	base     *url.URL
	user     string // empty: no auth
	password string
	bearer   string // when set, sent instead of Basic credentials
}

const (
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar"
	manifestAccept    = "application/vnd.oci.image.manifest.v1+json, " +
		"application/vnd.oci.image.index.v1+json, " +
		"application/vnd.docker.distribution.manifest.v2+json, " +
		"application/vnd.docker.distribution.manifest.list.v2+json"
)

// newClient returns a client whose transport keeps one idle connection per
// concurrent worker, so that steady-state load never dials. timeout bounds
// each request, so that a server that hangs cannot hang the bench.
func newClient(concurrency int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}}
}

func closeClient(c *http.Client) { c.CloseIdleConnections() }

// statusError is a response other than the one the protocol promises.
type statusError struct {
	method, url string
	status      int
	body        string
}

func (e *statusError) Error() string {
	body := strings.TrimSpace(e.body)
	if body == "" {
		body = "(empty body)"
	}
	return fmt.Sprintf("%s %s: status %d %s: %s", e.method, e.url, e.status, http.StatusText(e.status), body)
}

func (r *registry) endpoint(path string) *url.URL {
	return r.base.JoinPath(path)
}

func (r *registry) newRequest(ctx context.Context, method string, u *url.URL, body io.Reader, size int64) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	switch {
	case r.bearer != "":
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	case r.user != "":
		req.SetBasicAuth(r.user, r.password)
	}
	return req, nil
}

// do sends req and returns the response if its status is want; any other
// status becomes a statusError carrying the start of the body.
func do(c *http.Client, req *http.Request, want int) (*http.Response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		return nil, &statusError{method: req.Method, url: req.URL.RequestURI(), status: resp.StatusCode, body: string(body)}
	}
	return resp, nil
}

// doDrain is do for responses whose body is not needed; it reads the body to
// its end so that the connection goes back to the pool.
func doDrain(c *http.Client, req *http.Request, want int) (*http.Response, error) {
	resp, err := do(c, req, want)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

// resolveLocation resolves a Location header against the URL of the request
// it answered; the spec lets registries answer with a relative reference.
func resolveLocation(req *url.URL, location string) (*url.URL, error) {
	if location == "" {
		return nil, errors.New("response has no Location header")
	}
	loc, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("location %q: %w", location, err)
	}
	return req.ResolveReference(loc), nil
}

// withDigest adds digest=d to an upload location, keeping its own query
// (often opaque upload state) byte for byte.
func withDigest(u *url.URL, digest string) *url.URL {
	out := *u
	param := "digest=" + url.QueryEscape(digest)
	if out.RawQuery == "" {
		out.RawQuery = param
	} else {
		out.RawQuery += "&" + param
	}
	return &out
}

// contentRange is the PATCH Content-Range of n bytes at offset start: the
// spec's "start-end", inclusive, without the "bytes " of RFC 9110.
func contentRange(start, n int64) string {
	return strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(start+n-1, 10)
}

// startUpload opens an upload session and returns its location.
func (r *registry) startUpload(ctx context.Context, c *http.Client, repo string) (*url.URL, error) {
	req, err := r.newRequest(ctx, http.MethodPost, r.endpoint("/v2/"+repo+"/blobs/uploads/"), nil, 0)
	if err != nil {
		return nil, err
	}
	resp, err := doDrain(c, req, http.StatusAccepted)
	if err != nil {
		return nil, err
	}
	return resolveLocation(req.URL, resp.Header.Get("Location"))
}

// finishUpload closes an upload with PUT ?digest=, with body as its final
// part (nil for none), and checks the digest the registry answers with.
func (r *registry) finishUpload(ctx context.Context, c *http.Client, loc *url.URL, digest string, body io.Reader, size int64) error {
	if body == nil {
		body, size = http.NoBody, 0
	}
	req, err := r.newRequest(ctx, http.MethodPut, withDigest(loc, digest), body, size)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := doDrain(c, req, http.StatusCreated)
	if err != nil {
		return err
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != digest {
		return fmt.Errorf("PUT %s: Docker-Content-Digest %s, want %s", req.URL.Path, got, digest)
	}
	return nil
}

// pushMonolithic pushes a blob as POST then one PUT ?digest= with the whole
// body, the way most clients push layers.
func (r *registry) pushMonolithic(ctx context.Context, c *http.Client, repo, digest string, body io.Reader, size int64) error {
	loc, err := r.startUpload(ctx, c, repo)
	if err != nil {
		return err
	}
	return r.finishUpload(ctx, c, loc, digest, body, size)
}

// pushChunked pushes a blob as PATCH requests of chunk bytes each, then an
// empty PUT ?digest=, checking the Range the registry reports after each.
func (r *registry) pushChunked(ctx context.Context, c *http.Client, repo, digest string, src io.ReaderAt, size, chunk int64) error {
	loc, err := r.startUpload(ctx, c, repo)
	if err != nil {
		return err
	}
	for off := int64(0); off < size; {
		n := min(chunk, size-off)
		req, err := r.newRequest(ctx, http.MethodPatch, loc, io.NewSectionReader(src, off, n), n)
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Range", contentRange(off, n))
		resp, err := doDrain(c, req, http.StatusAccepted)
		if err != nil {
			return err
		}
		if got, want := resp.Header.Get("Range"), contentRange(0, off+n); got != want {
			return fmt.Errorf("PATCH %s: Range %q after %d bytes, want %q", req.URL.Path, got, off+n, want)
		}
		if loc, err = resolveLocation(req.URL, resp.Header.Get("Location")); err != nil {
			return fmt.Errorf("PATCH %s: %w", req.URL.Path, err)
		}
		off += n
	}
	return r.finishUpload(ctx, c, loc, digest, nil, 0)
}

// pushBytes pushes a small blob held in memory.
func (r *registry) pushBytes(ctx context.Context, c *http.Client, repo, digest string, b []byte) error {
	return r.pushMonolithic(ctx, c, repo, digest, bytes.NewReader(b), int64(len(b)))
}

// pullBlob reads a blob to its end and returns how many bytes came.
func (r *registry) pullBlob(ctx context.Context, c *http.Client, repo, digest string) (int64, error) {
	req, err := r.newRequest(ctx, http.MethodGet, r.endpoint("/v2/"+repo+"/blobs/"+digest), nil, 0)
	if err != nil {
		return 0, err
	}
	resp, err := do(c, req, http.StatusOK)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := drain(resp.Body)
	if err != nil {
		return n, fmt.Errorf("GET %s: body: %w", req.URL.Path, err)
	}
	return n, nil
}

// headBlob checks that a blob exists with the given size.
func (r *registry) headBlob(ctx context.Context, c *http.Client, repo, digest string, size int64) error {
	req, err := r.newRequest(ctx, http.MethodHead, r.endpoint("/v2/"+repo+"/blobs/"+digest), nil, 0)
	if err != nil {
		return err
	}
	resp, err := doDrain(c, req, http.StatusOK)
	if err != nil {
		return err
	}
	if resp.ContentLength != size {
		return fmt.Errorf("HEAD %s: Content-Length %d, want %d", req.URL.Path, resp.ContentLength, size)
	}
	return nil
}

func (r *registry) putManifest(ctx context.Context, c *http.Client, repo, ref string, manifest []byte) error {
	req, err := r.newRequest(ctx, http.MethodPut, r.endpoint("/v2/"+repo+"/manifests/"+ref), bytes.NewReader(manifest), int64(len(manifest)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mediaTypeManifest)
	_, err = doDrain(c, req, http.StatusCreated)
	return err
}

func (r *registry) getManifest(ctx context.Context, c *http.Client, repo, ref string) error {
	req, err := r.newRequest(ctx, http.MethodGet, r.endpoint("/v2/"+repo+"/manifests/"+ref), nil, 0)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", manifestAccept)
	_, err = doDrain(c, req, http.StatusOK)
	return err
}

// tagsList returns the tags of repo and whether the registry paginated them
// (a Link header), which would make the figure measure a partial list.
func (r *registry) tagsList(ctx context.Context, c *http.Client, repo string) ([]string, bool, error) {
	req, err := r.newRequest(ctx, http.MethodGet, r.endpoint("/v2/"+repo+"/tags/list"), nil, 0)
	if err != nil {
		return nil, false, err
	}
	resp, err := do(c, req, http.StatusOK)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, false, fmt.Errorf("GET %s: decoding body: %w", req.URL.Path, err)
	}
	io.Copy(io.Discard, resp.Body)
	if list.Name != repo {
		return nil, false, fmt.Errorf("GET %s: name %q, want %q", req.URL.Path, list.Name, repo)
	}
	return list.Tags, resp.Header.Get("Link") != "", nil
}

// accessToken asks the registry's token endpoint for a token with scope,
// with the Basic credentials (the Docker token flow).
func (r *registry) accessToken(ctx context.Context, c *http.Client, scope string) (string, error) {
	u := r.endpoint("/oauth2/token")
	u.RawQuery = url.Values{"service": {r.base.Host}, "scope": {scope}}.Encode()
	req, err := r.newRequest(ctx, http.MethodGet, u, nil, 0)
	if err != nil {
		return "", err
	}
	resp, err := do(c, req, http.StatusOK)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	if body.AccessToken == "" {
		return "", fmt.Errorf("token endpoint answered without an access_token")
	}
	return body.AccessToken, nil
}

// setAnonymousPull turns the default registry's anonymous pull on or off
// through berth's management API, signing in with the bench's credentials.
func (r *registry) setAnonymousPull(ctx context.Context, c *http.Client, on bool) error {
	tok, err := r.mgmtToken(ctx, c)
	if err != nil {
		return err
	}
	body := map[string]any{"properties": map[string]any{"anonymousPullEnabled": on}}
	return r.mgmtDo(ctx, c, tok, http.MethodPatch, "/api/registries/default", body, nil)
}

// mgmtToken signs in to berth's management API with the bench's credentials.
func (r *registry) mgmtToken(ctx context.Context, c *http.Client) (string, error) {
	form := url.Values{"grant_type": {"password"}, "username": {r.user}, "password": {r.password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint("/identity/oauth2/token").String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := do(c, req, http.StatusOK)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var id struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&id); err != nil {
		return "", err
	}
	return id.AccessToken, nil
}

// mgmtDo sends a management API request with in as its JSON body (nil: no
// body) and decodes a 200 answer into out (nil: discarded).
func (r *registry) mgmtDo(ctx context.Context, c *http.Client, tok, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.endpoint(path).String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := do(c, req, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("%s %s: decoding body: %w", method, path, err)
		}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
