package app

import (
	"github.com/berth-project/berth/internal/auth"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/token"
)

// IdentityTokenFor issues an identity token for p as the identity endpoint
// would, for principals that cannot sign in by themselves yet (managed
// identities, whose tokens only runs get).
func (s *Server) IdentityTokenFor(p meta.Principal) (string, error) {
	c := auth.PrincipalClaims(p)
	c.Audience, c.Kind, c.GrantType = token.ManagementAudience, token.KindIdentity, "managed_identity"
	return s.tokens.Issue(c)
}
