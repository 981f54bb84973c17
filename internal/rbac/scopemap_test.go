package rbac_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/rbac"
)

func TestParseScopeMapAction(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    rbac.ScopeMapAction
		wantErr string
	}{
		{in: "repositories/hello/content/read", want: rbac.ScopeMapAction{Repository: "hello", Action: rbac.ContentRead}},
		{in: "repositories/samples/hello-world/content/write", want: rbac.ScopeMapAction{Repository: "samples/hello-world", Action: rbac.ContentWrite}},
		{in: "repositories/samples/*/content/delete", want: rbac.ScopeMapAction{Repository: "samples/*", Action: rbac.ContentDelete}},
		{in: "repositories/*/metadata/read", want: rbac.ScopeMapAction{Repository: "*", Action: rbac.MetadataRead}},
		{in: "repositories/a/b/c/*/metadata/write", want: rbac.ScopeMapAction{Repository: "a/b/c/*", Action: rbac.MetadataWrite}},
		// A repository may be named like an action.
		{in: "repositories/content/read/content/read", want: rbac.ScopeMapAction{Repository: "content/read", Action: rbac.ContentRead}},
		{in: "", wantErr: `invalid scope map action "": want repositories/<repository, prefix/* or *>/<action>`},
		{in: "repository/hello/content/read", wantErr: `invalid scope map action "repository/hello/content/read": want repositories/`},
		{in: "repositories/hello/content/rea", wantErr: `it must end in one of content/read, content/write, content/delete, metadata/read, metadata/write`},
		{in: "repositories/hello/pull", wantErr: `"repositories/hello/pull": it must end in one of`},
		{in: "repositories/hello", wantErr: `it must end in one of`},
		{in: "repositories/content/read", wantErr: `it must end in one of`},
		{in: "repositories//content/read", wantErr: `repository "" must be an OCI repository name, a prefix ending in /* or *`},
		{in: "repositories/Hello/content/read", wantErr: `repository "Hello" must be an OCI repository name, a prefix ending in /* or *`},
		{in: "repositories/samples*/content/read", wantErr: `repository "samples*" must be`},
		{in: "repositories/*/x/content/read", wantErr: `repository "*/x" must be`},
		{in: "repositories/Samples/*/content/read", wantErr: `repository prefix "Samples" does not follow the OCI name grammar`},
		{in: "repositories//*/content/read", wantErr: `repository prefix "" does not follow`},
		{in: "repositories/*/*/content/read", wantErr: `repository prefix "*" does not follow`},
	} {
		got, err := rbac.ParseScopeMapAction(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, rbac.ErrInvalid) {
				t.Errorf("ParseScopeMapAction(%q) = %+v, %v; want an ErrInvalid containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseScopeMapAction(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.in {
			t.Errorf("ParseScopeMapAction(%q).String() = %q: does not round-trip", tc.in, got)
		}
	}
}

func TestRepositoryActions(t *testing.T) {
	for _, tc := range []struct {
		repo    string
		actions []string
		want    []rbac.ScopeMapAction
		wantErr string
	}{
		{repo: "samples/hello", actions: []string{"content/write", "content/read"}, want: []rbac.ScopeMapAction{
			{Repository: "samples/hello", Action: rbac.ContentWrite}, {Repository: "samples/hello", Action: rbac.ContentRead},
		}},
		{repo: "samples/*", actions: []string{"metadata/read", "metadata/read"}, want: []rbac.ScopeMapAction{
			{Repository: "samples/*", Action: rbac.MetadataRead},
		}},
		{repo: "*", actions: []string{"content/delete"}, want: []rbac.ScopeMapAction{{Repository: "*", Action: rbac.ContentDelete}}},
		{repo: "samples/hello", wantErr: `invalid --repository "samples/hello": give at least one action of content/read,`},
		{repo: "samples/hello", actions: []string{"content/read", "pull"}, wantErr: `invalid --repository "samples/hello": unknown action "pull": valid actions are content/read, content/write, content/delete, metadata/read, metadata/write`},
		{repo: "Samples", actions: []string{"content/read"}, wantErr: `invalid --repository "Samples": repository "Samples" must be an OCI repository name`},
		{repo: "", actions: []string{"content/read"}, wantErr: `invalid --repository "": repository ""`},
	} {
		got, err := rbac.RepositoryActions(tc.repo, tc.actions...)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, rbac.ErrInvalid) {
				t.Errorf("RepositoryActions(%q, %q) = %+v, %v; want an ErrInvalid containing %q", tc.repo, tc.actions, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("RepositoryActions(%q, %q) = %+v, %v; want %+v", tc.repo, tc.actions, got, err, tc.want)
		}
	}
}

func TestSystemScopeMaps(t *testing.T) {
	all := func(actions ...string) []string {
		var out []string
		for _, a := range actions {
			out = append(out, "repositories/*/"+a)
		}
		return out
	}
	want := map[string][]string{
		"_repositories_pull":  all("content/read", "metadata/read"),
		"_repositories_push":  all("content/read", "content/write", "metadata/read", "metadata/write"),
		"_repositories_admin": all("content/read", "content/write", "content/delete", "metadata/read", "metadata/write"),
	}
	maps := rbac.SystemScopeMaps()
	if len(maps) != len(want) {
		t.Fatalf("%d system scope maps, want %d", len(maps), len(want))
	}
	for name, w := range want {
		var got []string
		for _, a := range maps[name] {
			// Each entry must be what its string form parses to.
			if p, err := rbac.ParseScopeMapAction(a.String()); err != nil || p != a {
				t.Errorf("%s: entry %+v does not parse back: %+v, %v", name, a, p, err)
			}
			got = append(got, a.String())
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
	maps[rbac.ScopeMapPull][0].Action = rbac.ContentDelete
	if rbac.SystemScopeMaps()[rbac.ScopeMapPull][0].Action != rbac.ContentRead {
		t.Error("changing the returned map changed the system scope maps")
	}

	// What each grants, on any repository.
	for _, tc := range []struct {
		name                                  string
		read, write, del, metaRead, metaWrite bool
	}{
		{rbac.ScopeMapPull, true, false, false, true, false},
		{rbac.ScopeMapPush, true, true, false, true, true},
		{rbac.ScopeMapAdmin, true, true, true, true, true},
	} {
		m := rbac.SystemScopeMaps()[tc.name]
		for action, want := range map[string]bool{
			rbac.ContentRead: tc.read, rbac.ContentWrite: tc.write, rbac.ContentDelete: tc.del,
			rbac.MetadataRead: tc.metaRead, rbac.MetadataWrite: tc.metaWrite,
		} {
			for _, repo := range []string{"x", "deep/ly/nested"} {
				if got := rbac.ScopeMapAllows(m, repo, action); got != want {
					t.Errorf("%s allows %s on %s = %v, want %v", tc.name, action, repo, got, want)
				}
			}
		}
		if !rbac.ScopeMapAllowsCatalog(m) {
			t.Errorf("%s covers * and must list the catalog", tc.name)
		}
	}
}

func TestScopeMapAllows(t *testing.T) {
	m := []rbac.ScopeMapAction{
		{Repository: "a/b", Action: rbac.ContentRead},
		{Repository: "prefix/*", Action: rbac.ContentWrite},
		{Repository: "solo", Action: rbac.MetadataRead},
	}
	for _, tc := range []struct {
		repo, action string
		want         bool
	}{
		{"a/b", rbac.ContentRead, true},
		{"a/b", rbac.ContentWrite, false},
		{"a/bc", rbac.ContentRead, false},
		{"a/b/c", rbac.ContentRead, false},
		{"a", rbac.ContentRead, false},
		{"prefix/x", rbac.ContentWrite, true},
		{"prefix/x/y", rbac.ContentWrite, true},
		{"prefix/x", rbac.ContentRead, false},
		{"prefix", rbac.ContentWrite, false},
		{"prefixx", rbac.ContentWrite, false},
		{"prefixx/y", rbac.ContentWrite, false},
		{"other/prefix/x", rbac.ContentWrite, false},
		{"prefix/", rbac.ContentWrite, false},
		{"solo", rbac.MetadataRead, true},
		{"solo", "metadata_read", false}, // the token spelling is not a scope map action
		{"", rbac.ContentRead, false},
	} {
		if got := rbac.ScopeMapAllows(m, tc.repo, tc.action); got != tc.want {
			t.Errorf("ScopeMapAllows(%q, %q) = %v, want %v", tc.repo, tc.action, got, tc.want)
		}
	}
	star := []rbac.ScopeMapAction{{Repository: "*", Action: rbac.ContentRead}}
	if !rbac.ScopeMapAllows(star, "any/thing", rbac.ContentRead) || rbac.ScopeMapAllows(star, "", rbac.ContentRead) {
		t.Error(`"*" must match every repository name and not the empty one`)
	}
}

func TestScopeMapAllowsCatalog(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    []rbac.ScopeMapAction
		want bool
	}{
		{"empty map", nil, false},
		{"one repository", []rbac.ScopeMapAction{{Repository: "a", Action: rbac.ContentRead}}, false},
		{"a prefix", []rbac.ScopeMapAction{{Repository: "samples/*", Action: rbac.MetadataRead}}, false},
		{"* with any action", []rbac.ScopeMapAction{{Repository: "a", Action: rbac.ContentRead}, {Repository: "*", Action: rbac.ContentDelete}}, true},
		{"* metadata read", []rbac.ScopeMapAction{{Repository: "*", Action: rbac.MetadataRead}}, true},
	} {
		if got := rbac.ScopeMapAllowsCatalog(tc.m); got != tc.want {
			t.Errorf("%s: ScopeMapAllowsCatalog = %v, want %v", tc.name, got, tc.want)
		}
	}
}
