package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-project/berth/pkg/client"
)

// TestMetadataPaging follows the Link header page by page, sends registry
// credentials (never the identity token), escapes names and stops at Top.
func TestMetadataPaging(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.RequestURI())
		if user, pass, ok := r.BasicAuth(); !ok || user != client.NullUser || pass != "refresh-1" {
			t.Errorf("%s: Authorization %q, want the null user with the refresh token", r.URL, r.Header.Get("Authorization"))
		}
		switch r.URL.RequestURI() {
		case "/acr/v1/lib/my%20app/_tags?n=100&orderby=timedesc":
			w.Header().Set("Link", `</acr/v1/lib/my%20app/_tags?last=1~b&n=100&orderby=timedesc>; rel="next"`)
			w.Write([]byte(`{"tags":[{"name":"a"},{"name":"b"}]}`))
		case "/acr/v1/lib/my%20app/_tags?last=1~b&n=100&orderby=timedesc":
			w.Header().Set("Link", `</acr/v1/lib/my%20app/_tags?last=2~c&n=100&orderby=timedesc>; rel="next"`)
			w.Write([]byte(`{"tags":[{"name":"c"}]}`))
		case "/acr/v1/lib/my%20app/_tags?last=2~c&n=100&orderby=timedesc":
			w.Write([]byte(`{"registry":"x","imageName":"lib/my app"}`))
		case "/acr/v1/lib/my%20app/_manifests?n=1":
			w.Header().Set("Link", `</acr/v1/lib/my%20app/_manifests?last=sha256:a&n=1>; rel="next"`)
			w.Write([]byte(`{"manifests":[{"digest":"sha256:a"}]}`))
		case "/acr/v1/lib/app/_tags/v1":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"errors":[{"code":"DENIED","message":"the operation is disallowed on tag lib/app:v1: deleteEnabled is false"}]}`))
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.RequestURI())
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithTokenSource(client.StaticToken("identity")))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Metadata(strings.TrimPrefix(srv.URL, "http://"), "refresh-1")
	ctx := context.Background()

	tags, err := m.Tags(ctx, "lib/my app", client.ListQuery{OrderBy: "timedesc"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tag := range tags {
		names = append(names, tag.Name)
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "c"}) {
		t.Errorf("tags %v, want a b c from three pages", names)
	}

	mans, err := m.Manifests(ctx, "lib/my app", client.ListQuery{Top: 1})
	if err != nil || len(mans) != 1 || mans[0].Digest != "sha256:a" {
		t.Errorf("manifests %v, %v; want sha256:a alone, without reading the next page", mans, err)
	}

	err = m.DeleteTag(ctx, "lib/app", "v1")
	ce, ok := client.AsError(err)
	if !ok || ce.Status != http.StatusForbidden || ce.Code != "DENIED" || !strings.Contains(ce.Message, "deleteEnabled is false") {
		t.Errorf("delete: %#v, want the registry's 403 DENIED", err)
	}
	if len(seen) != 5 {
		t.Errorf("requests %v, want 5", seen)
	}
}
