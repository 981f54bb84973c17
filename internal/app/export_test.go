package app

import (
	"context"
	"time"

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

// RunTokenFor mints the credential the agent API gives the agent that
// leases run runID of registry reg, at loginServer.
func (s *Server) RunTokenFor(ctx context.Context, reg, runID, loginServer string) (string, error) {
	r, err := s.db.Registry(ctx, reg)
	if err != nil {
		return "", err
	}
	run, err := s.db.Run(ctx, r.ID, runID)
	if err != nil {
		return "", err
	}
	return auth.RunToken(s.tokens, reg, loginServer, run, time.Now())
}
