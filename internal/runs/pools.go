package runs

import (
	"context"
	"errors"
	"strings"

	"github.com/berth-project/berth/internal/storage/meta"
)

// A run's agent pool is a public pool, named as the server's config names
// it, or a dedicated pool of the run's registry. Dedicated pool names are
// per registry, so the queue keys a dedicated pool's runs by
// "<registry>/<pool>" (a public pool's name has no '/'), and agents of one
// registry's "vnet" never lease another's.

// DedicatedPoolKey is the queue key of registry's dedicated pool name.
func DedicatedPoolKey(registry, name string) string { return registry + "/" + name }

// PoolName is the pool of run as its registry's users name it: the
// dedicated pool's own name, or the public pool's.
func PoolName(run meta.Run) string {
	if name, ok := strings.CutPrefix(run.AgentPool, run.Registry+"/"); ok {
		return name
	}
	return run.AgentPool
}

// dedicatedPool returns the queue key of reg's dedicated pool name, which
// must be ready to take runs.
func dedicatedPool(ctx context.Context, db interface {
	AgentPool(ctx context.Context, registryID int64, name string) (meta.AgentPool, error)
}, reg meta.Registry, name string) (string, error) {
	p, err := db.AgentPool(ctx, reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return "", errNoPool
	}
	if err != nil {
		return "", err
	}
	if p.PrivateEndpointID != 0 && p.EndpointState != meta.EndpointApproved {
		return "", invalid("agentPool %q reaches registry %q through private endpoint %q, which is %s: approve it first",
			name, reg.Name, p.PrivateEndpoint, p.EndpointState)
	}
	return DedicatedPoolKey(reg.Name, name), nil
}

// errNoPool says a name is no dedicated pool of the registry.
var errNoPool = errors.New("runs: no such dedicated pool")
