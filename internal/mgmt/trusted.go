package mgmt

import (
	"context"
	"net/http"

	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Trusted services: an instance owner may mark a service principal or a
// user-assigned managed identity as a trusted service. Tokens issued to it
// afterwards carry the trusted-service bypass, which passes the network
// rules of every registry whose networkRuleBypassOptions is AzureServices
// (ARCHITECTURE §4). The mark reaches past every registry's firewall, so it
// takes Owner at "/", not the manage write that other changes to these
// principals need. Tokens issued before a change keep what they carry until
// they expire.

// trustedPatch is the body of PATCH /api/servicePrincipals/{appId} and
// PATCH /api/identities/{name}; absent fields stay as they are.
type trustedPatch struct {
	Properties *struct {
		TrustedService *bool `json:"trustedService"`
	} `json:"properties"`
}

// mayTrust authorizes a change of the mark: Owner at "/".
func (a *API) mayTrust(ctx context.Context, c *caller) error {
	if yes, err := a.can(ctx, c, tenant, rbac.AssignRoles); err != nil || yes {
		return err
	}
	return forbidden("%s %q may not mark identities as trusted services: that needs the role %s at scope /",
		kindWord(c.principal.Kind), c.principal.Name, roleNeeded(rbac.AssignRoles))
}

// setTrusted reads a PATCH body and applies it to p: a body that cannot be
// read changes nothing.
func (a *API) setTrusted(r *http.Request, c *caller, p *meta.Principal) error {
	var body trustedPatch
	if err := decode(r, &body, false); err != nil {
		return err
	}
	if body.Properties == nil || body.Properties.TrustedService == nil || *body.Properties.TrustedService == p.Trusted {
		return nil
	}
	ctx := r.Context()
	trusted := *body.Properties.TrustedService
	if err := a.ids.SetTrusted(ctx, *p, trusted); err != nil {
		return err
	}
	p.Trusted = trusted
	a.log.InfoContext(ctx, "trusted service mark changed", "principalId", p.ID, "kind", p.Kind, "name", p.Name,
		"trustedService", trusted, "by", c.principal.ID)
	return nil
}

func (a *API) updateServicePrincipal(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.mayTrust(r.Context(), c); err != nil {
		return err
	}
	p, err := a.ids.ServicePrincipal(r.Context(), r.PathValue("appId"))
	if err != nil {
		return err
	}
	if err := a.setTrusted(r, c, &p); err != nil {
		return err
	}
	res, err := a.spResource(r.Context(), p)
	if err != nil {
		return err
	}
	return ok(w, res)
}

func (a *API) updateIdentity(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.mayTrust(r.Context(), c); err != nil {
		return err
	}
	// managedIdentity checks manage read at "/", which Owner there holds;
	// it hides system-assigned identities, whose bypass is the tasks one.
	p, err := a.managedIdentity(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	if err := a.setTrusted(r, c, &p); err != nil {
		return err
	}
	return ok(w, identityResource(p))
}
