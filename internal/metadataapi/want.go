package metadataapi

import (
	"net/http"

	"github.com/berth-project/berth/internal/dataplane"
	"github.com/berth-project/berth/internal/rbac"
)

// Want names the repository and action a /acr/v1 request needs: reads need
// metadata_read, PATCH metadata_write, DELETE delete.
func (h *Handler) Want(r *http.Request) dataplane.Want {
	rt := parsePath(r.URL.Path)
	switch rt.kind {
	case kindNone:
		return dataplane.Want{}
	case kindCatalog:
		return dataplane.Want{Action: dataplane.ActionCatalog}
	}
	w := dataplane.Want{Repository: rt.name, Action: rbac.ActionMetadataRead}
	switch r.Method {
	case http.MethodPatch:
		w.Action = rbac.ActionMetadataWrite
	case http.MethodDelete:
		w.Action = rbac.ActionDelete
	}
	return w
}
