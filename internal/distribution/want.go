package distribution

import (
	"net/http"

	"github.com/berth-project/berth/internal/dataplane"
	"github.com/berth-project/berth/internal/rbac"
)

// Want names the repository and action a /v2 request needs.
func (h *Handler) Want(r *http.Request) dataplane.Want {
	rt := parsePath(r.URL.Path)
	w := dataplane.Want{Repository: rt.name}
	switch rt.kind {
	case kindBase, kindNone:
		return dataplane.Want{}
	case kindCatalog:
		w.Action = dataplane.ActionCatalog
	case kindTags, kindReferrers:
		w.Action = rbac.ActionPull
	case kindManifest, kindBlob:
		switch r.Method {
		case http.MethodPut:
			w.Action = rbac.ActionPush
		case http.MethodDelete:
			w.Action = rbac.ActionDelete
		default:
			w.Action = rbac.ActionPull
		}
	case kindUploadStart, kindUpload:
		w.Action = rbac.ActionPush
	}
	return w
}
