package rbac_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/rbac"
)

func repo(name string, actions ...string) rbac.Access {
	return rbac.Access{Type: "repository", Name: name, Actions: actions}
}

var catalog = rbac.Access{Type: "registry", Name: "catalog", Actions: []string{"*"}}

func TestParseScopes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    []rbac.Access
		wantErr string
	}{
		{name: "none", in: nil, want: nil},
		{name: "empty parameter", in: []string{"", "  "}, want: nil},
		{name: "one", in: []string{"repository:hello:pull"}, want: []rbac.Access{repo("hello", "pull")}},
		{name: "several actions", in: []string{"repository:samples/hello:pull,push"}, want: []rbac.Access{repo("samples/hello", "pull", "push")}},
		{name: "every action", in: []string{"repository:a:pull,push,delete,metadata_read,metadata_write,*"}, want: []rbac.Access{
			repo("a", "pull", "push", "delete", "metadata_read", "metadata_write", "*"),
		}},
		{name: "repeated", in: []string{"repository:a:pull", "repository:b:push"}, want: []rbac.Access{repo("a", "pull"), repo("b", "push")}},
		{name: "space-joined", in: []string{"repository:a:pull registry:catalog:* repository:b:push"}, want: []rbac.Access{
			repo("a", "pull"), catalog, repo("b", "push"),
		}},
		{name: "both forms and extra spaces", in: []string{" repository:a:pull  repository:b:pull", "repository:c:delete"}, want: []rbac.Access{
			repo("a", "pull"), repo("b", "pull"), repo("c", "delete"),
		}},
		{name: "duplicates merged in first-seen order", in: []string{"repository:a:push repository:b:pull", "repository:a:pull,push", "registry:catalog:* registry:catalog:*"}, want: []rbac.Access{
			repo("a", "push", "pull"), repo("b", "pull"), catalog,
		}},
		{name: "repeated action", in: []string{"repository:a:pull,pull"}, want: []rbac.Access{repo("a", "pull")}},
		{name: "empty type", in: []string{":a:pull"}, wantErr: `invalid scope ":a:pull": type, name and actions must not be empty`},
		{name: "empty name", in: []string{"repository::pull"}, wantErr: `invalid scope "repository::pull": type, name and actions must not be empty`},
		{name: "empty actions", in: []string{"repository:a:"}, wantErr: `invalid scope "repository:a:": type, name and actions must not be empty`},
		{name: "empty action", in: []string{"repository:a:pull,,push"}, wantErr: `invalid scope "repository:a:pull,,push": empty action`},
		{name: "trailing comma", in: []string{"repository:a:pull,"}, wantErr: `empty action`},
		{name: "two parts", in: []string{"repository:a"}, wantErr: `invalid scope "repository:a": want <type>:<name>:<actions>`},
		{name: "one part", in: []string{"pull"}, wantErr: `invalid scope "pull": want <type>:<name>:<actions>`},
		{name: "bad name", in: []string{"repository:Hello:pull"}, wantErr: `invalid scope "repository:Hello:pull": repository name "Hello" does not follow the OCI name grammar`},
		{name: "host in name", in: []string{"repository:localhost:5000/a:pull"}, wantErr: `repository name "localhost:5000/a" does not follow`},
		{name: "wildcard name", in: []string{"repository:*:pull"}, wantErr: `repository name "*" does not follow`},
		{name: "unknown action", in: []string{"repository:a:pull,mount"}, wantErr: `invalid scope "repository:a:pull,mount": unknown action "mount": valid actions are pull, push, delete, metadata_read, metadata_write, *`},
		{name: "unknown type", in: []string{"image:a:pull"}, wantErr: `invalid scope "image:a:pull": unknown resource type "image": want repository or registry`},
		{name: "resource class", in: []string{"repository(plugin):a:pull"}, wantErr: `unknown resource type "repository(plugin)"`},
		{name: "registry other than catalog", in: []string{"registry:other:*"}, wantErr: `invalid scope "registry:other:*": the only registry scope is registry:catalog:*`},
		{name: "catalog with pull", in: []string{"registry:catalog:pull"}, wantErr: `the only registry scope is registry:catalog:*`},
		{name: "one bad among good", in: []string{"repository:a:pull", "repository:b:pull repository:c"}, wantErr: `invalid scope "repository:c"`},
	} {
		got, err := rbac.ParseScopes(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, rbac.ErrInvalid) {
				t.Errorf("%s: ParseScopes(%q) = %+v, %v; want an ErrInvalid containing %q", tc.name, tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ParseScopes(%q) = %+v, %v; want %+v", tc.name, tc.in, got, err, tc.want)
		}
	}
}

func TestAccessString(t *testing.T) {
	if got := repo("a/b", "pull", "push").String(); got != "repository:a/b:pull,push" {
		t.Errorf("String() = %q", got)
	}
	if got := catalog.String(); got != "registry:catalog:*" {
		t.Errorf("String() = %q", got)
	}
}

// allow returns a can func granting exactly the given "name:action" pairs,
// and records every question asked.
func allow(pairs ...string) (func(rbac.Access, string) bool, *[]string) {
	var asked []string
	return func(a rbac.Access, action string) bool {
		asked = append(asked, a.Name+":"+action)
		for _, p := range pairs {
			if p == a.Name+":"+action {
				return true
			}
		}
		return false
	}, &asked
}

func TestIntersect(t *testing.T) {
	for _, tc := range []struct {
		name      string
		requested []rbac.Access
		granted   []string
		want      []rbac.Access
	}{
		{"all granted", []rbac.Access{repo("a", "pull", "push")}, []string{"a:pull", "a:push"}, []rbac.Access{repo("a", "pull", "push")}},
		{"asked more than granted", []rbac.Access{repo("a", "pull", "push", "delete")}, []string{"a:pull"}, []rbac.Access{repo("a", "pull")}},
		{"granted more than asked", []rbac.Access{repo("a", "pull")}, []string{"a:pull", "a:push"}, []rbac.Access{repo("a", "pull")}},
		{"nothing granted", []rbac.Access{repo("a", "pull"), catalog}, nil, []rbac.Access{}},
		{"nothing asked", nil, []string{"a:pull"}, []rbac.Access{}},
		{"entry left empty is dropped, order kept", []rbac.Access{repo("c", "pull"), repo("a", "pull"), repo("b", "push")}, []string{"c:pull", "b:push"}, []rbac.Access{repo("c", "pull"), repo("b", "push")}},
		{"wildcard expands to what is allowed", []rbac.Access{repo("a", "*")}, []string{"a:pull", "a:delete"}, []rbac.Access{repo("a", "pull", "delete")}},
		{"wildcard all allowed", []rbac.Access{repo("a", "*")}, []string{"a:pull", "a:push", "a:delete"}, []rbac.Access{repo("a", "pull", "push", "delete")}},
		{"wildcard is not metadata", []rbac.Access{repo("a", "*")}, []string{"a:metadata_read"}, []rbac.Access{}},
		{"wildcard and named action, no repeat", []rbac.Access{repo("a", "push", "*", "pull")}, []string{"a:pull", "a:push"}, []rbac.Access{repo("a", "push", "pull")}},
		{"metadata actions", []rbac.Access{repo("a", "metadata_read", "metadata_write")}, []string{"a:metadata_read"}, []rbac.Access{repo("a", "metadata_read")}},
		{"duplicates merged", []rbac.Access{repo("a", "pull"), repo("b", "pull"), repo("a", "push", "pull")}, []string{"a:pull", "a:push", "b:pull"}, []rbac.Access{repo("a", "pull", "push"), repo("b", "pull")}},
		{"catalog granted", []rbac.Access{catalog, repo("a", "pull")}, []string{"catalog:*"}, []rbac.Access{catalog}},
	} {
		can, _ := allow(tc.granted...)
		got := rbac.Intersect(tc.requested, can)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Intersect = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestIntersectEmptyMarshalsAsList(t *testing.T) {
	can, _ := allow()
	b, err := json.Marshal(rbac.Intersect([]rbac.Access{repo("a", "pull")}, can))
	if err != nil || string(b) != "[]" {
		t.Fatalf("nothing granted marshals as %s, %v; want []", b, err)
	}
}

func TestIntersectLeavesRequestAlone(t *testing.T) {
	requested := []rbac.Access{repo("a", "pull"), repo("a", "push")}
	can, asked := allow("a:pull", "a:push")
	rbac.Intersect(requested, can)
	if !reflect.DeepEqual(requested, []rbac.Access{repo("a", "pull"), repo("a", "push")}) {
		t.Errorf("Intersect changed its input: %+v", requested)
	}
	if want := []string{"a:pull", "a:push"}; !reflect.DeepEqual(*asked, want) {
		t.Errorf("can was asked %q, want %q", *asked, want)
	}
}

func TestCovers(t *testing.T) {
	claims := []rbac.Access{repo("a/b", "pull", "metadata_read"), repo("c", "*"), catalog}
	for _, tc := range []struct {
		repo, action string
		want         bool
	}{
		{"a/b", "pull", true},
		{"a/b", "metadata_read", true},
		{"a/b", "push", false},
		{"a/b", "metadata_write", false},
		{"a/bc", "pull", false},
		{"a", "pull", false},
		{"c", "pull", true},
		{"c", "push", true},
		{"c", "delete", true},
		{"c", "metadata_read", false},
		{"catalog", "*", false}, // the catalog claim is not a repository
		{"", "pull", false},
		{"a/b", "", false},
		{"a/b", "*", false},
	} {
		if got := rbac.Covers(claims, tc.repo, tc.action); got != tc.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tc.repo, tc.action, got, tc.want)
		}
	}
	if rbac.Covers(nil, "a/b", "pull") {
		t.Error("no claims cover something")
	}
}

func TestCoversCatalog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims []rbac.Access
		want   bool
	}{
		{"catalog claim", []rbac.Access{repo("a", "pull"), catalog}, true},
		{"no claims", nil, false},
		{"repository claims only", []rbac.Access{repo("a", "*")}, false},
		{"a repository named catalog", []rbac.Access{repo("catalog", "*")}, false},
		{"registry claim without *", []rbac.Access{{Type: "registry", Name: "catalog", Actions: []string{"pull"}}}, false},
	} {
		if got := rbac.CoversCatalog(tc.claims); got != tc.want {
			t.Errorf("%s: CoversCatalog = %v, want %v", tc.name, got, tc.want)
		}
	}
}
