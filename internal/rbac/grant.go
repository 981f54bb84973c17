package rbac

// The data-plane actions a Grant decides and token claims carry.
const (
	ActionPull          = "pull"           // GET/HEAD of manifests, blobs, tags, referrers
	ActionPush          = "push"           // PUT of manifests, blob uploads
	ActionDelete        = "delete"         // DELETE of manifests and blobs, /acr/v1 DELETE
	ActionMetadataRead  = "metadata_read"  // /acr/v1 GETs
	ActionMetadataWrite = "metadata_write" // /acr/v1 PATCH
)

// Grant is what a principal may do on the data plane, whatever kind of
// principal it is. The token service intersects requested scopes with a
// Grant (see GrantedBy).
type Grant interface {
	// Can reports whether action (ActionPull, …) is allowed on repository
	// repo of registry.
	Can(registry, repo, action string) bool
	// CanCatalog reports whether the registry's catalog may be listed.
	CanCatalog(registry string) bool
}

var (
	_ Grant = RoleGrant{}
	_ Grant = ScopeMapGrant{}
)

// roleNeeds maps a data-plane action to the permission a role must have.
// The metadata API reads what pull can already see, so metadata_read needs
// a pull-capable role (AcrPull, Reader, AcrPush, Contributor, Owner);
// metadata_write changes tags and locks, so it needs a push-capable role
// (AcrPush, Contributor, Owner).
var roleNeeds = map[string]Permission{
	ActionPull:          Pull,
	ActionPush:          Push,
	ActionDelete:        Delete,
	ActionMetadataRead:  Pull,
	ActionMetadataWrite: Push,
}

// RoleGrant is the Grant of a principal with role assignments: a user, a
// service principal or a managed identity.
type RoleGrant struct {
	Assignments []Assignment
}

// Can reports whether an assignment covering the repository has a role
// allowing action.
func (g RoleGrant) Can(registry, repo, action string) bool {
	need, ok := roleNeeds[action]
	return ok && registry != "" && repo != "" && Allowed(g.Assignments, registry, repo, need)
}

// CanCatalog reports whether a pull-capable role is assigned on the whole
// registry (or the tenant); a repository-scoped assignment does not let a
// principal list the other repositories' names.
func (g RoleGrant) CanCatalog(registry string) bool {
	return registry != "" && Allowed(g.Assignments, registry, "", Pull)
}

// mapNeeds maps a data-plane action to the scope map action it needs.
var mapNeeds = map[string]string{
	ActionPull:          ContentRead,
	ActionPush:          ContentWrite,
	ActionDelete:        ContentDelete,
	ActionMetadataRead:  MetadataRead,
	ActionMetadataWrite: MetadataWrite,
}

// ScopeMapGrant is the Grant of a registry token: its scope map's actions,
// on its own registry only.
type ScopeMapGrant struct {
	Registry string
	Actions  []ScopeMapAction
}

// Can reports whether the scope map grants action on repo.
func (g ScopeMapGrant) Can(registry, repo, action string) bool {
	need, ok := mapNeeds[action]
	return ok && registry != "" && registry == g.Registry && ScopeMapAllows(g.Actions, repo, need)
}

// CanCatalog applies the catalog rule of ScopeMapAllowsCatalog.
func (g ScopeMapGrant) CanCatalog(registry string) bool {
	return registry != "" && registry == g.Registry && ScopeMapAllowsCatalog(g.Actions)
}

// GrantedBy adapts a Grant on registry to Intersect:
//
//	access := rbac.Intersect(requested, rbac.GrantedBy(g, registry))
func GrantedBy(g Grant, registry string) func(a Access, action string) bool {
	return func(a Access, action string) bool {
		switch a.Type {
		case TypeRepository:
			return g.Can(registry, a.Name, action)
		case TypeRegistry:
			return a.Name == CatalogName && action == ActionAll && g.CanCatalog(registry)
		}
		return false
	}
}
