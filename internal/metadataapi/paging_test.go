package metadataapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// linkRE is the Link header of a next page, as the managed registry writes
// it: a relative URL with last, n and orderby.
var linkRE = regexp.MustCompile(`^<(/acr/v1/[^?>]+\?[^>]+)>; rel="next"$`)

// walk follows a listing's Link headers from path to the end and returns
// the names (or digests) of each page.
func walk(t *testing.T, s *server, path, field, key string) [][]string {
	t.Helper()
	var pages [][]string
	for path != "" && len(pages) < 20 {
		resp := s.get(path)
		b := s.json(req{path: path}, http.StatusOK)
		pages = append(pages, names(t, b, field, key))
		path = ""
		if l := resp.header.Get("Link"); l != "" {
			m := linkRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link %q is not </acr/v1/…?…>; rel=\"next\"", l)
			}
			path = m[1]
		}
	}
	return pages
}

func join(pages [][]string) string {
	var out []string
	for _, p := range pages {
		out = append(out, strings.Join(p, ","))
	}
	return strings.Join(out, " | ")
}

// TestPaging checks orderby, n and last, and that Link headers lead
// through a whole listing, also while a purge deletes what it pages over.
func TestPaging(t *testing.T) {
	s := newServer(t)
	// Pushed in this order, so time order and name order differ.
	pushed := []string{"c", "a", "e", "b", "d"}
	digests := map[string]string{}
	for _, tag := range pushed {
		digests[tag] = s.push("paging", tag, "seed-"+tag).digest
	}

	for _, tc := range []struct {
		name, query string
		want        string
		link        string // the first Link, when want has more than one page
	}{
		{"by name", "n=2", "a,b | c,d | e", `</acr/v1/paging/_tags?last=b&n=2&orderby=>; rel="next"`},
		{"orderby none", "n=2&orderby=none", "a,b | c,d | e", `</acr/v1/paging/_tags?last=b&n=2&orderby=none>; rel="next"`},
		{"timedesc", "n=2&orderby=timedesc", "d,b | e,a | c", ""},
		{"timeasc", "n=2&orderby=timeasc", "c,a | e,b | d", ""},
		{"timedesc one page", "orderby=timedesc", "d,b,e,a,c", ""},
		{"n larger than the listing", "n=5000&orderby=timeasc", "c,a,e,b,d", ""},
		{"exact fit", "n=5", "a,b,c,d,e", ""},
		{"bare name cursor by time", "n=2&orderby=timedesc&last=e", "a,c", ""},
		{"bare name cursor by name", "n=10&last=bb", "c,d,e", ""},
	} {
		t.Run("tags "+tc.name, func(t *testing.T) {
			path := "/acr/v1/paging/_tags?" + tc.query
			if got := join(walk(t, s, path, "tags", "name")); got != tc.want {
				t.Errorf("pages %s, want %s", got, tc.want)
			}
			if tc.link != "" {
				if got := s.get(path).header.Get("Link"); got != tc.link {
					t.Errorf("Link %s, want %s", got, tc.link)
				}
			}
		})
	}

	t.Run("past the end", func(t *testing.T) {
		// Clients page until the list is absent; some index its last
		// element, so an empty page must not carry an empty array.
		for _, path := range []string{"/acr/v1/paging/_tags?last=e", "/acr/v1/paging/_manifests?last=sha256:g"} {
			resp := s.get(path)
			b := s.json(req{path: path}, http.StatusOK)
			wantKeys(t, path, b, "registry", "imageName")
			if l := resp.header.Get("Link"); l != "" {
				t.Errorf("%s: Link %q on the last page", path, l)
			}
		}
	})

	t.Run("time cursor in the Link", func(t *testing.T) {
		l := s.get("/acr/v1/paging/_tags?n=2&orderby=timedesc").header.Get("Link")
		if !regexp.MustCompile(`^</acr/v1/paging/_tags\?last=\d+~b&n=2&orderby=timedesc>; rel="next"$`).MatchString(l) {
			t.Errorf("Link %s, want last=<nanoseconds>~b", l)
		}
	})

	t.Run("manifests", func(t *testing.T) {
		sorted := make([]string, 0, len(pushed))
		var byTime []string
		for _, tag := range pushed {
			sorted = append(sorted, digests[tag])
			byTime = append(byTime, digests[tag])
		}
		slices.Sort(sorted)
		pages := walk(t, s, "/acr/v1/paging/_manifests?n=2", "manifests", "digest")
		if got, want := join(pages), join([][]string{sorted[:2], sorted[2:4], sorted[4:]}); got != want {
			t.Errorf("by digest: pages %s, want %s", got, want)
		}
		pages = walk(t, s, "/acr/v1/paging/_manifests?n=3&orderby=timeasc", "manifests", "digest")
		if got, want := join(pages), join([][]string{byTime[:3], byTime[3:]}); got != want {
			t.Errorf("timeasc: pages %s, want %s", got, want)
		}
		slices.Reverse(byTime)
		pages = walk(t, s, "/acr/v1/paging/_manifests?n=4&orderby=timedesc", "manifests", "digest")
		if got, want := join(pages), join([][]string{byTime[:4], byTime[4:]}); got != want {
			t.Errorf("timedesc: pages %s, want %s", got, want)
		}
	})

	t.Run("catalog", func(t *testing.T) {
		s.push("paging2", "x", "other")
		s.push("a/first", "x", "first")
		resp := s.get("/acr/v1/_catalog?n=1")
		if l, want := resp.header.Get("Link"), `</acr/v1/_catalog?last=a%2Ffirst&n=1>; rel="next"`; l != want {
			t.Errorf("Link %s, want %s", l, want)
		}
		if got := join(walk(t, s, "/acr/v1/_catalog?n=2", "repositories", "")); got != "a/first,paging | paging2" {
			t.Errorf("catalog pages %s", got)
		}
	})

	// A purge reads a page ordered by time, deletes the old tags on it, then
	// asks for the next: the tag the cursor names may be gone by then. Like
	// acr-cli's purge, this takes only last from the Link and builds the
	// next request itself.
	t.Run("purge deletes the cursor's tag", func(t *testing.T) {
		s := newServer(t)
		for _, tag := range []string{"t1", "t2", "t3", "t4", "t5", "t6"} {
			s.push("purge", tag, tag)
		}
		var seen []string
		path := "/acr/v1/purge/_tags?n=2&orderby=timedesc"
		for path != "" {
			resp := s.get(path)
			b := s.json(req{path: path}, http.StatusOK)
			page := names(t, b, "tags", "name")
			seen = append(seen, page...)
			for _, tag := range page {
				if r := s.do(req{method: http.MethodDelete, path: "/acr/v1/purge/_tags/" + tag}); r.status != http.StatusAccepted {
					t.Fatalf("delete %s: %d %s", tag, r.status, r.body)
				}
			}
			path = ""
			if m := linkRE.FindStringSubmatch(resp.header.Get("Link")); m != nil {
				_, query, _ := strings.Cut(m[1], "?")
				v, err := url.ParseQuery(query)
				if err != nil {
					t.Fatalf("Link query %q: %v", query, err)
				}
				path = "/acr/v1/purge/_tags?n=2&orderby=timedesc&last=" + url.QueryEscape(v.Get("last"))
			}
		}
		if got := strings.Join(seen, ","); got != "t6,t5,t4,t3,t2,t1" {
			t.Errorf("purge saw %s, want every tag once, newest first", got)
		}
	})

	t.Run("cursor tag moved meanwhile", func(t *testing.T) {
		s := newServer(t)
		for _, tag := range []string{"t1", "t2", "t3", "t4"} {
			s.push("moved", tag, tag)
		}
		resp := s.get("/acr/v1/moved/_tags?n=2&orderby=timedesc")
		m := linkRE.FindStringSubmatch(resp.header.Get("Link"))
		if m == nil {
			t.Fatalf("no Link on the first page")
		}
		s.push("moved", "t3", "t3-again") // t3 ends the first page; now it is the newest
		b := s.json(req{path: m[1]}, http.StatusOK)
		if got := strings.Join(names(t, b, "tags", "name"), ","); got != "t2,t1" {
			t.Errorf("second page %s, want t2,t1", got)
		}
	})
}
