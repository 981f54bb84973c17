package auth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/token"
)

// A run's own credential (authMode Default) is a registry refresh token
// of the principal kind "run", minted when an agent leases the run. It
// may pull what the run's queuer may pull in the run's registry, and push
// only to the repositories of the images the run builds (and only where
// the queuer may push); it never passes the network rules on its own, and
// it stops working the moment the run ends.

func runSubject(registry, runID string) string { return "run:" + registry + ":" + runID }

// RunToken mints the credential of a leased run, for the agent: a refresh
// token for registry reg at its login server, valid while the run lives
// and at most until the run's timeout (or the refresh lifetime, whichever
// comes first).
func RunToken(tokens *token.Service, reg, loginServer string, run meta.Run, now time.Time) (string, error) {
	c := token.Claims{Subject: runSubject(reg, run.RunID), Audience: loginServer, Kind: token.KindRefresh,
		PrincipalKind: token.PrincipalRun, PrincipalName: run.RunID, RunID: run.RunID, Registry: reg, GrantType: "run"}
	if life := tokens.Lifetime(token.KindRefresh); run.TimeoutSeconds > 0 && time.Duration(run.TimeoutSeconds)*time.Second < life {
		c.ExpiresAt = now.Add(time.Duration(run.TimeoutSeconds)*time.Second + time.Minute).Truncate(time.Second)
		if c.ExpiresAt.After(now.Add(life)) {
			c.ExpiresAt = time.Time{}
		}
	}
	return tokens.Issue(c)
}

// runGrant is what a run's credential may do now.
type runGrant struct {
	registry string
	queuer   rbac.Grant
	push     []string // repositories of the run's images
	// anyPush lets a quick run or a task run push wherever its queuer
	// may: a task file's images are known only as it runs.
	anyPush bool
}

func (g runGrant) Can(reg, repo, action string) bool {
	if reg != g.registry || g.queuer == nil {
		return false
	}
	switch action {
	case rbac.ActionPull:
		return g.queuer.Can(reg, repo, action)
	case rbac.ActionPush:
		return (g.anyPush || slices.Contains(g.push, repo)) && g.queuer.Can(reg, repo, action)
	}
	return false
}

func (g runGrant) CanCatalog(string) bool { return false }

// liveRun returns the run a run credential names, refusing it once the
// run has ended.
func (s *Service) liveRun(ctx context.Context, reg registry.Registry, c token.Claims) (meta.Run, error) {
	if c.Subject != runSubject(reg.Name, c.RunID) {
		return meta.Run{}, errcode.Unauthorized.WithMessage("the run credential is not for this registry")
	}
	run, err := s.db.Run(ctx, reg.ID, c.RunID)
	if errors.Is(err, meta.ErrNotFound) {
		return run, errcode.Unauthorized.WithMessage("the run no longer exists")
	} else if err != nil {
		return run, err
	}
	if !run.Live() {
		return run, errcode.Unauthorized.WithMessage("run " + run.RunID + " has ended; its credential stopped working")
	}
	return run, nil
}

// runGrantOf is what the live run of c may do.
func (s *Service) runGrantOf(ctx context.Context, reg registry.Registry, c token.Claims) (rbac.Grant, error) {
	run, err := s.liveRun(ctx, reg, c)
	if err != nil {
		return nil, err
	}
	req, err := runs.Request(run)
	if err != nil {
		return nil, err
	}
	g := runGrant{registry: reg.Name}
	// A task file's images are known only as it runs.
	g.anyPush = runs.IsSteps(run) && len(req.Images) == 0
	for _, img := range runs.ImageNames(run, req) {
		repo, _, _ := oci.SplitTag(img)
		g.push = append(g.push, repo)
	}
	if req.CreatedBy != "" {
		if g.queuer, err = s.principalGrant(ctx, req.CreatedBy); err != nil {
			return nil, errcode.Unauthorized.WithMessage("the run's queuer no longer exists")
		}
	}
	return g, nil
}

// runStillLive refuses the identity token of a run's task identity once
// the run has ended: such a token is for the run alone.
func (s *Service) runStillLive(ctx context.Context, id token.Claims) error {
	if id.RunID == "" || id.Registry == "" {
		return nil
	}
	reg, err := s.db.Registry(ctx, id.Registry)
	if err == nil {
		var run meta.Run
		if run, err = s.db.Run(ctx, reg.ID, id.RunID); err == nil && run.Live() {
			return nil
		}
	}
	if err != nil && !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	return errcode.Unauthorized.WithMessage("the identity token was for run " + id.RunID + ", which has ended")
}
