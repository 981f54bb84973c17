package distribution_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSpecTagsList covers tags/list with n, last and the Link header.
func TestSpecTagsList(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const repo = "tags/app"
	img := s.pushImage(t, repo, "latest", "tags")
	for _, tag := range []string{"v1.0", "a", "c", "B", "_x", "d", "e"} {
		s.pushManifest(t, repo, tag, mtOCIManifest, img.manifest)
	}
	s.pushBlob(t, "tags/blobonly", []byte("a repository with a blob and no tag"))
	l := "/v2/" + repo + "/tags/list"
	next := func(q string) map[string]string {
		return map[string]string{"Link": "<" + l + "?" + q + `>; rel="next"`}
	}
	noLink := map[string]string{"Link": absent, "Content-Type": "application/json"}
	s.run(t, []step{
		{name: "every tag in lexical order", method: "GET", path: l, status: 200, want: noLink,
			check: tagsAre(repo, "B", "_x", "a", "c", "d", "e", "latest", "v1.0")},
		{name: "n=2", method: "GET", path: l + "?n=2", status: 200, want: next("last=_x&n=2"), check: tagsAre(repo, "B", "_x")},
		{name: "the next page", method: "GET", path: l + "?last=_x&n=2", status: 200, want: next("last=c&n=2"), check: tagsAre(repo, "a", "c")},
		{name: "last without n", method: "GET", path: l + "?last=e", status: 200, want: noLink, check: tagsAre(repo, "latest", "v1.0")},
		{name: "last that is not a tag", method: "GET", path: l + "?last=bb", status: 200, check: tagsAre(repo, "c", "d", "e", "latest", "v1.0")},
		{name: "n equal to the count", method: "GET", path: l + "?n=8", status: 200, want: noLink,
			check: tagsAre(repo, "B", "_x", "a", "c", "d", "e", "latest", "v1.0")},
		{name: "n over the count", method: "GET", path: l + "?n=1000", status: 200, want: noLink,
			check: tagsAre(repo, "B", "_x", "a", "c", "d", "e", "latest", "v1.0")},
		{name: "the last page", method: "GET", path: l + "?n=3&last=d", status: 200, want: noLink, check: tagsAre(repo, "e", "latest", "v1.0")},
		{name: "n=0 is an empty list without Link", method: "GET", path: l + "?n=0", status: 200, want: noLink, check: tagsAre(repo)},
		{name: "last after every tag", method: "GET", path: l + "?last=zzz", status: 200, want: noLink, check: tagsAre(repo)},
		{name: "negative n", method: "GET", path: l + "?n=-1", status: 400, code: "PAGINATION_NUMBER_INVALID"},
		{name: "n that is not a number", method: "GET", path: l + "?n=ten", status: 400, code: "PAGINATION_NUMBER_INVALID"},
		{name: "a repository with no tag", method: "GET", path: "/v2/tags/blobonly/tags/list", status: 200, check: tagsAre("tags/blobonly")},
		{name: "an unknown repository", method: "GET", path: "/v2/tags/none/tags/list", status: 404, code: "NAME_UNKNOWN"},
		{name: "n=0 on an unknown repository", method: "GET", path: "/v2/tags/none/tags/list?n=0", status: 404, code: "NAME_UNKNOWN"},
		{name: "an invalid name", method: "GET", path: "/v2/Tags/tags/list", status: 400, code: "NAME_INVALID"},
		{name: "a repository of another registry", method: "GET", path: l, header: hdr("Host", secondLogin), status: 404, code: "NAME_UNKNOWN"},
	})

	t.Run("following Link visits every tag once", func(t *testing.T) {
		var all []string
		path := l + "?n=3"
		for pages := 0; path != ""; pages++ {
			if pages > 10 {
				t.Fatal("Link never ends")
			}
			resp, body := s.do(t, "GET", path, nil, nil)
			var page struct{ Tags []string }
			if err := json.Unmarshal(body, &page); resp.StatusCode != 200 || err != nil {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
			}
			all = append(all, page.Tags...)
			path = ""
			if link := resp.Header.Get("Link"); link != "" {
				path = strings.TrimPrefix(strings.SplitN(link, ">", 2)[0], "<")
			}
		}
		if got := strings.Join(all, ","); got != "B,_x,a,c,d,e,latest,v1.0" {
			t.Errorf("tags by Link: %s", got)
		}
	})
}

// TestSpecCatalog covers _catalog with n, last and Link.
func TestSpecCatalog(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, repo := range []string{"cat/c", "cat/a", "cat/b"} {
		s.pushImage(t, repo, "v1", repo)
	}
	s.pushBlob(t, "cat/blobonly", []byte("no manifest here"))
	catalog := func(repos ...string) []byte {
		return mustJSON(t, map[string][]string{"repositories": append([]string{}, repos...)})
	}
	s.run(t, []step{
		{name: "every repository with content", method: "GET", path: "/v2/_catalog", status: 200, wantBody: catalog("cat/a", "cat/b", "cat/c"),
			want: map[string]string{"Content-Type": "application/json", "Link": absent}},
		{name: "n=2", method: "GET", path: "/v2/_catalog?n=2", status: 200, wantBody: catalog("cat/a", "cat/b"),
			want: map[string]string{"Link": `</v2/_catalog?last=cat%2Fb&n=2>; rel="next"`}},
		{name: "the next page", method: "GET", path: "/v2/_catalog?last=cat%2Fb&n=2", status: 200, wantBody: catalog("cat/c"),
			want: map[string]string{"Link": absent}},
		{name: "n=0", method: "GET", path: "/v2/_catalog?n=0", status: 200, wantBody: catalog(), want: map[string]string{"Link": absent}},
		{name: "last without n", method: "GET", path: "/v2/_catalog?last=cat/a", status: 200, wantBody: catalog("cat/b", "cat/c")},
		{name: "negative n", method: "GET", path: "/v2/_catalog?n=-5", status: 400, code: "PAGINATION_NUMBER_INVALID"},
		{name: "another registry's catalog", method: "GET", path: "/v2/_catalog", header: hdr("Host", secondLogin), status: 200, wantBody: catalog()},
		{name: "HEAD is not supported", method: "POST", path: "/v2/_catalog", status: 405, code: "UNSUPPORTED"},
	})
}

// TestSpecReferrers covers the referrers API and its artifactType filter.
func TestSpecReferrers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const repo = "ref/app"
	subject := s.pushImage(t, repo, "v1", "subject")
	unrelated := s.pushImage(t, repo, "v2", "unrelated")
	emptyJSON := []byte("{}")
	sigConfig := []byte(`{"signature":"config"}`)
	s.pushBlob(t, repo, emptyJSON)
	s.pushBlob(t, repo, sigConfig)
	subjectDesc := map[string]any{"mediaType": mtOCIManifest, "digest": subject.digest, "size": len(subject.manifest)}

	push := func(mediaType string, m map[string]any) (map[string]any, []byte) {
		m["schemaVersion"], m["mediaType"] = 2, mediaType
		body := mustJSON(t, m)
		resp, got := s.do(t, "PUT", "/v2/"+repo+"/manifests/"+sha256Digest(body), hdr("Content-Type", mediaType), body)
		if resp.StatusCode != 201 {
			t.Fatalf("push referrer: %d %s", resp.StatusCode, got)
		}
		d := map[string]any{"mediaType": mediaType, "digest": sha256Digest(body), "size": len(body)}
		if at, ok := m["artifactType"]; ok {
			d["artifactType"] = at
		} else if c, ok := m["config"]; ok {
			d["artifactType"] = c.(map[string]any)["mediaType"]
		}
		if a, ok := m["annotations"]; ok {
			d["annotations"] = a
		}
		return d, body
	}
	const sbomType = "application/vnd.example.sbom.v1"
	sbom, _ := push(mtOCIManifest, map[string]any{
		"artifactType": sbomType, "config": desc(mtEmpty, emptyJSON), "layers": []any{desc(mtEmpty, emptyJSON)},
		"subject": subjectDesc, "annotations": map[string]any{"org.example.kind": "sbom"},
	})
	sig, _ := push(mtOCIManifest, map[string]any{ // no artifactType: the config's media type stands in
		"config": desc("application/vnd.example.sig.config.v1+json", sigConfig), "layers": []any{}, "subject": subjectDesc,
	})
	bundle, _ := push(mtOCIIndex, map[string]any{
		"artifactType": "application/vnd.example.bundle.v1", "manifests": []any{}, "subject": subjectDesc,
		"annotations": map[string]any{"org.example.bundle": "yes"},
	})
	plainIndex, _ := push(mtOCIIndex, map[string]any{ // an index without artifactType has none
		"manifests": []any{desc(mtOCIManifest, unrelated.manifest)}, "subject": subjectDesc,
	})
	push(mtOCIManifest, map[string]any{ // refers to another manifest
		"artifactType": sbomType, "config": desc(mtEmpty, emptyJSON), "layers": []any{},
		"subject": map[string]any{"mediaType": mtOCIManifest, "digest": unrelated.digest, "size": len(unrelated.manifest)},
	})
	future := sha256Digest([]byte("a subject pushed later"))
	early, _ := push(mtOCIManifest, map[string]any{
		"artifactType": sbomType, "config": desc(mtEmpty, emptyJSON), "layers": []any{},
		"subject": map[string]any{"mediaType": mtOCIManifest, "digest": future, "size": 22},
	})

	r := "/v2/" + repo + "/referrers/"
	filter := func(at string) string { return "?artifactType=" + url.QueryEscape(at) }
	index := map[string]string{"Content-Type": mtOCIIndex, "OCI-Filters-Applied": absent}
	filtered := map[string]string{"Content-Type": mtOCIIndex, "OCI-Filters-Applied": "artifactType"}
	s.run(t, []step{
		{name: "every referrer", method: "GET", path: r + subject.digest, status: 200, want: index,
			check: referrersAre(sbom, sig, bundle, plainIndex)},
		{name: "filtered by artifactType", method: "GET", path: r + subject.digest + filter(sbomType), status: 200, want: filtered,
			check: referrersAre(sbom)},
		{name: "filtered by a config media type", method: "GET", path: r + subject.digest + filter("application/vnd.example.sig.config.v1+json"),
			status: 200, want: filtered, check: referrersAre(sig)},
		{name: "filtered by an index's artifactType", method: "GET", path: r + subject.digest + filter("application/vnd.example.bundle.v1"),
			status: 200, want: filtered, check: referrersAre(bundle)},
		{name: "a filter nothing matches", method: "GET", path: r + subject.digest + filter("application/vnd.example.none"),
			status: 200, want: filtered, check: referrersAre()},
		{name: "a manifest without referrers", method: "GET", path: r + sbom["digest"].(string), status: 200, want: index, check: referrersAre()},
		{name: "a subject not pushed yet", method: "GET", path: r + future, status: 200, want: index, check: referrersAre(early)},
		{name: "a digest nothing has", method: "GET", path: r + sha256Digest([]byte("nothing")), status: 200, check: referrersAre()},
		{name: "an unknown repository", method: "GET", path: "/v2/ref/none/referrers/" + subject.digest, status: 200, check: referrersAre()},
		{name: "another registry", method: "GET", path: r + subject.digest, header: hdr("Host", secondLogin), status: 200, check: referrersAre()},
		{name: "a malformed digest", method: "GET", path: r + "sha256:12", status: 400, code: "DIGEST_INVALID"},
		{name: "a tag instead of a digest", method: "GET", path: r + "v1", status: 400, code: "DIGEST_INVALID"},
		{name: "an invalid name", method: "GET", path: "/v2/Ref/referrers/" + subject.digest, status: 400, code: "NAME_INVALID"},
		{name: "PUT is not supported", method: "PUT", path: r + subject.digest, status: 405, code: "UNSUPPORTED"},
		{name: "delete a referrer", method: "DELETE", path: "/v2/" + repo + "/manifests/" + sbom["digest"].(string), status: 202},
		{name: "a deleted referrer is not listed", method: "GET", path: r + subject.digest, status: 200,
			check: referrersAre(sig, bundle, plainIndex)},
	})
}

// referrersAre checks that a referrers body is an image index listing
// exactly the given descriptors, in any order.
func referrersAre(want ...map[string]any) func(*testing.T, *http.Response, []byte) {
	return func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		var got struct {
			SchemaVersion int              `json:"schemaVersion"`
			MediaType     string           `json:"mediaType"`
			Manifests     []map[string]any `json:"manifests"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("referrers body %q: %v", body, err)
		}
		if got.SchemaVersion != 2 || got.MediaType != mtOCIIndex {
			t.Errorf("referrers index has schemaVersion %d, mediaType %q", got.SchemaVersion, got.MediaType)
		}
		if got.Manifests == nil {
			t.Errorf("referrers manifests is null, want a list")
		}
		norm := func(ms []map[string]any) map[string]string {
			out := map[string]string{}
			for _, d := range ms {
				b, _ := json.Marshal(d)
				out[d["digest"].(string)] = string(b)
			}
			return out
		}
		g, w := norm(got.Manifests), norm(want)
		if len(got.Manifests) != len(want) {
			t.Errorf("%d referrers, want %d: %s", len(got.Manifests), len(want), body)
		}
		for d, wd := range w {
			if g[d] != wd {
				t.Errorf("referrer %s:\n got %s\nwant %s", d, g[d], wd)
			}
		}
	}
}
