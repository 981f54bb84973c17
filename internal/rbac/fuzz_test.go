package rbac_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/rbac"
)

// FuzzParseScopes checks that ParseScopes never panics, that what it
// accepts is well formed, and that its output, written back as scope
// strings, parses to the same thing. A "\x00" in the input splits it into
// separate parameters.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{
		"repository:a:pull", "repository:samples/hello:pull,push", "registry:catalog:*",
		"repository:a:pull repository:a:push,*\x00repository:b:metadata_read,metadata_write",
		"", " ", ":", "::", "repository::", "repository:a:", "repository:a:pull,,push", "repository:A:pull",
		"repository:localhost:5000/a:pull", "registry:catalog:pull", "image:a:pull", "repository(plugin):a:pull",
		"repository:a:pull\trepository:b:push", "repository:a/b/c:delete,delete",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := rbac.ParseScopes(strings.Split(s, "\x00"))
		if err != nil {
			if !errors.Is(err, rbac.ErrInvalid) || got != nil {
				t.Fatalf("ParseScopes(%q) = %+v, %v: an error must match ErrInvalid and come alone", s, got, err)
			}
			return
		}
		var joined []string
		seen := map[string]bool{}
		for _, a := range got {
			key := a.Type + ":" + a.Name
			if seen[key] {
				t.Fatalf("ParseScopes(%q): %s appears twice", s, key)
			}
			seen[key] = true
			switch a.Type {
			case "repository":
				if !oci.ValidName(a.Name) {
					t.Fatalf("ParseScopes(%q): accepted repository name %q", s, a.Name)
				}
			case "registry":
				if a.Name != "catalog" || !slices.Equal(a.Actions, []string{"*"}) {
					t.Fatalf("ParseScopes(%q): accepted %s", s, a)
				}
			default:
				t.Fatalf("ParseScopes(%q): accepted type %q", s, a.Type)
			}
			if len(a.Actions) == 0 {
				t.Fatalf("ParseScopes(%q): %s has no actions", s, key)
			}
			for i, act := range a.Actions {
				if act == "" || slices.Contains(a.Actions[:i], act) {
					t.Fatalf("ParseScopes(%q): actions %q", s, a.Actions)
				}
			}
			joined = append(joined, a.String())
		}
		again, err := rbac.ParseScopes([]string{strings.Join(joined, " ")})
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("ParseScopes(%q) = %+v, but its strings %q parse to %+v, %v", s, got, joined, again, err)
		}
		// Granting everything keeps every entry, with * expanded.
		all := rbac.Intersect(got, func(rbac.Access, string) bool { return true })
		if len(all) != len(got) {
			t.Fatalf("Intersect granting everything kept %d of %d entries", len(all), len(got))
		}
	})
}
