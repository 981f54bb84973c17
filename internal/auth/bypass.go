package auth

import (
	"net/http"
	"strings"

	"github.com/berth-project/berth/internal/netrules"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/token"
)

// PrincipalClaims are the claims of a token issued to p: its kind, name,
// and the network bypass it may use. A principal an instance owner marked
// trusted (or a built-in trusted service) carries BypassTrustedService; a
// task's system-assigned identity (a managed identity with an owner)
// carries BypassTask. Nothing else ever carries a bypass.
func PrincipalClaims(p meta.Principal) token.Claims {
	c := token.Claims{Subject: p.ID, PrincipalName: p.Name}
	switch p.Kind {
	case meta.KindUser:
		c.PrincipalKind = token.PrincipalUser
	case meta.KindServicePrincipal:
		c.PrincipalKind = token.PrincipalServicePrincipal
	case meta.KindManagedIdentity:
		c.PrincipalKind = token.PrincipalManagedIdentity
		if p.Owner != "" {
			c.Bypass = token.BypassTask
		}
	case meta.KindTrustedService:
		c.PrincipalKind = token.PrincipalTrustedService
		c.Bypass = token.BypassTrustedService
	}
	if p.Trusted {
		c.Bypass = token.BypassTrustedService
	}
	return c
}

// BypassIdentity names the identity behind the token a data-plane request
// carries, for the network gate's bypasses: the Bearer access token, the
// refresh token docker sends as the null user's password, or on the token
// endpoints the refresh or identity token in the form. Only the token's
// signature, expiry and audience are checked here (one HMAC, cached); the
// pipeline checks everything else afterwards as for any request. No token,
// or a bad one, is netrules.IdentityNone.
func (s *Service) BypassIdentity(reg registry.Registry, r *http.Request) (netrules.IdentityKind, string) {
	c, ok := s.requestToken(reg, r)
	if !ok {
		return netrules.IdentityNone, ""
	}
	who := c.PrincipalName
	if who == "" {
		who = c.Subject
	}
	switch c.Bypass {
	case token.BypassTrustedService:
		return netrules.IdentityTrustedService, who
	case token.BypassTask:
		return netrules.IdentityTaskSystemIdentity, who
	}
	return identityKind(c.PrincipalKind), who
}

func identityKind(k token.PrincipalKind) netrules.IdentityKind {
	switch k {
	case token.PrincipalUser:
		return netrules.IdentityUser
	case token.PrincipalServicePrincipal:
		return netrules.IdentityServicePrincipal
	case token.PrincipalManagedIdentity:
		return netrules.IdentityManagedIdentityUserAssigned
	case token.PrincipalAdmin:
		return netrules.IdentityAdminUser
	case token.PrincipalToken:
		return netrules.IdentityToken
	}
	return netrules.IdentityNone
}

func (s *Service) requestToken(reg registry.Registry, r *http.Request) (token.Claims, bool) {
	aud := Audience(reg, r)
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		c, err := s.tokens.Verify(strings.TrimSpace(t), token.KindAccess, aud)
		return c, err == nil && c.Registry == reg.Name
	}
	if user, pass, ok := r.BasicAuth(); ok && user == NullUser {
		c, err := s.tokens.Verify(pass, token.KindRefresh, aud)
		return c, err == nil && c.Registry == reg.Name
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/oauth2/") {
		return token.Claims{}, false
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
	if r.ParseForm() != nil {
		return token.Claims{}, false
	}
	if t := r.PostForm.Get("refresh_token"); t != "" {
		c, err := s.tokens.Verify(t, token.KindRefresh, aud)
		return c, err == nil && c.Registry == reg.Name
	}
	if t := r.PostForm.Get("access_token"); t != "" {
		c, err := s.tokens.Verify(t, token.KindIdentity, token.ManagementAudience)
		return c, err == nil
	}
	return token.Claims{}, false
}
