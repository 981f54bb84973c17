package rbac

import (
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/oci"
)

// The actions a scope map grants on repositories, as scope maps spell them.
const (
	ContentRead   = "content/read"
	ContentWrite  = "content/write"
	ContentDelete = "content/delete"
	MetadataRead  = "metadata/read"
	MetadataWrite = "metadata/write"
)

var scopeMapActions = []string{ContentRead, ContentWrite, ContentDelete, MetadataRead, MetadataWrite}

// The system scope maps every registry has.
const (
	ScopeMapPull  = "_repositories_pull"
	ScopeMapPush  = "_repositories_push"
	ScopeMapAdmin = "_repositories_admin"
)

// SystemScopeMaps returns the system scope maps by name. The map and its
// slices are new on every call: callers may keep or change them.
func SystemScopeMaps() map[string][]ScopeMapAction {
	all := func(actions ...string) []ScopeMapAction {
		out := make([]ScopeMapAction, len(actions))
		for i, a := range actions {
			out[i] = ScopeMapAction{Repository: "*", Action: a}
		}
		return out
	}
	return map[string][]ScopeMapAction{
		ScopeMapPull:  all(ContentRead, MetadataRead),
		ScopeMapPush:  all(ContentRead, ContentWrite, MetadataRead, MetadataWrite),
		ScopeMapAdmin: all(ContentRead, ContentWrite, ContentDelete, MetadataRead, MetadataWrite),
	}
}

// ScopeMapAction is one entry of a scope map: an action on the repositories
// a pattern names. The pattern is a repository name ("samples/hello"), a
// prefix ("samples/*": every repository under samples/, not samples
// itself) or "*" (every repository).
type ScopeMapAction struct {
	Repository string `json:"repository"`
	Action     string `json:"action"`
}

// ParseScopeMapAction reads "repositories/<pattern>/<action>", the form
// scope maps are stored and shown in.
func ParseScopeMapAction(s string) (ScopeMapAction, error) {
	rest, ok := strings.CutPrefix(s, "repositories/")
	if !ok {
		return ScopeMapAction{}, invalid("invalid scope map action %q: want repositories/<repository, prefix/* or *>/<action>", s)
	}
	for _, a := range scopeMapActions {
		if pattern, ok := strings.CutSuffix(rest, "/"+a); ok {
			if err := checkPattern(pattern); err != nil {
				return ScopeMapAction{}, invalid("invalid scope map action %q: %v", s, err)
			}
			return ScopeMapAction{Repository: pattern, Action: a}, nil
		}
	}
	return ScopeMapAction{}, invalid("invalid scope map action %q: it must end in one of %s", s, strings.Join(scopeMapActions, ", "))
}

// String returns the form ParseScopeMapAction reads.
func (a ScopeMapAction) String() string { return "repositories/" + a.Repository + "/" + a.Action }

// RepositoryActions builds scope map entries from the CLI's form
// "--repository <pattern> <action>...": one entry per action, duplicates
// dropped, in the order given.
func RepositoryActions(pattern string, actions ...string) ([]ScopeMapAction, error) {
	if err := checkPattern(pattern); err != nil {
		return nil, invalid("invalid --repository %q: %v", pattern, err)
	}
	if len(actions) == 0 {
		return nil, invalid("invalid --repository %q: give at least one action of %s", pattern, strings.Join(scopeMapActions, ", "))
	}
	var out []ScopeMapAction
	for _, a := range actions {
		if !slices.Contains(scopeMapActions, a) {
			return nil, invalid("invalid --repository %q: unknown action %q: valid actions are %s", pattern, a, strings.Join(scopeMapActions, ", "))
		}
		e := ScopeMapAction{Repository: pattern, Action: a}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func checkPattern(p string) error {
	if p == "*" {
		return nil
	}
	name, prefix := strings.CutSuffix(p, "/*")
	if oci.ValidName(name) {
		return nil
	}
	if prefix {
		return invalid("repository prefix %q does not follow the OCI name grammar", name)
	}
	return invalid("repository %q must be an OCI repository name, a prefix ending in /* or *", p)
}

// matches reports whether a scope map pattern names repository repo.
func matches(pattern, repo string) bool {
	if repo == "" {
		return false
	}
	if pattern == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/*"); ok {
		rest, ok := strings.CutPrefix(repo, prefix+"/")
		return ok && rest != ""
	}
	return pattern == repo
}

// ScopeMapAllows reports whether a scope map grants action (ContentRead, …)
// on repository repo.
func ScopeMapAllows(actions []ScopeMapAction, repo, action string) bool {
	for _, a := range actions {
		if a.Action == action && matches(a.Repository, repo) {
			return true
		}
	}
	return false
}

// ScopeMapAllowsCatalog reports whether a scope map may list the registry's
// catalog. The rule: it may when one of its entries names every repository
// ("*"), whatever the action. The catalog lists every repository name and
// is not filtered, so only a map that already reaches every repository may
// read it; a map on "samples/*" may not, even though it reaches some.
func ScopeMapAllowsCatalog(actions []ScopeMapAction) bool {
	for _, a := range actions {
		if a.Repository == "*" {
			return true
		}
	}
	return false
}
