package metadataapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// lockEnv is the content of one lock case: a repository with image a
// tagged v1 and image b tagged other.
type lockEnv struct {
	repo string
	a, b image
}

// step is one request of a lock case and what it must answer.
type step struct {
	name   string
	req    func(e lockEnv) req
	status int
	code   string                                    // for an error status
	check  func(t *testing.T, e lockEnv, r response) // optional
}

func pull(ref func(e lockEnv) string) func(e lockEnv) req {
	return func(e lockEnv) req { return req{path: "/v2/" + e.repo + "/manifests/" + ref(e)} }
}

func head(ref func(e lockEnv) string) func(e lockEnv) req {
	return func(e lockEnv) req {
		return req{method: http.MethodHead, path: "/v2/" + e.repo + "/manifests/" + ref(e)}
	}
}

func v1(lockEnv) string        { return "v1" }
func digestA(e lockEnv) string { return e.a.digest }
func digestB(e lockEnv) string { return e.b.digest }

// putB pushes image b's manifest under tag.
func putB(tag string) func(e lockEnv) req {
	return func(e lockEnv) req {
		return req{method: http.MethodPut, path: "/v2/" + e.repo + "/manifests/" + tag, body: e.b.manifest, contentType: mtOCIManifest}
	}
}

func putA(tag string) func(e lockEnv) req {
	return func(e lockEnv) req {
		return req{method: http.MethodPut, path: "/v2/" + e.repo + "/manifests/" + tag, body: e.a.manifest, contentType: mtOCIManifest}
	}
}

func del(path func(e lockEnv) string) func(e lockEnv) req {
	return func(e lockEnv) req { return req{method: http.MethodDelete, path: path(e)} }
}

func v2Manifest(ref func(e lockEnv) string) func(e lockEnv) string {
	return func(e lockEnv) string { return "/v2/" + e.repo + "/manifests/" + ref(e) }
}

func acrTag(tag string) func(e lockEnv) string {
	return func(e lockEnv) string { return "/acr/v1/" + e.repo + "/_tags/" + tag }
}

func acrManifest(ref func(e lockEnv) string) func(e lockEnv) string {
	return func(e lockEnv) string { return "/acr/v1/" + e.repo + "/_manifests/" + ref(e) }
}

func acrRepo(e lockEnv) string { return "/acr/v1/" + e.repo }

func get(path func(e lockEnv) string) func(e lockEnv) req {
	return func(e lockEnv) req { return req{path: path(e)} }
}

func v2Tags(e lockEnv) string       { return "/v2/" + e.repo + "/tags/list" }
func acrTags(e lockEnv) string      { return "/acr/v1/" + e.repo + "/_tags" }
func acrManifests(e lockEnv) string { return "/acr/v1/" + e.repo + "/_manifests" }
func v2Catalog(lockEnv) string      { return "/v2/_catalog" }
func acrCatalog(lockEnv) string     { return "/acr/v1/_catalog" }

// listed checks whether a listing's field holds an entry: a plain string
// (tags/list, catalogs) or an object whose key field is it.
func listed(field, key string, entry func(e lockEnv) string, want bool) func(t *testing.T, e lockEnv, r response) {
	return func(t *testing.T, e lockEnv, r response) {
		t.Helper()
		var b map[string]any
		if err := json.Unmarshal(r.body, &b); err != nil {
			t.Fatalf("listing: %v: %s", err, r.body)
		}
		got := names(t, b, field, key)
		if has := slices.Contains(got, entry(e)); has != want {
			t.Errorf("%s holds %v; want %s listed: %v", field, got, entry(e), want)
		}
	}
}

func repoName(e lockEnv) string { return e.repo }
func tagV1(lockEnv) string      { return "v1" }
func tagOther(lockEnv) string   { return "other" }

// manifestTags checks the tags a manifest listing gives image a.
func manifestTags(want string) func(t *testing.T, e lockEnv, r response) {
	return func(t *testing.T, e lockEnv, r response) {
		t.Helper()
		var b struct {
			Manifests []struct {
				Digest string
				Tags   []string
			}
		}
		json.Unmarshal(r.body, &b)
		for _, m := range b.Manifests {
			if m.Digest == e.a.digest {
				if got := slices.Concat(m.Tags); len(got) != 1 || got[0] != want {
					t.Errorf("image a has tags %v, want [%s]", got, want)
				}
				return
			}
		}
		t.Errorf("image a is not in %s", r.body)
	}
}

// pulled checks which manifest a pull answered with.
func pulled(digest func(e lockEnv) string) func(t *testing.T, e lockEnv, r response) {
	return func(t *testing.T, e lockEnv, r response) {
		t.Helper()
		if got := r.header.Get("Docker-Content-Digest"); got != digest(e) {
			t.Errorf("pulled %s, want %s", got, digest(e))
		}
	}
}

var (
	denied = func(name string, r func(e lockEnv) req) step {
		return step{name: name, req: r, status: http.StatusForbidden, code: "DENIED"}
	}
	ok = func(name string, r func(e lockEnv) req, status int) step {
		return step{name: name, req: r, status: status}
	}
)

// TestLocks sets each attribute of a repository, tag or manifest to false
// through /acr/v1 and checks what the data plane then refuses and still
// allows, then sets it back and checks the refused operations work again.
// Every case reads through the data plane before locking, so that a lock
// the read cache would hide shows up as a failure.
func TestLocks(t *testing.T) {
	s := newServer(t)
	for i, tc := range []struct {
		name     string
		target   func(e lockEnv) string // what to PATCH
		attr     string
		locked   []step
		unlocked []step
	}{
		{
			name: "tag writeEnabled", target: acrTag("v1"), attr: "writeEnabled",
			locked: []step{
				denied("overwrite the tag", putB("v1")),
				denied("delete the tag via /v2", del(v2Manifest(v1))),
				denied("delete the tag via /acr/v1", del(acrTag("v1"))),
				denied("delete its manifest", del(v2Manifest(digestA))),
				ok("push the same content again", putA("v1"), http.StatusCreated),
				{name: "pull", req: pull(v1), status: http.StatusOK, check: pulled(digestA)},
			},
			unlocked: []step{
				ok("overwrite the tag", putB("v1"), http.StatusCreated),
				{name: "pull the new content", req: pull(v1), status: http.StatusOK, check: pulled(digestB)},
				ok("delete the tag", del(acrTag("v1")), http.StatusAccepted),
			},
		},
		{
			name: "tag deleteEnabled", target: acrTag("v1"), attr: "deleteEnabled",
			locked: []step{
				denied("delete the tag via /v2", del(v2Manifest(v1))),
				denied("delete the tag via /acr/v1", del(acrTag("v1"))),
				denied("delete its manifest", del(v2Manifest(digestA))),
			},
			unlocked: []step{
				ok("delete the tag", del(v2Manifest(v1)), http.StatusAccepted),
			},
		},
		{
			name: "tag deleteEnabled allows writes", target: acrTag("v1"), attr: "deleteEnabled",
			locked: []step{
				ok("overwrite the tag", putB("v1"), http.StatusCreated),
				{name: "pull the new content", req: pull(v1), status: http.StatusOK, check: pulled(digestB)},
			},
		},
		{
			name: "tag readEnabled", target: acrTag("v1"), attr: "readEnabled",
			locked: []step{
				denied("pull by tag", pull(v1)),
				{name: "HEAD by tag", req: head(v1), status: http.StatusForbidden},
				ok("pull by digest", pull(digestA), http.StatusOK),
				ok("read the tag's metadata", get(acrTag("v1")), http.StatusOK),
			},
			unlocked: []step{
				{name: "pull by tag", req: pull(v1), status: http.StatusOK, check: pulled(digestA)},
			},
		},
		{
			name: "tag listEnabled", target: acrTag("v1"), attr: "listEnabled",
			locked: []step{
				{name: "/v2 tags/list hides it", req: get(v2Tags), status: http.StatusOK, check: listed("tags", "", tagV1, false)},
				{name: "/v2 tags/list keeps the others", req: get(v2Tags), status: http.StatusOK, check: listed("tags", "", tagOther, true)},
				{name: "/acr/v1 _tags hides it", req: get(acrTags), status: http.StatusOK, check: listed("tags", "name", tagV1, false)},
				// A purge deletes manifests it believes untagged: a hidden
				// tag must still count.
				{name: "_manifests still names it", req: get(acrManifests), status: http.StatusOK, check: manifestTags("v1")},
				ok("read the tag's metadata", get(acrTag("v1")), http.StatusOK),
				ok("pull", pull(v1), http.StatusOK),
			},
			unlocked: []step{
				{name: "/v2 tags/list lists it", req: get(v2Tags), status: http.StatusOK, check: listed("tags", "", tagV1, true)},
				{name: "/acr/v1 _tags lists it", req: get(acrTags), status: http.StatusOK, check: listed("tags", "name", tagV1, true)},
			},
		},
		{
			name: "manifest deleteEnabled", target: acrManifest(digestA), attr: "deleteEnabled",
			locked: []step{
				denied("delete via /v2", del(v2Manifest(digestA))),
				denied("delete via /acr/v1", del(acrManifest(digestA))),
				denied("delete the repository", del(acrRepo)),
				ok("untag it", del(acrTag("v1")), http.StatusAccepted),
			},
			unlocked: []step{
				ok("delete via /acr/v1", del(acrManifest(digestA)), http.StatusAccepted),
				{name: "gone", req: pull(digestA), status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
			},
		},
		{
			name: "manifest writeEnabled", target: acrManifest(digestA), attr: "writeEnabled",
			locked: []step{
				denied("delete via /v2", del(v2Manifest(digestA))),
				denied("delete the repository", del(acrRepo)),
				ok("pull", pull(digestA), http.StatusOK),
			},
			unlocked: []step{
				ok("delete via /v2", del(v2Manifest(digestA)), http.StatusAccepted),
			},
		},
		{
			name: "manifest readEnabled", target: acrManifest(digestA), attr: "readEnabled",
			locked: []step{
				denied("pull by digest", pull(digestA)),
				denied("pull by a tag", pull(v1)),
				ok("pull another manifest", pull(digestB), http.StatusOK),
			},
			unlocked: []step{
				ok("pull by digest", pull(digestA), http.StatusOK),
				ok("pull by a tag", pull(v1), http.StatusOK),
			},
		},
		{
			name: "manifest listEnabled", target: acrManifest(digestA), attr: "listEnabled",
			locked: []step{
				{name: "_manifests hides it", req: get(acrManifests), status: http.StatusOK, check: listed("manifests", "digest", digestA, false)},
				{name: "_manifests keeps the others", req: get(acrManifests), status: http.StatusOK, check: listed("manifests", "digest", digestB, true)},
				{name: "its tags stay listed", req: get(v2Tags), status: http.StatusOK, check: listed("tags", "", tagV1, true)},
				ok("read its metadata", get(acrManifest(digestA)), http.StatusOK),
				ok("pull", pull(digestA), http.StatusOK),
			},
			unlocked: []step{
				{name: "_manifests lists it", req: get(acrManifests), status: http.StatusOK, check: listed("manifests", "digest", digestA, true)},
			},
		},
		{
			name: "repository writeEnabled", target: acrRepo, attr: "writeEnabled",
			locked: []step{
				denied("push a new tag", putB("new")),
				denied("overwrite a tag", putB("v1")),
				denied("delete a tag via /v2", del(v2Manifest(v1))),
				denied("delete a tag via /acr/v1", del(acrTag("other"))),
				denied("delete a manifest", del(v2Manifest(digestB))),
				denied("delete the repository", del(acrRepo)),
				ok("pull", pull(v1), http.StatusOK),
			},
			unlocked: []step{
				ok("push a new tag", putB("new"), http.StatusCreated),
				ok("delete a tag", del(acrTag("other")), http.StatusAccepted),
			},
		},
		{
			name: "repository deleteEnabled", target: acrRepo, attr: "deleteEnabled",
			locked: []step{
				denied("delete a tag", del(v2Manifest(v1))),
				denied("delete a manifest", del(v2Manifest(digestB))),
				denied("delete the repository", del(acrRepo)),
				ok("push a new tag", putB("new"), http.StatusCreated),
			},
			unlocked: []step{
				{name: "delete the repository", req: del(acrRepo), status: http.StatusAccepted, check: func(t *testing.T, e lockEnv, r response) {
					var b struct{ ManifestsDeleted, TagsDeleted []string }
					json.Unmarshal(r.body, &b)
					slices.Sort(b.ManifestsDeleted)
					want := []string{e.a.digest, e.b.digest}
					slices.Sort(want)
					if !slices.Equal(b.TagsDeleted, []string{"new", "other", "v1"}) || !slices.Equal(b.ManifestsDeleted, want) {
						t.Errorf("deleted %s, want tags new, other, v1 and both manifests", r.body)
					}
				}},
				{name: "gone", req: get(acrRepo), status: http.StatusNotFound, code: "NAME_UNKNOWN"},
			},
		},
		{
			name: "repository listEnabled", target: acrRepo, attr: "listEnabled",
			locked: []step{
				{name: "/v2/_catalog hides it", req: get(v2Catalog), status: http.StatusOK, check: listed("repositories", "", repoName, false)},
				{name: "/acr/v1/_catalog hides it", req: get(acrCatalog), status: http.StatusOK, check: listed("repositories", "", repoName, false)},
				ok("read its metadata", get(acrRepo), http.StatusOK),
				{name: "its tags stay listed", req: get(v2Tags), status: http.StatusOK, check: listed("tags", "", tagV1, true)},
				ok("pull", pull(v1), http.StatusOK),
			},
			unlocked: []step{
				{name: "/v2/_catalog lists it", req: get(v2Catalog), status: http.StatusOK, check: listed("repositories", "", repoName, true)},
				{name: "/acr/v1/_catalog lists it", req: get(acrCatalog), status: http.StatusOK, check: listed("repositories", "", repoName, true)},
			},
		},
		{
			name: "repository readEnabled", target: acrRepo, attr: "readEnabled",
			locked: []step{
				denied("pull by tag", pull(v1)),
				denied("pull by digest", pull(digestA)),
				ok("read its metadata", get(acrRepo), http.StatusOK),
			},
			unlocked: []step{
				ok("pull by tag", pull(v1), http.StatusOK),
			},
		},
		{
			name: "a locked tag keeps its repository", target: acrTag("other"), attr: "deleteEnabled",
			locked: []step{
				denied("delete the repository", del(acrRepo)),
				{name: "nothing was deleted", req: get(acrRepo), status: http.StatusOK, check: func(t *testing.T, e lockEnv, r response) {
					var b struct{ ManifestCount, TagCount int }
					json.Unmarshal(r.body, &b)
					if b.ManifestCount != 2 || b.TagCount != 2 {
						t.Errorf("after a refused delete: %s, want 2 manifests and 2 tags", r.body)
					}
				}},
			},
			unlocked: []step{
				ok("delete the repository", del(acrRepo), http.StatusAccepted),
				{name: "pull", req: pull(v1), status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := lockEnv{repo: "locks/case" + string(rune('a'+i))}
			e.a = s.push(e.repo, "v1", e.repo+"-a")
			e.b = s.push(e.repo, "other", e.repo+"-b")
			// Read what the cases check, so that stale cached reads fail.
			for _, path := range []string{"/v2/" + e.repo + "/manifests/v1", "/v2/" + e.repo + "/manifests/" + e.a.digest,
				"/v2/" + e.repo + "/tags/list", "/v2/_catalog"} {
				if r := s.get(path); r.status != http.StatusOK {
					t.Fatalf("GET %s before locking: %d", path, r.status)
				}
			}
			run := func(phase string, steps []step) {
				for _, st := range steps {
					r := st.req(e)
					resp := s.do(r)
					method := r.method
					if method == "" {
						method = http.MethodGet
					}
					what := phase + ": " + st.name + " (" + method + " " + r.path + ")"
					if st.code != "" {
						wantError(t, what, resp, st.status, st.code)
					} else if resp.status != st.status {
						t.Errorf("%s: status %d, want %d; body %s", what, resp.status, st.status, resp.body)
					}
					if st.check != nil {
						st.check(t, e, resp)
					}
				}
			}
			b := s.patch(tc.target(e), `{"`+tc.attr+`":false}`)
			if got := lockedAttr(t, b, tc.attr); got != false {
				t.Fatalf("PATCH %s=false answered %v", tc.attr, got)
			}
			run("locked", tc.locked)
			b = s.patch(tc.target(e), `{"`+tc.attr+`":true}`)
			if got := lockedAttr(t, b, tc.attr); got != true {
				t.Fatalf("PATCH %s=true answered %v", tc.attr, got)
			}
			run("unlocked", tc.unlocked)
		})
	}
}

// lockedAttr finds an attribute in a PATCH answer of any of the three kinds.
func lockedAttr(t *testing.T, b map[string]any, attr string) any {
	t.Helper()
	for _, k := range []string{"tag", "manifest"} {
		if v, ok := b[k]; ok {
			b = obj(t, k, v)
		}
	}
	return obj(t, "changeableAttributes", b["changeableAttributes"])[attr]
}
