package rbac

import (
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/oci"
)

// Token scope vocabulary: "repository:<name>:<actions>" and the one registry
// scope, "registry:catalog:*".
const (
	TypeRepository = "repository"
	TypeRegistry   = "registry"
	CatalogName    = "catalog"
	// ActionAll asks for pull, push and delete on a repository, and is the
	// only action of the catalog scope.
	ActionAll = "*"
)

// repositoryActions are the actions a repository scope may ask for: the
// Docker ones, and the metadata ones the /acr/v1 API needs.
var repositoryActions = []string{ActionPull, ActionPush, ActionDelete, ActionMetadataRead, ActionMetadataWrite, ActionAll}

// allExpands is what ActionAll asks for on a repository: the Docker meaning
// of "*". The metadata actions must be asked for by name.
var allExpands = []string{ActionPull, ActionPush, ActionDelete}

// Access is one entry of a registry access token's "access" claim, in the
// Docker token format, and one parsed "scope" of a token request.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// String returns the scope string ParseScopes reads.
func (a Access) String() string {
	return a.Type + ":" + a.Name + ":" + strings.Join(a.Actions, ",")
}

// ParseScopes reads the "scope" parameters of a token request: each may be
// given several times and each value may hold several scopes joined by
// spaces. Scopes naming the same resource are merged, actions keep the
// order they were first asked in, and no action appears twice. No scope at
// all (a login) is nil, not an error.
//
// A repository scope is "repository:<name>:<actions>", with a name that
// follows the OCI grammar and actions among pull, push, delete,
// metadata_read, metadata_write and *; the only registry scope is
// "registry:catalog:*". Anything else is an error matching ErrInvalid.
func ParseScopes(params []string) ([]Access, error) {
	var out []Access
	for _, p := range params {
		for _, s := range strings.Fields(p) {
			a, err := parseScope(s)
			if err != nil {
				return nil, err
			}
			out = merge(out, a)
		}
	}
	return out, nil
}

func parseScope(s string) (Access, error) {
	typ, rest, ok := strings.Cut(s, ":")
	i := strings.LastIndexByte(rest, ':')
	if !ok || i < 0 {
		return Access{}, invalid("invalid scope %q: want <type>:<name>:<actions>, such as repository:samples/hello:pull,push", s)
	}
	a := Access{Type: typ, Name: rest[:i]}
	acts := rest[i+1:]
	if typ == "" || a.Name == "" || acts == "" {
		return Access{}, invalid("invalid scope %q: type, name and actions must not be empty", s)
	}
	switch typ {
	case TypeRepository:
		if !oci.ValidName(a.Name) {
			return Access{}, invalid("invalid scope %q: repository name %q does not follow the OCI name grammar", s, a.Name)
		}
		for act := range strings.SplitSeq(acts, ",") {
			if act == "" {
				return Access{}, invalid("invalid scope %q: empty action", s)
			}
			if !slices.Contains(repositoryActions, act) {
				return Access{}, invalid("invalid scope %q: unknown action %q: valid actions are %s", s, act, strings.Join(repositoryActions, ", "))
			}
			if !slices.Contains(a.Actions, act) {
				a.Actions = append(a.Actions, act)
			}
		}
	case TypeRegistry:
		if a.Name != CatalogName || acts != ActionAll {
			return Access{}, invalid("invalid scope %q: the only registry scope is registry:catalog:*", s)
		}
		a.Actions = []string{ActionAll}
	default:
		return Access{}, invalid("invalid scope %q: unknown resource type %q: want repository or registry", s, typ)
	}
	return a, nil
}

// merge adds a to list, into the entry for the same resource if there is
// one. It never changes a's or list's Actions in place.
func merge(list []Access, a Access) []Access {
	for i, x := range list {
		if x.Type == a.Type && x.Name == a.Name {
			acts := slices.Clone(x.Actions)
			for _, act := range a.Actions {
				if !slices.Contains(acts, act) {
					acts = append(acts, act)
				}
			}
			list[i].Actions = acts
			return list
		}
	}
	var acts []string
	for _, act := range a.Actions {
		if !slices.Contains(acts, act) {
			acts = append(acts, act)
		}
	}
	return append(list, Access{Type: a.Type, Name: a.Name, Actions: acts})
}

// Intersect keeps, of what was requested, the actions can allows. It is
// how the token service answers a request for more than a principal may
// have: with less, never with an error. "*" on a repository is asked as
// pull, push and delete, and granted as those of them can allows; the
// catalog's "*" is asked as is. Entries for the same resource are merged,
// entries left with no action are dropped, and order is kept. Nothing
// granted is an empty list, which marshals as [].
func Intersect(requested []Access, can func(a Access, action string) bool) []Access {
	var merged []Access
	for _, a := range requested {
		merged = merge(merged, a)
	}
	out := []Access{}
	for _, a := range merged {
		var granted []string
		for _, act := range a.Actions {
			asked := []string{act}
			if act == ActionAll && a.Type == TypeRepository {
				asked = allExpands
			}
			for _, x := range asked {
				if !slices.Contains(granted, x) && can(a, x) {
					granted = append(granted, x)
				}
			}
		}
		if len(granted) > 0 {
			out = append(out, Access{Type: a.Type, Name: a.Name, Actions: granted})
		}
	}
	return out
}

// Covers reports whether a token's access claims allow action (ActionPull,
// …) on repository repo. A "*" claim, which berth does not issue but other
// issuers may, means pull, push and delete.
func Covers(accesses []Access, repo, action string) bool {
	if repo == "" || action == "" {
		return false
	}
	for _, a := range accesses {
		if a.Type != TypeRepository || a.Name != repo {
			continue
		}
		for _, act := range a.Actions {
			if act == action || act == ActionAll && slices.Contains(allExpands, action) {
				return true
			}
		}
	}
	return false
}

// CoversCatalog reports whether a token's access claims allow listing the
// catalog: they hold registry:catalog:*.
func CoversCatalog(accesses []Access) bool {
	for _, a := range accesses {
		if a.Type == TypeRegistry && a.Name == CatalogName && slices.Contains(a.Actions, ActionAll) {
			return true
		}
	}
	return false
}
