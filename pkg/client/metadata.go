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
	"strconv"
	"strings"
)

// Metadata calls a registry's metadata API (/acr/v1/, docs/metadata-api.md)
// at its login server, on the data plane: the registry's network rules, RBAC
// and locks apply to it as they do to docker. Get one with Client.Metadata.
type Metadata struct {
	c           *Client
	base        string // scheme://loginServer
	loginServer string
	refresh     string
}

// Metadata returns the metadata API of the registry served at loginServer
// (host[:port]), authenticated with refreshToken (from Exchange) sent as
// the password of NullUser, as docker-compatible clients send it. The scheme
// is the server URL's.
func (c *Client) Metadata(loginServer, refreshToken string) *Metadata {
	scheme := "https"
	if u, err := url.Parse(c.base); err == nil && u.Scheme != "" {
		scheme = u.Scheme
	}
	return &Metadata{c: c, base: scheme + "://" + loginServer, loginServer: loginServer, refresh: refreshToken}
}

// RegistryMetadata returns the metadata API of registry name, with a
// registry refresh token exchanged for the client's identity token, and
// the login server it is reached at: the registry's own, or the server's
// address for a registry without one (the default registry).
func (c *Client) RegistryMetadata(ctx context.Context, name string) (*Metadata, string, error) {
	reg, err := c.Registries().Get(ctx, name)
	if err != nil {
		return nil, "", err
	}
	loginServer := reg.Properties.LoginServer
	if loginServer == "" {
		loginServer = c.Host()
	}
	refresh, err := c.Exchange(ctx, loginServer)
	if err != nil {
		return nil, "", fmt.Errorf("getting a registry token from %s: %w", loginServer, err)
	}
	return c.Metadata(loginServer, refresh), loginServer, nil
}

// ChangeableAttributes are the locks of a repository, tag or manifest.
type ChangeableAttributes struct {
	DeleteEnabled bool `json:"deleteEnabled"`
	WriteEnabled  bool `json:"writeEnabled"`
	ReadEnabled   bool `json:"readEnabled"`
	ListEnabled   bool `json:"listEnabled"`
}

// AttributesUpdate is a change of locks: only the non-nil fields change.
type AttributesUpdate struct {
	DeleteEnabled *bool `json:"deleteEnabled,omitempty"`
	WriteEnabled  *bool `json:"writeEnabled,omitempty"`
	ReadEnabled   *bool `json:"readEnabled,omitempty"`
	ListEnabled   *bool `json:"listEnabled,omitempty"`
}

// Empty reports whether u changes nothing.
func (u AttributesUpdate) Empty() bool {
	return u.DeleteEnabled == nil && u.WriteEnabled == nil && u.ReadEnabled == nil && u.ListEnabled == nil
}

// RepositoryInfo is a repository of the metadata API.
type RepositoryInfo struct {
	Registry             string               `json:"registry"`
	ImageName            string               `json:"imageName"`
	CreatedTime          string               `json:"createdTime"`
	LastUpdateTime       string               `json:"lastUpdateTime"`
	ManifestCount        int                  `json:"manifestCount"`
	TagCount             int                  `json:"tagCount"`
	ChangeableAttributes ChangeableAttributes `json:"changeableAttributes"`
}

// TagInfo is a tag of the metadata API.
type TagInfo struct {
	Name                 string               `json:"name"`
	Digest               string               `json:"digest"`
	CreatedTime          string               `json:"createdTime"`
	LastUpdateTime       string               `json:"lastUpdateTime"`
	Signed               bool                 `json:"signed"`
	ChangeableAttributes ChangeableAttributes `json:"changeableAttributes"`
}

// ManifestReference is a member of an index.
type ManifestReference struct {
	Digest       string `json:"digest"`
	Architecture string `json:"architecture,omitempty"`
	OS           string `json:"os,omitempty"`
}

// ManifestInfo is a manifest of the metadata API.
type ManifestInfo struct {
	Digest          string              `json:"digest"`
	ImageSize       int64               `json:"imageSize"`
	CreatedTime     string              `json:"createdTime"`
	LastUpdateTime  string              `json:"lastUpdateTime"`
	Architecture    string              `json:"architecture,omitempty"`
	OS              string              `json:"os,omitempty"`
	MediaType       string              `json:"mediaType,omitempty"`
	ConfigMediaType string              `json:"configMediaType,omitempty"`
	Tags            []string            `json:"tags,omitempty"`
	References      []ManifestReference `json:"references,omitempty"`
	// Subject is the manifest a referrer (a signature, an SBOM) refers to.
	Subject              string               `json:"subject,omitempty"`
	ChangeableAttributes ChangeableAttributes `json:"changeableAttributes"`
}

// DeletedRepository is what deleting a repository removed.
type DeletedRepository struct {
	ManifestsDeleted []string `json:"manifestsDeleted"`
	TagsDeleted      []string `json:"tagsDeleted"`
}

// ListQuery bounds and orders a listing of tags or manifests.
type ListQuery struct {
	// OrderBy is "", "timedesc" or "timeasc" (by lastUpdateTime).
	OrderBy string
	// Top is the most entries to return; 0 is all of them.
	Top int
}

// pageSize is the n of each page a listing asks for.
const pageSize = 100

// Catalog returns the registry's listed repositories, every page.
func (m *Metadata) Catalog(ctx context.Context) ([]string, error) {
	var all []string
	next := "/acr/v1/_catalog?n=" + strconv.Itoa(pageSize)
	for next != "" {
		var page struct {
			Repositories []string `json:"repositories"`
		}
		link, err := m.do(ctx, "GET", next, nil, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Repositories...)
		if len(page.Repositories) == 0 {
			break
		}
		next = link
	}
	if all == nil {
		all = []string{}
	}
	return all, nil
}

// Repository returns repository repo.
func (m *Metadata) Repository(ctx context.Context, repo string) (*RepositoryInfo, error) {
	var out RepositoryInfo
	if _, err := m.do(ctx, "GET", repoPath(repo), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Tags lists repo's listed tags.
func (m *Metadata) Tags(ctx context.Context, repo string, q ListQuery) ([]TagInfo, error) {
	all := []TagInfo{}
	next := repoPath(repo) + "/_tags?" + q.values().Encode()
	for next != "" {
		var page struct {
			Tags []TagInfo `json:"tags"`
		}
		link, err := m.do(ctx, "GET", next, nil, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Tags...)
		if q.Top > 0 && len(all) >= q.Top {
			return all[:q.Top], nil
		}
		if len(page.Tags) == 0 {
			break
		}
		next = link
	}
	return all, nil
}

// Manifests lists repo's listed manifests.
func (m *Metadata) Manifests(ctx context.Context, repo string, q ListQuery) ([]ManifestInfo, error) {
	all := []ManifestInfo{}
	next := repoPath(repo) + "/_manifests?" + q.values().Encode()
	for next != "" {
		var page struct {
			Manifests []ManifestInfo `json:"manifests"`
		}
		link, err := m.do(ctx, "GET", next, nil, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Manifests...)
		if q.Top > 0 && len(all) >= q.Top {
			return all[:q.Top], nil
		}
		if len(page.Manifests) == 0 {
			break
		}
		next = link
	}
	return all, nil
}

// Tag returns tag tag of repo.
func (m *Metadata) Tag(ctx context.Context, repo, tag string) (*TagInfo, error) {
	var out struct {
		Tag TagInfo `json:"tag"`
	}
	if _, err := m.do(ctx, "GET", repoPath(repo)+"/_tags/"+url.PathEscape(tag), nil, &out); err != nil {
		return nil, err
	}
	return &out.Tag, nil
}

// Manifest returns the manifest ref (a digest, or a tag) of repo.
func (m *Metadata) Manifest(ctx context.Context, repo, ref string) (*ManifestInfo, error) {
	var out struct {
		Manifest ManifestInfo `json:"manifest"`
	}
	if _, err := m.do(ctx, "GET", repoPath(repo)+"/_manifests/"+url.PathEscape(ref), nil, &out); err != nil {
		return nil, err
	}
	return &out.Manifest, nil
}

// UpdateRepository changes repo's attributes and returns the repository.
func (m *Metadata) UpdateRepository(ctx context.Context, repo string, u AttributesUpdate) (*RepositoryInfo, error) {
	var out RepositoryInfo
	if _, err := m.do(ctx, "PATCH", repoPath(repo), u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateTag changes a tag's attributes and returns the tag.
func (m *Metadata) UpdateTag(ctx context.Context, repo, tag string, u AttributesUpdate) (*TagInfo, error) {
	var out struct {
		Tag TagInfo `json:"tag"`
	}
	if _, err := m.do(ctx, "PATCH", repoPath(repo)+"/_tags/"+url.PathEscape(tag), u, &out); err != nil {
		return nil, err
	}
	return &out.Tag, nil
}

// UpdateManifest changes a manifest's attributes and returns the manifest.
func (m *Metadata) UpdateManifest(ctx context.Context, repo, digest string, u AttributesUpdate) (*ManifestInfo, error) {
	var out struct {
		Manifest ManifestInfo `json:"manifest"`
	}
	if _, err := m.do(ctx, "PATCH", repoPath(repo)+"/_manifests/"+url.PathEscape(digest), u, &out); err != nil {
		return nil, err
	}
	return &out.Manifest, nil
}

// DeleteTag removes a tag; its manifest stays.
func (m *Metadata) DeleteTag(ctx context.Context, repo, tag string) error {
	_, err := m.do(ctx, "DELETE", repoPath(repo)+"/_tags/"+url.PathEscape(tag), nil, nil)
	return err
}

// DeleteManifest deletes a manifest and every tag of it.
func (m *Metadata) DeleteManifest(ctx context.Context, repo, digest string) error {
	_, err := m.do(ctx, "DELETE", repoPath(repo)+"/_manifests/"+url.PathEscape(digest), nil, nil)
	return err
}

// DeleteRepository deletes a repository with all its tags and manifests.
func (m *Metadata) DeleteRepository(ctx context.Context, repo string) (*DeletedRepository, error) {
	var out DeletedRepository
	if _, err := m.do(ctx, "DELETE", repoPath(repo), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (q ListQuery) values() url.Values {
	v := url.Values{"n": {strconv.Itoa(pageSize)}}
	if q.Top > 0 && q.Top < pageSize {
		v.Set("n", strconv.Itoa(q.Top))
	}
	if q.OrderBy != "" {
		v.Set("orderby", q.OrderBy)
	}
	return v
}

// repoPath escapes each segment of a repository name but keeps its
// slashes, which the API takes either way.
func repoPath(repo string) string {
	parts := strings.Split(repo, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/acr/v1/" + strings.Join(parts, "/")
}

// do sends one request with the registry credentials and returns the path
// of the next page from the answer's Link header ("" when there is none).
func (m *Metadata) do(ctx context.Context, method, path string, in, out any) (string, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return "", err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", m.c.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(NullUser, m.refresh)
	resp, err := m.c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("cannot reach %s: %w", m.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return "", parseError(resp)
	}
	if out != nil {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if err := json.Unmarshal(b, out); err != nil {
				return "", fmt.Errorf("decoding the answer to %s %s: %w", method, path, err)
			}
		}
	}
	return nextLink(resp.Header.Get("Link")), nil
}

// nextLink returns the path of a `<path>; rel="next"` Link header, or "".
// Only paths on the same server are followed.
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.Contains(params, `rel="next"`) {
			continue
		}
		target = strings.Trim(strings.TrimSpace(target), "<>")
		if strings.HasPrefix(target, "/") && !strings.HasPrefix(target, "//") {
			return target
		}
	}
	return ""
}
