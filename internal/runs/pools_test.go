package runs_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// A run may name a dedicated pool of its own registry, and then only that
// pool's agents lease it; another registry's pool of the same name is no
// pool of this registry's, and a pool whose private endpoint is not
// approved takes no run.
func TestDedicatedPools(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	other := meta.Registry{Name: "other", Location: "local"}
	pe := meta.PrivateEndpoint{Name: "pe1", Address: "127.0.2.1:5000", State: meta.EndpointPending}
	err := e.db.Update(ctx, func(tx *meta.Tx) error {
		if err := tx.CreateRegistry(ctx, &other); err != nil {
			return err
		}
		pe.RegistryID = e.reg.ID
		if err := tx.CreatePrivateEndpoint(ctx, &pe); err != nil {
			return err
		}
		for i, p := range []meta.AgentPool{
			{RegistryID: e.reg.ID, Name: "vnet", PrivateEndpointID: pe.ID},
			{RegistryID: e.reg.ID, Name: "mine"},
			{RegistryID: other.ID, Name: "theirs"},
		} {
			p.Count, p.Egress, p.TokenHash, p.Token = 1, "127.0.4."+string(rune('1'+i)), "h"+p.Name, []byte("x")
			if err := tx.CreateAgentPool(ctx, &p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	run := e.queue(runs.QuickBuild{AgentPool: "mine"})
	if run.AgentPool != "reg/mine" || runs.PoolName(run) != "mine" {
		t.Errorf("queued on %q, shown as %q", run.AgentPool, runs.PoolName(run))
	}
	if l := e.lease("mine", 0); l != nil {
		t.Errorf("an agent of some other registry's mine leased %s", l.Run.RunID)
	}
	if l := e.lease("local", 0); l != nil {
		t.Errorf("an agent of the public pool leased %s", l.Run.RunID)
	}
	if l := e.lease("reg/mine", time.Second); l == nil || l.Run.RunID != run.RunID {
		t.Fatalf("the pool's agent leased %+v", l)
	}
	if got := runs.PoolName(e.queue(runs.QuickBuild{AgentPool: "local"})); got != "local" {
		t.Errorf("a public pool's run shows pool %q", got)
	}

	for _, c := range []struct{ pool, want string }{
		{"theirs", `agentPool "theirs": no such agent pool; the server has local, west; registry "reg" has the dedicated pools mine, vnet`},
		{"vnet", `agentPool "vnet" reaches registry "reg" through private endpoint "pe1", which is Pending: approve it first`},
	} {
		_, err := e.svc.QueueBuild(ctx, e.reg, runs.QuickBuild{AgentPool: c.pool, Images: []string{"app:v1"}, ContextID: e.ctxID})
		if !errors.Is(err, runs.ErrInvalid) || err.Error() != c.want {
			t.Errorf("queue on %s: %v, want %q", c.pool, err, c.want)
		}
	}
	if err := e.db.Update(ctx, func(tx *meta.Tx) error {
		return tx.SetPrivateEndpointState(ctx, pe.ID, meta.EndpointApproved, "")
	}); err != nil {
		t.Fatal(err)
	}
	if run := e.queue(runs.QuickBuild{AgentPool: "vnet"}); run.AgentPool != "reg/vnet" {
		t.Errorf("queued on %q", run.AgentPool)
	}
	live, err := e.db.LiveRunsOfPool(ctx, "reg/vnet", 10)
	if err != nil || len(live) != 1 || !strings.HasPrefix(live[0].RunID, "ca") {
		t.Errorf("LiveRunsOfPool = %+v, %v", live, err)
	}
}
