package mgmt

import (
	"context"
	"net/http"
	"time"

	"github.com/berth-project/berth/internal/importer"
	"github.com/berth-project/berth/internal/rbac"
)

// Import: POST /api/registries/{name}/importImage copies an image into
// the registry, server-side (package importer). The caller needs push
// rights on each target repository (AcrPush, Contributor or Owner) and,
// for a source on this server, pull rights on the source repository: the
// import service reads it with a trusted-service token of its own, so
// the caller's pull right is checked here, before any token is minted.

type importCredentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type importSource struct {
	RegistryURI string             `json:"registryUri"`
	SourceImage string             `json:"sourceImage"`
	Credentials *importCredentials `json:"credentials"`
}

type importRequest struct {
	Source     importSource `json:"source"`
	TargetTags []string     `json:"targetTags"`
	Mode       string       `json:"mode"` // NoForce (default) or Force
}

// importTimeout bounds an import that runs after its call returned
// (noWait=true).
const importTimeout = time.Hour

func (a *API) importImage(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	if a.imports == nil {
		return notFound("this server does not import images")
	}
	var in importRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	force := false
	switch in.Mode {
	case "", "NoForce":
	case "Force":
		force = true
	default:
		return invalid("mode %q: want NoForce or Force", in.Mode)
	}
	name := r.PathValue("name")
	if err := a.loadAssignments(ctx, c); err != nil {
		return err
	}
	if !rbac.Allowed(c.assignments, name, "", rbac.Push) && !a.anyRepoPush(c, name) {
		return forbidden("%s %q may not import into registry %q: that needs the role %s there",
			kindWord(c.principal.Kind), c.principal.Name, name, rolesHolding(rbac.Push))
	}
	reg, err := a.registry(ctx, name)
	if err != nil {
		return err
	}
	req := importer.Request{Target: reg, RegistryURI: in.Source.RegistryURI, SourceImage: in.Source.SourceImage,
		TargetTags: in.TargetTags, Force: force}
	if cr := in.Source.Credentials; cr != nil {
		req.Username, req.Password = cr.Username, cr.Password
	}
	plan, err := a.imports.Prepare(ctx, req)
	if err != nil {
		return err
	}
	for _, t := range plan.Targets {
		if !rbac.Allowed(c.assignments, name, t.Repository, rbac.Push) {
			return forbidden("%s %q may not push to %s/%s: that needs the role %s there",
				kindWord(c.principal.Kind), c.principal.Name, name, t.Repository, rolesHolding(rbac.Push))
		}
	}
	if src := plan.Local; src != nil && !rbac.Allowed(c.assignments, src.Name, plan.Source.Repository, rbac.Pull) {
		return forbidden("%s %q may not pull %s from registry %q, so it may not import it: that needs the role %s there",
			kindWord(c.principal.Kind), c.principal.Name, plan.Source.Repository, src.Name, rolesHolding(rbac.Pull))
	}
	if r.URL.Query().Get("noWait") == "true" {
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), importTimeout)
			defer cancel()
			if res, err := a.imports.Import(ctx, plan); err != nil {
				a.log.Warn("import failed", "registry", name, "source", plan.Source.String(), "err", err)
			} else {
				a.log.Info("import done", "registry", name, "source", res.Source, "digest", res.Digest)
			}
		}()
		return writeJSON(w, http.StatusAccepted, importer.Result{Source: plan.Source.String(), Targets: plan.Targets})
	}
	res, err := a.imports.Import(ctx, plan)
	if err != nil {
		return err
	}
	a.log.Info("import done", "registry", name, "source", res.Source, "digest", res.Digest, "blobs_copied", res.BlobsCopied)
	return ok(w, res)
}

// anyRepoPush reports whether the caller may push to some repository of
// the registry (an assignment at a repository scope): the targets are
// checked one by one once the request is parsed.
func (a *API) anyRepoPush(c *caller, registry string) bool {
	for _, as := range c.assignments {
		if as.Scope.Registry == registry && as.Role.Permissions().Has(rbac.Push) {
			return true
		}
	}
	return false
}
