// Package mgmt is the management API under /api/ (docs/management-api.md):
// registries, users, service principals, managed identities, role
// assignments, scope maps, registry tokens, private endpoint connections,
// dedicated agent pools, and runs with their build contexts, as JSON
// resources. It owns the wire shapes of that API, who may call what (an
// identity token, then the caller's role assignments, checked in one
// place: authorize), and the one function that turns an error into
// {"error":{"code","message"}}.
//
// It must not know SQL or the data plane's protocol: it reads and writes
// through the metadata store's methods and the identity and registry
// services, and never answers in the OCI error format.
package mgmt

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/agentpool"
	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/importer"
	"github.com/berth-project/berth/internal/netrules"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/tasks"
	"github.com/berth-project/berth/internal/token"
)

// store is what the management API reads and writes of the metadata store.
type store interface {
	Principal(ctx context.Context, id string) (meta.Principal, error)
	PrincipalByName(ctx context.Context, kind, name string) (meta.Principal, error)
	Secrets(ctx context.Context, principalID string) ([]meta.Secret, error)
	RoleAssignments(ctx context.Context, principalID string) ([]meta.RoleAssignment, error)
	Registry(ctx context.Context, name string) (meta.Registry, error)
	AdminCredentials(ctx context.Context, registryID int64) (meta.AdminCredentials, error)
	ScopeMap(ctx context.Context, registryID int64, name string) (meta.ScopeMap, error)
	ScopeMaps(ctx context.Context, registryID int64) ([]meta.ScopeMap, error)
	RegistryToken(ctx context.Context, registryID int64, name string) (meta.RegistryToken, error)
	RegistryTokens(ctx context.Context, registryID int64) ([]meta.RegistryToken, error)
	PrivateEndpoints(ctx context.Context) ([]meta.PrivateEndpoint, error)
	RegistryPrivateEndpoints(ctx context.Context, registryID int64) ([]meta.PrivateEndpoint, error)
	PrivateEndpoint(ctx context.Context, registryID int64, name string) (meta.PrivateEndpoint, error)
	RegistryAgentPools(ctx context.Context, registryID int64) ([]meta.AgentPool, error)
	AgentPool(ctx context.Context, registryID int64, name string) (meta.AgentPool, error)
	NetworkDenials(ctx context.Context, registryID int64, since time.Time, n int) ([]meta.NetworkDenial, error)
	NetworkChanges(ctx context.Context, registryID int64, since time.Time, n int) ([]meta.NetworkChange, error)
	Update(ctx context.Context, fn func(tx *meta.Tx) error) error
}

var _ store = (*meta.DB)(nil)

// registries is what the management API needs of the registry service.
type registries interface {
	Registries(ctx context.Context) ([]registry.Registry, error)
	CreateRegistry(ctx context.Context, r registry.Registry, domain string) (registry.Registry, error)
	DeleteRegistry(ctx context.Context, reg int64) error
}

var _ registries = (*registry.Service)(nil)

// verifier checks identity tokens.
type verifier interface {
	Verify(tok string, want token.Kind, aud string) (token.Claims, error)
}

var _ verifier = (*token.Service)(nil)

// Options are what New wires together.
type Options struct {
	Store      *meta.DB
	Identity   *identity.Service
	Registries *registry.Service
	Tokens     *token.Service
	// Region is the location of a registry created without one.
	Region string
	// Domain makes <name>.<domain> a registry's default login server.
	Domain string
	// DefaultRegistry is the registry that cannot be deleted.
	DefaultRegistry string
	// RegistriesChanged is called after a registry was created or deleted,
	// so that the data plane routes its login server at once.
	RegistriesChanged func(ctx context.Context) error
	Log               *slog.Logger
	// Pools are the public agent pools, whose egress prefixes are the
	// service tags.
	Pools []netrules.Pool
	// Listeners is where private endpoints may listen.
	Listeners ListenerPolicy
	// Runs is the run queue and record.
	Runs *runs.Service
	// AgentPoolEgress is where dedicated agent pools without a private
	// endpoint get their egress addresses (default
	// agentpool.DefaultEgressPrefix).
	AgentPoolEgress netip.Prefix
	// Imports copies images into registries (nil: imports are refused).
	Imports *importer.Service
	// Tasks are the registries' stored tasks (nil: no tasks).
	Tasks *tasks.Service
}

// API serves /api/.
type API struct {
	db      store
	ids     *identity.Service
	regs    registries
	tokens  verifier
	region  string
	domain  string
	defName string
	changed func(ctx context.Context) error
	pools   []netrules.Pool
	// listeners is where private endpoints may listen.
	listeners ListenerPolicy
	runs      *runs.Service
	// poolEgress is where dedicated pools get their egress addresses.
	poolEgress netip.Prefix
	imports    *importer.Service
	tasks      *tasks.Service
	// changing serialises calls of changed: each reads the store after its
	// own change, and a slower earlier call must not store an older table.
	changing sync.Mutex
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
}

// maxBody bounds a request body: every call's body is a few hundred bytes.
const maxBody = 1 << 20

// New returns the management API.
func New(o Options) *API {
	a := &API{db: o.Store, ids: o.Identity, regs: o.Registries, tokens: o.Tokens,
		region: o.Region, domain: o.Domain, defName: o.DefaultRegistry, changed: o.RegistriesChanged,
		log: o.Log, now: time.Now, mux: http.NewServeMux(), pools: o.Pools, listeners: o.Listeners, runs: o.Runs,
		imports: o.Imports, tasks: o.Tasks}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.changed == nil {
		a.changed = func(context.Context) error { return nil }
	}
	if a.poolEgress = o.AgentPoolEgress; !a.poolEgress.IsValid() {
		a.poolEgress = agentpool.DefaultEgressPrefix
	}
	a.routes()
	return a
}

// handlerFunc is a management call: it answers, or returns an error for
// writeError. c is the authenticated caller.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *caller) error

func (a *API) routes() {
	a.mux.HandleFunc("GET /api/openapi.json", serveOpenAPI)
	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, a.log, notFound("there is no operation %s %s", r.Method, r.URL.Path))
	})
	for _, rt := range []struct {
		pattern string
		h       handlerFunc
	}{
		{"PUT /api/registries/{name}", a.createRegistry},
		{"GET /api/registries", a.listRegistries},
		{"GET /api/registries/{name}", a.showRegistry},
		{"PATCH /api/registries/{name}", a.updateRegistry},
		{"DELETE /api/registries/{name}", a.deleteRegistry},
		{"GET /api/serviceTags", a.listServiceTags},
		{"POST /api/registries/{name}/listCredentials", a.listCredentials},
		{"POST /api/registries/{name}/regenerateCredential", a.regenerateCredential},
		{"GET /api/registries/{name}/networkDenials", a.listNetworkDenials},
		{"GET /api/registries/{name}/networkChanges", a.listNetworkChanges},
		{"GET /api/registries/{name}/usage", a.showUsage},
		{"POST /api/registries/{name}/importImage", a.importImage},

		{"PUT /api/users/{name}", a.createUser},
		{"GET /api/users", a.listUsers},
		{"GET /api/users/{name}", a.showUser},
		{"POST /api/users/{name}/resetPassword", a.resetPassword},
		{"DELETE /api/users/{name}", a.deleteUser},

		{"POST /api/servicePrincipals", a.createServicePrincipal},
		{"GET /api/servicePrincipals", a.listServicePrincipals},
		{"GET /api/servicePrincipals/{appId}", a.showServicePrincipal},
		{"PATCH /api/servicePrincipals/{appId}", a.updateServicePrincipal},
		{"POST /api/servicePrincipals/{appId}/resetCredential", a.resetCredential},
		{"DELETE /api/servicePrincipals/{appId}", a.deleteServicePrincipal},

		{"PUT /api/identities/{name}", a.createIdentity},
		{"GET /api/identities", a.listIdentities},
		{"GET /api/identities/{name}", a.showIdentity},
		{"PATCH /api/identities/{name}", a.updateIdentity},
		{"DELETE /api/identities/{name}", a.deleteIdentity},

		{"POST /api/roleAssignments", a.createRoleAssignment},
		{"GET /api/roleAssignments", a.listRoleAssignments},
		{"DELETE /api/roleAssignments/{id}", a.deleteRoleAssignment},

		{"PUT /api/registries/{name}/scopeMaps/{map}", a.putScopeMap},
		{"GET /api/registries/{name}/scopeMaps", a.listScopeMaps},
		{"GET /api/registries/{name}/scopeMaps/{map}", a.showScopeMap},
		{"PATCH /api/registries/{name}/scopeMaps/{map}", a.updateScopeMap},
		{"DELETE /api/registries/{name}/scopeMaps/{map}", a.deleteScopeMap},

		{"PUT /api/registries/{name}/tokens/{token}", a.createToken},
		{"GET /api/registries/{name}/tokens", a.listTokens},
		{"GET /api/registries/{name}/tokens/{token}", a.showToken},
		{"PATCH /api/registries/{name}/tokens/{token}", a.updateToken},
		{"POST /api/registries/{name}/tokens/{token}/generateCredentials", a.generateCredentials},
		{"DELETE /api/registries/{name}/tokens/{token}", a.deleteToken},

		{"PUT /api/registries/{name}/privateEndpointConnections/{pe}", a.createPrivateEndpoint},
		{"GET /api/registries/{name}/privateEndpointConnections", a.listPrivateEndpoints},
		{"GET /api/registries/{name}/privateEndpointConnections/{pe}", a.showPrivateEndpoint},
		{"POST /api/registries/{name}/privateEndpointConnections/{pe}/approve", a.setEndpointState(meta.EndpointApproved)},
		{"POST /api/registries/{name}/privateEndpointConnections/{pe}/reject", a.setEndpointState(meta.EndpointRejected)},
		{"DELETE /api/registries/{name}/privateEndpointConnections/{pe}", a.deletePrivateEndpoint},

		{"PUT /api/registries/{name}/agentPools/{pool}", a.createAgentPool},
		{"GET /api/registries/{name}/agentPools", a.listAgentPools},
		{"GET /api/registries/{name}/agentPools/{pool}", a.showAgentPool},
		{"PATCH /api/registries/{name}/agentPools/{pool}", a.updateAgentPool},
		{"DELETE /api/registries/{name}/agentPools/{pool}", a.deleteAgentPool},

		{"PUT /api/registries/{name}/tasks/{task}", a.createTask},
		{"GET /api/registries/{name}/tasks", a.listTasks},
		{"GET /api/registries/{name}/tasks/{task}", a.showTask},
		{"PATCH /api/registries/{name}/tasks/{task}", a.updateTask},
		{"DELETE /api/registries/{name}/tasks/{task}", a.deleteTask},
		{"POST /api/registries/{name}/tasks/{task}/run", a.runTask},

		{"POST /api/registries/{name}/runs", a.queueRun},
		{"GET /api/registries/{name}/runs", a.listRuns},
		{"GET /api/registries/{name}/runs/{runId}", a.showRun},
		{"GET /api/registries/{name}/runs/{runId}/log", a.runLog},
		{"POST /api/registries/{name}/runs/{runId}/cancel", a.cancelRun},
	} {
		a.mux.Handle(rt.pattern, a.authenticated(rt.h))
	}
	// A build context is the one body far larger than maxBody.
	if a.runs != nil {
		a.mux.Handle("POST /api/registries/{name}/buildContexts", a.authenticatedWith(a.uploadBuildContext, a.runs.MaxContextSize()+1))
	}
}

// ServeHTTP serves a request under /api/.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	a.mux.ServeHTTP(w, r)
}

// registriesChanged tells the data plane's routes that registries changed.
func (a *API) registriesChanged(ctx context.Context) error {
	a.changing.Lock()
	defer a.changing.Unlock()
	return a.changed(ctx)
}

// authenticated runs h for a caller with a good identity token.
func (a *API) authenticated(h handlerFunc) http.Handler { return a.authenticatedWith(h, maxBody) }

// authenticatedWith is authenticated for a call whose body may be up to
// limit bytes.
func (a *API) authenticatedWith(h handlerFunc, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authenticate(r)
		if err == nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			err = h(w, r, c)
		}
		if err != nil {
			writeError(w, r, a.log, err)
		}
	})
}
