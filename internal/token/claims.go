package token

import (
	"fmt"
	"slices"
	"time"
)

// Kind says what a token is for. Verify refuses a token of another kind, so
// that a refresh token cannot be used as an access token.
type Kind string

const (
	// KindIdentity is the management-plane token from the identity endpoint.
	KindIdentity Kind = "identity"
	// KindRefresh is a registry refresh token from /oauth2/exchange: the
	// password docker keeps for the null-GUID user.
	KindRefresh Kind = "refresh"
	// KindAccess is a registry access token from /oauth2/token: the Bearer
	// token of data-plane requests, carrying Access.
	KindAccess Kind = "access"
)

// ManagementAudience is the audience of identity tokens. Registry tokens
// have the registry's login server as their audience.
const ManagementAudience = "berth-management"

// PrincipalKind says what kind of principal a token was issued to.
type PrincipalKind string

const (
	PrincipalUser             PrincipalKind = "user"
	PrincipalServicePrincipal PrincipalKind = "servicePrincipal"
	PrincipalManagedIdentity  PrincipalKind = "managedIdentity"
	PrincipalTrustedService   PrincipalKind = "trustedService"
	// PrincipalToken is a registry token (a scope-map credential).
	PrincipalToken PrincipalKind = "token"
	// PrincipalAdmin is a registry's admin user.
	PrincipalAdmin PrincipalKind = "admin"
	// PrincipalAnonymous is nobody, on a registry that allows anonymous pull.
	PrincipalAnonymous PrincipalKind = "anonymous"
	// PrincipalRun is a run's own credential (authMode Default): it may do
	// what the run needs and its queuer may, and only while the run lives.
	PrincipalRun PrincipalKind = "run"
)

func (k PrincipalKind) valid() bool {
	switch k {
	case PrincipalUser, PrincipalServicePrincipal, PrincipalManagedIdentity,
		PrincipalTrustedService, PrincipalToken, PrincipalAdmin, PrincipalAnonymous, PrincipalRun:
		return true
	}
	return false
}

// Access is one entry of an access token's "access" claim, in the Docker
// token format: {"type":"repository","name":"app/web","actions":["pull"]}.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// Claims is what a token says. The JSON claim names are in the comments;
// times travel as whole seconds since the epoch.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub: the principal's id
	Audience  string    // aud: a login server, or ManagementAudience
	ExpiresAt time.Time // exp
	NotBefore time.Time // nbf
	IssuedAt  time.Time // iat
	ID        string    // jti

	Kind          Kind          // kind
	PrincipalKind PrincipalKind // principalKind
	Access        []Access      // access: access tokens only
	RunID         string        // runId: set for a task's identity during a run
	PrincipalName string        // principalName
	GrantType     string        // grantType: how the token was obtained, e.g. "refresh_token"
	Registry      string        // registry: the registry a refresh or access token is for
	// Bypass is set for the identities that may pass a registry's network
	// rules on their token alone: BypassTrustedService or BypassTask. It is
	// fixed when the identity token is issued and carried into the registry
	// tokens minted from it, so the network gate decides without a lookup.
	Bypass string // bypass
}

// Values of Claims.Bypass.
const (
	BypassTrustedService = "trustedService" // a trusted service identity
	BypassTask           = "task"           // a task's system-assigned identity
)

// wireClaims is Claims as it is encoded in a token.
type wireClaims struct {
	Iss           string        `json:"iss"`
	Sub           string        `json:"sub"`
	Aud           string        `json:"aud"`
	Exp           int64         `json:"exp"`
	Nbf           int64         `json:"nbf"`
	Iat           int64         `json:"iat"`
	Jti           string        `json:"jti"`
	Access        []Access      `json:"access,omitempty"`
	Kind          Kind          `json:"kind"`
	PrincipalKind PrincipalKind `json:"principalKind"`
	RunID         string        `json:"runId,omitempty"`
	PrincipalName string        `json:"principalName,omitempty"`
	GrantType     string        `json:"grantType,omitempty"`
	Registry      string        `json:"registry,omitempty"`
	Bypass        string        `json:"bypass,omitempty"`
}

func (c *Claims) wire() wireClaims {
	w := wireClaims{
		Iss: c.Issuer, Sub: c.Subject, Aud: c.Audience,
		Exp: c.ExpiresAt.Unix(), Nbf: c.NotBefore.Unix(), Iat: c.IssuedAt.Unix(),
		Jti: c.ID, Access: c.Access, Kind: c.Kind, PrincipalKind: c.PrincipalKind,
		RunID: c.RunID, PrincipalName: c.PrincipalName, GrantType: c.GrantType, Registry: c.Registry,
		Bypass: c.Bypass,
	}
	// "actions": null would be legal JSON but is not the Docker format.
	if slices.ContainsFunc(w.Access, func(a Access) bool { return a.Actions == nil }) {
		w.Access = slices.Clone(w.Access)
		for i := range w.Access {
			if w.Access[i].Actions == nil {
				w.Access[i].Actions = []string{}
			}
		}
	}
	return w
}

func (w *wireClaims) claims() Claims {
	return Claims{
		Issuer: w.Iss, Subject: w.Sub, Audience: w.Aud,
		ExpiresAt: time.Unix(w.Exp, 0).UTC(), NotBefore: time.Unix(w.Nbf, 0).UTC(), IssuedAt: time.Unix(w.Iat, 0).UTC(),
		ID: w.Jti, Access: w.Access, Kind: w.Kind, PrincipalKind: w.PrincipalKind,
		RunID: w.RunID, PrincipalName: w.PrincipalName, GrantType: w.GrantType, Registry: w.Registry,
		Bypass: w.Bypass,
	}
}

// check refuses claims berth must not sign.
func (c *Claims) check() error {
	switch {
	case c.Subject == "":
		return fmt.Errorf("token: no subject")
	case c.Audience == "":
		return fmt.Errorf("token: no audience")
	case !c.PrincipalKind.valid():
		return fmt.Errorf("token: unknown principal kind %q", c.PrincipalKind)
	case c.Bypass != "" && c.Bypass != BypassTrustedService && c.Bypass != BypassTask:
		return fmt.Errorf("token: unknown bypass %q", c.Bypass)
	case c.Kind != KindAccess && len(c.Access) > 0:
		return fmt.Errorf("token: access claims in a %s token", c.Kind)
	}
	return nil
}
