package crash

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/testserver"
)

const manifestType = "application/vnd.oci.image.manifest.v1+json"

// client speaks the /v2 API as the admin user.
type client struct {
	base     string
	password string
	hc       *http.Client
}

func newClient(srv *testserver.Server) *client {
	return &client{
		base:     srv.URL,
		password: srv.Password,
		hc: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32},
		},
	}
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// reply is a whole response: status, headers and body.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// code is the first OCI error code of the body, if any.
func (r reply) code() string {
	var e struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	if json.Unmarshal(r.body, &e) == nil && len(e.Errors) > 0 {
		return e.Errors[0].Code
	}
	return ""
}

func (r reply) String() string {
	body := string(r.body)
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Sprintf("%d %s %s", r.status, http.StatusText(r.status), strings.TrimSpace(body))
}

// streamed hides a reader's length from net/http, so the body goes out
// with chunked transfer encoding and no Content-Length.
type streamed struct{ io.Reader }

// do sends one request. path is absolute ("/v2/...") or a full URL. A body
// given as []byte goes out with its Content-Length; an io.Reader wrapped in
// streamed goes out without.
func (c *client) do(ctx context.Context, method, path string, hdr map[string]string, body any) (reply, error) {
	var rd io.Reader
	length := int64(0)
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, length = bytes.NewReader(b), int64(len(b))
	case streamed:
		rd, length = b, -1
	default:
		panic(fmt.Sprintf("body of type %T", body))
	}
	url := path
	if strings.HasPrefix(path, "/") {
		url = c.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return reply{}, err
	}
	req.ContentLength = length
	req.SetBasicAuth(testserver.AdminUser, c.password)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the %d response: %w", method, path, resp.StatusCode, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// uploadRange reads the Range header of an upload answer ("0-<last byte>")
// as the number of bytes the upload holds. berth answers "0-0" for an empty
// upload as well as for a one-byte one; the pushers never leave an upload
// at one byte (every chunk has at least two), so "0-0" means empty here.
func uploadRange(h http.Header) (int64, error) {
	s := h.Get("Range")
	a, b, ok := strings.Cut(s, "-")
	end, err := strconv.ParseInt(b, 10, 64)
	if !ok || a != "0" || err != nil || end < 0 {
		return 0, fmt.Errorf("malformed upload Range %q", s)
	}
	if end == 0 {
		return 0, nil
	}
	return end + 1, nil
}

func contentRange(from, n int64) string {
	return strconv.FormatInt(from, 10) + "-" + strconv.FormatInt(from+n-1, 10)
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
