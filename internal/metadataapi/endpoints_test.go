package metadataapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// wantTime checks a time field: RFC 3339 in UTC with seven fractional
// digits, as the managed registry writes, within the test's run.
func wantTime(t *testing.T, what string, v any, since time.Time) time.Time {
	t.Helper()
	s, _ := v.(string)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`).MatchString(s) {
		t.Errorf("%s: %q, want RFC 3339 UTC with 7 fractional digits", what, s)
		return time.Time{}
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Errorf("%s: %q: %v", what, s, err)
	}
	if tm.Before(since.Add(-time.Second)) || tm.After(time.Now().Add(time.Second)) {
		t.Errorf("%s: %v, not within the test's run (%v..now)", what, tm, since)
	}
	return tm
}

// TestEndpoints checks every endpoint's success answer field by field.
func TestEndpoints(t *testing.T) {
	start := time.Now()
	s := newServer(t)
	img := s.push("lib/app", "v1", "one")
	if resp := s.putManifest("lib/app", "stable", img.manifest, mtOCIManifest); resp.status != http.StatusCreated {
		t.Fatalf("tag stable: %d", resp.status)
	}
	arm := s.buildImage("lib/app", "arm", "arm64", "linux")
	s.putManifest("lib/app", arm.digest, arm.manifest, mtOCIManifest)
	index := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[`+
		`{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":"amd64","os":"linux"}},`+
		`{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":"arm64","os":"linux"}}]}`,
		mtOCIIndex, mtOCIManifest, img.digest, len(img.manifest), mtOCIManifest, arm.digest, len(arm.manifest)))
	if resp := s.putManifest("lib/app", "multi", index, mtOCIIndex); resp.status != http.StatusCreated {
		t.Fatalf("push index: %d %s", resp.status, resp.body)
	}
	indexDigest := digestOf(index)

	for _, tc := range []struct {
		name  string
		req   req
		check func(t *testing.T, body map[string]any)
	}{
		{"catalog", req{path: "/acr/v1/_catalog"}, func(t *testing.T, b map[string]any) {
			wantKeys(t, "catalog", b, "repositories")
			if got := fmt.Sprint(b["repositories"]); got != "[lib/app]" {
				t.Errorf("repositories %s, want [lib/app]", got)
			}
		}},
		{"repository", req{path: "/acr/v1/lib/app"}, func(t *testing.T, b map[string]any) {
			wantKeys(t, "repository", b, "registry", "imageName", "createdTime", "lastUpdateTime",
				"manifestCount", "tagCount", "changeableAttributes")
			if b["registry"] != s.host || b["imageName"] != "lib/app" {
				t.Errorf("registry %v imageName %v, want %s lib/app", b["registry"], b["imageName"], s.host)
			}
			if b["manifestCount"] != 3.0 || b["tagCount"] != 3.0 {
				t.Errorf("manifestCount %v tagCount %v, want 3 and 3", b["manifestCount"], b["tagCount"])
			}
			c := wantTime(t, "createdTime", b["createdTime"], start)
			if u := wantTime(t, "lastUpdateTime", b["lastUpdateTime"], start); u.Before(c) {
				t.Errorf("lastUpdateTime %v before createdTime %v", u, c)
			}
			if a := attrs(t, "repository", b); a != unlocked {
				t.Errorf("attributes %q, want %q", a, unlocked)
			}
		}},
		{"tags", req{path: "/acr/v1/lib/app/_tags"}, func(t *testing.T, b map[string]any) {
			wantKeys(t, "tags", b, "registry", "imageName", "tags")
			if got := strings.Join(names(t, b, "tags", "name"), ","); got != "multi,stable,v1" {
				t.Errorf("tags %s, want multi,stable,v1 (by name)", got)
			}
			tag := obj(t, "tags[2]", list(t, "tags", b["tags"])[2])
			wantKeys(t, "tag", tag, "name", "digest", "createdTime", "lastUpdateTime", "signed", "changeableAttributes")
			if tag["digest"] != img.digest || tag["signed"] != false {
				t.Errorf("tag v1: digest %v signed %v, want %s false", tag["digest"], tag["signed"], img.digest)
			}
			wantTime(t, "createdTime", tag["createdTime"], start)
			wantTime(t, "lastUpdateTime", tag["lastUpdateTime"], start)
			if a := attrs(t, "tag", tag); a != unlocked {
				t.Errorf("attributes %q, want %q", a, unlocked)
			}
		}},
		{"tags of a digest", req{path: "/acr/v1/lib/app/_tags?digest=" + img.digest}, func(t *testing.T, b map[string]any) {
			if got := strings.Join(names(t, b, "tags", "name"), ","); got != "stable,v1" {
				t.Errorf("tags %s, want stable,v1", got)
			}
		}},
		{"tag", req{path: "/acr/v1/lib/app/_tags/v1"}, func(t *testing.T, b map[string]any) {
			wantKeys(t, "tag item", b, "registry", "imageName", "tag")
			tag := obj(t, "tag", b["tag"])
			wantKeys(t, "tag", tag, "name", "digest", "createdTime", "lastUpdateTime", "signed", "changeableAttributes")
			if tag["name"] != "v1" || tag["digest"] != img.digest {
				t.Errorf("tag %v, want v1 -> %s", tag, img.digest)
			}
		}},
		{"manifests", req{path: "/acr/v1/lib/app/_manifests"}, func(t *testing.T, b map[string]any) {
			wantKeys(t, "manifests", b, "registry", "imageName", "manifests")
			ms := list(t, "manifests", b["manifests"])
			if len(ms) != 3 {
				t.Fatalf("%d manifests, want 3", len(ms))
			}
			var prev string
			for i, e := range ms {
				m := obj(t, "manifest", e)
				if d := m["digest"].(string); d <= prev {
					t.Errorf("manifests[%d] %s not after %s: want digest order", i, d, prev)
				} else {
					prev = d
				}
				switch m["digest"] {
				case img.digest:
					wantImage(t, m, img, "amd64", "stable,v1")
				case arm.digest:
					wantImage(t, m, arm, "arm64", "")
				case indexDigest:
					wantKeys(t, "index", m, "digest", "imageSize", "createdTime", "lastUpdateTime",
						"mediaType", "references", "tags", "changeableAttributes")
					if m["imageSize"] != float64(len(index)) || m["mediaType"] != mtOCIIndex {
						t.Errorf("index: imageSize %v mediaType %v, want %d %s", m["imageSize"], m["mediaType"], len(index), mtOCIIndex)
					}
					refs := fmt.Sprint(m["references"])
					want := fmt.Sprint([]any{
						map[string]any{"digest": img.digest, "architecture": "amd64", "os": "linux"},
						map[string]any{"digest": arm.digest, "architecture": "arm64", "os": "linux"},
					})
					if refs != want {
						t.Errorf("index references %s, want %s", refs, want)
					}
				default:
					t.Errorf("unexpected manifest %v", m["digest"])
				}
			}
		}},
		{"manifest by digest", req{path: "/acr/v1/lib/app/_manifests/" + img.digest}, func(t *testing.T, b map[string]any) {
			wantKeys(t, "manifest item", b, "registry", "imageName", "manifest")
			if b["registry"] != s.host || b["imageName"] != "lib/app" {
				t.Errorf("registry %v imageName %v", b["registry"], b["imageName"])
			}
			wantImage(t, obj(t, "manifest", b["manifest"]), img, "amd64", "stable,v1")
		}},
		{"manifest by tag", req{path: "/acr/v1/lib/app/_manifests/stable"}, func(t *testing.T, b map[string]any) {
			wantImage(t, obj(t, "manifest", b["manifest"]), img, "amd64", "stable,v1")
		}},
		// The Azure SDKs escape the repository's slashes and the digest's colon.
		{"escaped tags path", req{path: "/acr/v1/lib%2Fapp/_tags/v1"}, func(t *testing.T, b map[string]any) {
			if obj(t, "tag", b["tag"])["digest"] != img.digest || b["imageName"] != "lib/app" {
				t.Errorf("escaped path answered %v", b)
			}
		}},
		{"escaped manifest path", req{path: "/acr/v1/lib%2Fapp/_manifests/" + strings.Replace(img.digest, ":", "%3A", 1)}, func(t *testing.T, b map[string]any) {
			if obj(t, "manifest", b["manifest"])["digest"] != img.digest {
				t.Errorf("escaped path answered %v", b)
			}
		}},
		{"patch repository", req{method: http.MethodPatch, path: "/acr/v1/lib/app", body: []byte(`{"readEnabled":false}`)}, func(t *testing.T, b map[string]any) {
			wantKeys(t, "repository", b, "registry", "imageName", "createdTime", "lastUpdateTime",
				"manifestCount", "tagCount", "changeableAttributes")
			if a := attrs(t, "repository", b); a != "d w - l" {
				t.Errorf("attributes %q after PATCH readEnabled=false, want %q", a, "d w - l")
			}
		}},
		{"patch repository back", req{method: http.MethodPatch, path: "/acr/v1/lib/app", body: []byte(`{"readEnabled":true}`)}, func(t *testing.T, b map[string]any) {
			if a := attrs(t, "repository", b); a != unlocked {
				t.Errorf("attributes %q, want %q", a, unlocked)
			}
		}},
		{"patch tag", req{method: http.MethodPatch, path: "/acr/v1/lib/app/_tags/stable", body: []byte(`{"deleteEnabled":false,"listEnabled":false}`)}, func(t *testing.T, b map[string]any) {
			wantKeys(t, "tag item", b, "registry", "imageName", "tag")
			tag := obj(t, "tag", b["tag"])
			if a := attrs(t, "tag", tag); a != "- w r -" || tag["name"] != "stable" {
				t.Errorf("tag %v attributes %q, want stable %q", tag["name"], a, "- w r -")
			}
		}},
		{"tag keeps other attributes", req{method: http.MethodPatch, path: "/acr/v1/lib/app/_tags/stable", body: []byte(`{"writeEnabled":false}`)}, func(t *testing.T, b map[string]any) {
			if a := attrs(t, "tag", obj(t, "tag", b["tag"])); a != "- - r -" {
				t.Errorf("attributes %q, want only the given field changed: %q", a, "- - r -")
			}
		}},
		{"tag unlocked", req{method: http.MethodPatch, path: "/acr/v1/lib/app/_tags/stable", body: []byte(`{"deleteEnabled":true,"writeEnabled":true,"listEnabled":true,"readEnabled":true}`)}, func(t *testing.T, b map[string]any) {
			if a := attrs(t, "tag", obj(t, "tag", b["tag"])); a != unlocked {
				t.Errorf("attributes %q, want %q", a, unlocked)
			}
		}},
		{"patch manifest", req{method: http.MethodPatch, path: "/acr/v1/lib/app/_manifests/" + arm.digest, body: []byte(`{"writeEnabled":false}`)}, func(t *testing.T, b map[string]any) {
			wantKeys(t, "manifest item", b, "registry", "imageName", "manifest")
			m := obj(t, "manifest", b["manifest"])
			if a := attrs(t, "manifest", m); a != "d - r l" || m["digest"] != arm.digest {
				t.Errorf("manifest %v attributes %q, want %s %q", m["digest"], a, arm.digest, "d - r l")
			}
		}},
		{"patch manifest back", req{method: http.MethodPatch, path: "/acr/v1/lib/app/_manifests/" + arm.digest, body: []byte(`{"writeEnabled":true}`)}, func(t *testing.T, b map[string]any) {
			if a := attrs(t, "manifest", obj(t, "manifest", b["manifest"])); a != unlocked {
				t.Errorf("attributes %q, want %q", a, unlocked)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := http.StatusOK
			if tc.req.method == http.MethodPatch {
				tc.req.contentType = "application/json; charset=utf-8"
			}
			tc.check(t, s.json(tc.req, want))
		})
	}

	t.Run("paging keeps the digest filter", func(t *testing.T) {
		if got := join(walk(t, s, "/acr/v1/lib/app/_tags?n=1&digest="+img.digest, "tags", "name")); got != "stable | v1" {
			t.Errorf("pages %s, want stable | v1", got)
		}
	})

	t.Run("deletes", func(t *testing.T) {
		if resp := s.do(req{method: http.MethodDelete, path: "/acr/v1/lib/app/_tags/stable"}); resp.status != http.StatusAccepted {
			t.Fatalf("DELETE tag: %d %s", resp.status, resp.body)
		}
		if resp := s.get("/acr/v1/lib/app/_tags/stable"); resp.status != http.StatusNotFound {
			t.Errorf("tag after DELETE: %d, want 404", resp.status)
		}
		if resp := s.get("/v2/lib/app/manifests/" + img.digest); resp.status != http.StatusOK {
			t.Errorf("manifest after untagging: %d, want 200 (a tag delete keeps the manifest)", resp.status)
		}
		if resp := s.do(req{method: http.MethodDelete, path: "/acr/v1/lib/app/_manifests/" + arm.digest}); resp.status != http.StatusAccepted {
			t.Fatalf("DELETE manifest: %d %s", resp.status, resp.body)
		}
		if resp := s.get("/v2/lib/app/manifests/" + arm.digest); resp.status != http.StatusNotFound {
			t.Errorf("manifest after DELETE: %d, want 404", resp.status)
		}
		b := s.json(req{method: http.MethodDelete, path: "/acr/v1/lib/app"}, http.StatusAccepted)
		wantKeys(t, "deleted repository", b, "manifestsDeleted", "tagsDeleted")
		if got, want := fmt.Sprint(b["tagsDeleted"]), "[multi v1]"; got != want {
			t.Errorf("tagsDeleted %s, want %s", got, want)
		}
		if got := len(list(t, "manifestsDeleted", b["manifestsDeleted"])); got != 2 {
			t.Errorf("manifestsDeleted %v, want the image and the index", b["manifestsDeleted"])
		}
		wantError(t, "repository after DELETE", s.get("/acr/v1/lib/app"), http.StatusNotFound, "NAME_UNKNOWN")
		wantError(t, "pull after DELETE", s.get("/v2/lib/app/manifests/v1"), http.StatusNotFound, "MANIFEST_UNKNOWN")
		if b := s.json(req{path: "/acr/v1/_catalog"}, http.StatusOK); len(b) != 0 {
			t.Errorf("catalog after DELETE %v, want {} (no repositories field)", b)
		}
	})
}

// wantImage checks a manifest object of an image pushed by buildImage.
func wantImage(t *testing.T, m map[string]any, img image, arch, tags string) {
	t.Helper()
	fields := []string{"digest", "imageSize", "createdTime", "lastUpdateTime", "architecture", "os",
		"mediaType", "configMediaType", "changeableAttributes"}
	if tags != "" {
		fields = append(fields, "tags")
	}
	wantKeys(t, "manifest "+img.digest, m, fields...)
	if m["digest"] != img.digest || m["imageSize"] != float64(img.size) || m["architecture"] != arch || m["os"] != "linux" ||
		m["mediaType"] != mtOCIManifest || m["configMediaType"] != mtOCIConfig {
		t.Errorf("manifest %v, want digest %s imageSize %d architecture %s os linux mediaType %s configMediaType %s",
			m, img.digest, img.size, arch, mtOCIManifest, mtOCIConfig)
	}
	if tags != "" {
		if got := fmt.Sprint(m["tags"]); got != "["+strings.ReplaceAll(tags, ",", " ")+"]" {
			t.Errorf("manifest tags %s, want [%s]", got, tags)
		}
	}
	if a := attrs(t, "manifest", m); a != unlocked {
		t.Errorf("attributes %q, want %q", a, unlocked)
	}
}
