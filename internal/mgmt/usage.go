package mgmt

import (
	"context"
	"errors"
	"net/http"

	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/storage/meta"
)

// usageStore is the metadata store's report of what a registry stores.
type usageStore interface {
	RegistryUsage(ctx context.Context, registryID int64) (meta.Usage, error)
}

var _ usageStore = (*meta.DB)(nil)

// usageView is one figure of GET /api/registries/{name}/usage, in the
// managed registry's shape.
type usageView struct {
	Name         string `json:"name"`
	CurrentValue int64  `json:"currentValue"`
	Unit         string `json:"unit"`
}

// showUsage answers GET /api/registries/{name}/usage: the bytes the
// registry stores, each blob and manifest counted once however many
// repositories share it, and its counts of repositories, manifests and
// blobs.
func (a *API) showUsage(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	us, isUsage := a.db.(usageStore)
	if !isUsage {
		return errors.New("mgmt: the metadata store reports no usage")
	}
	u, err := us.RegistryUsage(r.Context(), reg.ID)
	if err != nil {
		return err
	}
	return ok(w, newList([]usageView{
		{Name: "Size", CurrentValue: u.Bytes, Unit: "Bytes"},
		{Name: "Repositories", CurrentValue: u.Repositories, Unit: "Count"},
		{Name: "Manifests", CurrentValue: u.Manifests, Unit: "Count"},
		{Name: "Blobs", CurrentValue: u.Blobs, Unit: "Count"},
	}))
}
