package app

import (
	"context"
	"errors"
	"time"

	"github.com/berth-project/berth/internal/auth"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/token"
)

// taskTriggerInterval is how often the timer and base-image triggers of
// every task are looked at.
const taskTriggerInterval = time.Second

// resolveBase finds the digest a tag names now in the registry of this
// server served at loginServer ("" when none is, or the tag does not
// exist): the base-image trigger's view of a push. The registry is found
// in the routes' table, as the data plane finds it.
func (s *Server) resolveBase(ctx context.Context, loginServer, repo, tag string) (string, error) {
	reg, ok := s.routes.atHost(s.routes.table.Load(), loginServer)
	if !ok {
		return "", nil
	}
	m, err := s.svc.GetManifest(ctx, reg.ID, repo, registry.Reference{Tag: tag})
	if err != nil {
		return "", nil // gone, or locked for reads: nothing to trigger on
	}
	return string(m.Digest), nil
}

// runIdentityToken mints, for a run of a task, an identity token of one
// of the task's managed identities: it names the run and expires with it,
// and a system-assigned identity's carries the tasks bypass (auth.
// PrincipalClaims decides).
func (s *Server) runIdentityToken(ctx context.Context, run meta.Run, principalID string) (string, time.Time, error) {
	p, err := s.db.Principal(ctx, principalID)
	if errors.Is(err, meta.ErrNotFound) {
		return "", time.Time{}, errors.New("the task's identity no longer exists")
	} else if err != nil {
		return "", time.Time{}, err
	}
	c := auth.PrincipalClaims(p)
	c.Kind, c.Audience, c.RunID, c.Registry, c.GrantType = token.KindIdentity, token.ManagementAudience, run.RunID, run.Registry, "run"
	now := time.Now()
	c.ExpiresAt = now.Add(time.Duration(run.TimeoutSeconds)*time.Second + time.Minute).Truncate(time.Second)
	if life := s.tokens.Lifetime(token.KindIdentity); c.ExpiresAt.After(now.Add(life)) {
		c.ExpiresAt = now.Add(life).Truncate(time.Second)
	}
	tok, err := s.tokens.Issue(c)
	return tok, c.ExpiresAt, err
}
