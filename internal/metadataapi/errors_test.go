package metadataapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestErrors checks the answers to bad requests: status and OCI error code,
// and that a refused PATCH changes nothing.
func TestErrors(t *testing.T) {
	s := newServer(t)
	img := s.push("errs/app", "v1", "errs")
	unknown := "sha256:" + strings.Repeat("0", 64)

	patch := func(path, body string) req {
		return req{method: http.MethodPatch, path: path, body: []byte(body), contentType: "application/json"}
	}
	for _, tc := range []struct {
		name   string
		req    req
		status int
		code   string
	}{
		// A repository that does not exist, on every endpoint under it.
		{"repository", req{path: "/acr/v1/errs/none"}, 404, "NAME_UNKNOWN"},
		{"patch repository", patch("/acr/v1/errs/none", `{"writeEnabled":false}`), 404, "NAME_UNKNOWN"},
		{"delete repository", req{method: http.MethodDelete, path: "/acr/v1/errs/none"}, 404, "NAME_UNKNOWN"},
		{"tags", req{path: "/acr/v1/errs/none/_tags"}, 404, "NAME_UNKNOWN"},
		{"tag", req{path: "/acr/v1/errs/none/_tags/v1"}, 404, "NAME_UNKNOWN"},
		{"patch tag", patch("/acr/v1/errs/none/_tags/v1", `{"writeEnabled":false}`), 404, "NAME_UNKNOWN"},
		{"delete tag", req{method: http.MethodDelete, path: "/acr/v1/errs/none/_tags/v1"}, 404, "NAME_UNKNOWN"},
		{"manifests", req{path: "/acr/v1/errs/none/_manifests"}, 404, "NAME_UNKNOWN"},
		{"manifest", req{path: "/acr/v1/errs/none/_manifests/" + img.digest}, 404, "NAME_UNKNOWN"},
		{"patch manifest", patch("/acr/v1/errs/none/_manifests/"+img.digest, `{"writeEnabled":false}`), 404, "NAME_UNKNOWN"},
		{"delete manifest", req{method: http.MethodDelete, path: "/acr/v1/errs/none/_manifests/" + img.digest}, 404, "NAME_UNKNOWN"},

		// A tag that does not exist: TAG_UNKNOWN, as the managed registry answers.
		{"unknown tag", req{path: "/acr/v1/errs/app/_tags/nope"}, 404, "TAG_UNKNOWN"},
		{"patch unknown tag", patch("/acr/v1/errs/app/_tags/nope", `{"writeEnabled":false}`), 404, "TAG_UNKNOWN"},
		{"delete unknown tag", req{method: http.MethodDelete, path: "/acr/v1/errs/app/_tags/nope"}, 404, "TAG_UNKNOWN"},
		{"manifest of an unknown tag", req{path: "/acr/v1/errs/app/_manifests/nope"}, 404, "TAG_UNKNOWN"},

		// A manifest that does not exist.
		{"unknown manifest", req{path: "/acr/v1/errs/app/_manifests/" + unknown}, 404, "MANIFEST_UNKNOWN"},
		{"patch unknown manifest", patch("/acr/v1/errs/app/_manifests/"+unknown, `{"writeEnabled":false}`), 404, "MANIFEST_UNKNOWN"},
		{"delete unknown manifest", req{method: http.MethodDelete, path: "/acr/v1/errs/app/_manifests/" + unknown}, 404, "MANIFEST_UNKNOWN"},

		// Malformed names, tags and digests.
		{"bad digest", req{path: "/acr/v1/errs/app/_manifests/sha256:xyz"}, 400, "DIGEST_INVALID"},
		{"unknown algorithm", req{path: "/acr/v1/errs/app/_manifests/md5:" + strings.Repeat("0", 32)}, 400, "DIGEST_INVALID"},
		{"delete a manifest by tag", req{method: http.MethodDelete, path: "/acr/v1/errs/app/_manifests/v1"}, 400, "DIGEST_INVALID"},
		{"bad digest filter", req{path: "/acr/v1/errs/app/_tags?digest=sha256:xyz"}, 400, "DIGEST_INVALID"},
		{"bad tag", req{path: "/acr/v1/errs/app/_tags/-v1"}, 400, "TAG_INVALID"},
		{"bad name", req{path: "/acr/v1/Errs/App"}, 400, "NAME_INVALID"},
		{"bad name under _tags", req{path: "/acr/v1/errs/-app/_tags"}, 400, "NAME_INVALID"},

		// Malformed PATCH bodies.
		{"empty body", req{method: http.MethodPatch, path: "/acr/v1/errs/app/_tags/v1"}, 400, "REQUEST_INVALID"},
		{"not JSON", patch("/acr/v1/errs/app/_tags/v1", `{"writeEnabled":`), 400, "REQUEST_INVALID"},
		{"an array", patch("/acr/v1/errs/app/_tags/v1", `[{"writeEnabled":false}]`), 400, "REQUEST_INVALID"},
		{"null", patch("/acr/v1/errs/app/_tags/v1", `null`), 400, "REQUEST_INVALID"},
		{"a string value", patch("/acr/v1/errs/app/_tags/v1", `{"writeEnabled":"false"}`), 400, "REQUEST_INVALID"},
		{"a null value", patch("/acr/v1/errs/app/_tags/v1", `{"writeEnabled":null}`), 400, "REQUEST_INVALID"},
		{"a number", patch("/acr/v1/errs/app/_manifests/"+img.digest, `{"deleteEnabled":0}`), 400, "REQUEST_INVALID"},
		{"unknown field", patch("/acr/v1/errs/app", `{"writeEnabled":false,"teleportEnabled":true}`), 400, "REQUEST_INVALID"},
		{"wrong case", patch("/acr/v1/errs/app/_tags/v1", `{"WriteEnabled":false}`), 400, "REQUEST_INVALID"},
		{"two objects", patch("/acr/v1/errs/app/_tags/v1", `{"writeEnabled":false}{}`), 400, "REQUEST_INVALID"},

		// Listing parameters.
		{"n zero", req{path: "/acr/v1/errs/app/_tags?n=0"}, 400, "PAGINATION_NUMBER_INVALID"},
		{"n not a number", req{path: "/acr/v1/_catalog?n=ten"}, 400, "PAGINATION_NUMBER_INVALID"},
		{"bad orderby", req{path: "/acr/v1/errs/app/_manifests?orderby=name"}, 400, "REQUEST_INVALID"},
		{"time cursor of an unknown tag", req{path: "/acr/v1/errs/app/_tags?orderby=timedesc&last=nope"}, 400, "REQUEST_INVALID"},
		{"time cursor of an unknown manifest", req{path: "/acr/v1/errs/app/_manifests?orderby=timeasc&last=" + unknown}, 400, "REQUEST_INVALID"},

		// Authentication, methods and endpoints.
		{"no credentials", req{path: "/acr/v1/_catalog", anonymous: true}, 401, "UNAUTHORIZED"},
		{"no credentials on a write", req{method: http.MethodDelete, path: "/acr/v1/errs/app", anonymous: true}, 401, "UNAUTHORIZED"},
		{"wrong password", req{path: "/acr/v1/errs/app/_tags", user: "admin", pass: "wrong"}, 401, "UNAUTHORIZED"},
		{"unknown user", req{path: "/acr/v1/errs/app", user: "mallory", pass: password}, 401, "UNAUTHORIZED"},
		{"POST on a listing", req{method: http.MethodPost, path: "/acr/v1/errs/app/_tags"}, 405, "UNSUPPORTED"},
		{"PUT on a tag", req{method: http.MethodPut, path: "/acr/v1/errs/app/_tags/v1"}, 405, "UNSUPPORTED"},
		{"PATCH on the catalog", patch("/acr/v1/_catalog", `{}`), 405, "UNSUPPORTED"},
		{"unserved endpoint", req{path: "/acr/v1/errs/app/_tags/v1/_metadata"}, 404, "NAME_UNKNOWN"},
		{"bare prefix", req{path: "/acr/v1/"}, 404, "NAME_UNKNOWN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(tc.req)
			wantError(t, tc.name, resp, tc.status, tc.code)
			if tc.status == http.StatusUnauthorized && resp.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without a WWW-Authenticate challenge")
			}
		})
	}

	// Nothing above changed anything: every refused PATCH left the locks
	// alone, and every refused DELETE left the content.
	t.Run("nothing changed", func(t *testing.T) {
		for _, path := range []string{"/acr/v1/errs/app", "/acr/v1/errs/app/_tags/v1", "/acr/v1/errs/app/_manifests/" + img.digest} {
			b := s.json(req{path: path}, http.StatusOK)
			if a := lockedAttrs(t, b); a != unlocked {
				t.Errorf("%s: attributes %q after refused requests, want %q", path, a, unlocked)
			}
		}
		if resp := s.get("/v2/errs/app/manifests/v1"); resp.status != http.StatusOK {
			t.Errorf("pull after refused requests: %d", resp.status)
		}
	})
}

// lockedAttrs is attrs for the answer of any of the three item endpoints.
func lockedAttrs(t *testing.T, b map[string]any) string {
	t.Helper()
	for _, k := range []string{"tag", "manifest"} {
		if v, ok := b[k]; ok {
			b = obj(t, k, v)
		}
	}
	return attrs(t, "item", b)
}
