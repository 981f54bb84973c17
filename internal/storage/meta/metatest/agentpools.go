package metatest

import (
	"testing"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

func poolNames(ps []meta.AgentPool) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Registry+"/"+p.Name)
	}
	return out
}

// newPool creates a dedicated pool of reg named name, egress 127.0.4.n.
func newPool(t *testing.T, db *meta.DB, reg meta.Registry, name, egress string, endpoint int64) meta.AgentPool {
	t.Helper()
	p := meta.AgentPool{RegistryID: reg.ID, Name: name, Count: 1, PrivateEndpointID: endpoint, Egress: egress,
		TokenHash: "hash-" + reg.Name + "-" + name, Token: []byte("sealed " + name)}
	update(t, db, func(tx *meta.Tx) error { return tx.CreateAgentPool(t.Context(), &p) })
	if p.ID == 0 {
		t.Fatal("CreateAgentPool left ID 0")
	}
	return p
}

// Dedicated pools: created, listed, found by their token's hash, changed
// and deleted, each change moving the registries version that the
// server's agents follow.
func testAgentPools(t *testing.T, db *meta.DB) {
	c := setClock(db)
	a, b := newRegistry(t, db, "rega"), newRegistry(t, db, "regb")
	pe := meta.PrivateEndpoint{RegistryID: a.ID, Name: "pe1", Address: "127.0.2.1:5000", State: meta.EndpointApproved}
	update(t, db, func(tx *meta.Tx) error { return tx.CreatePrivateEndpoint(t.Context(), &pe) })
	v0 := version(t, db)
	vnet := newPool(t, db, a, "vnet", "127.0.4.1", pe.ID)
	if v := version(t, db); v <= v0 {
		t.Errorf("registries version %d after a create, want more than %d", v, v0)
	}
	wantTime(t, "CreatedAt", vnet.CreatedAt, t0)
	newPool(t, db, a, "plain", "127.0.4.2", 0)
	newPool(t, db, b, "vnet", "127.0.4.3", 0)

	all, err := db.AgentPools(t.Context())
	if err != nil {
		t.Fatalf("AgentPools: %v", err)
	}
	wantList(t, "AgentPools", poolNames(all), []string{"rega/plain", "rega/vnet", "regb/vnet"})
	ofA, err := db.RegistryAgentPools(t.Context(), a.ID)
	if err != nil {
		t.Fatalf("RegistryAgentPools: %v", err)
	}
	wantList(t, "RegistryAgentPools(a)", poolNames(ofA), []string{"rega/plain", "rega/vnet"})

	got, err := db.AgentPool(t.Context(), a.ID, "vnet")
	if err != nil {
		t.Fatalf("AgentPool: %v", err)
	}
	if got.ID != vnet.ID || got.Registry != "rega" || got.Count != 1 || got.PrivateEndpointID != pe.ID ||
		got.PrivateEndpoint != "pe1" || got.EndpointAddress != "127.0.2.1:5000" || got.EndpointState != meta.EndpointApproved ||
		got.Egress != "127.0.4.1" || got.TokenHash != "hash-rega-vnet" || string(got.Token) != "sealed vnet" {
		t.Errorf("AgentPool = %+v", got)
	}
	plain, _ := db.AgentPool(t.Context(), a.ID, "plain")
	if plain.PrivateEndpointID != 0 || plain.PrivateEndpoint != "" || plain.EndpointAddress != "" {
		t.Errorf("a pool without an endpoint reads as %+v", plain)
	}
	_, err = db.AgentPool(t.Context(), b.ID, "plain")
	wantErr(t, "AgentPool(other registry)", err, meta.ErrNotFound)
	byHash, err := db.AgentPoolByTokenHash(t.Context(), "hash-regb-vnet")
	if err != nil || byHash.Registry != "regb" || byHash.Name != "vnet" {
		t.Errorf("AgentPoolByTokenHash = %+v, %v", byHash, err)
	}
	_, err = db.AgentPoolByTokenHash(t.Context(), "nobody's")
	wantErr(t, "AgentPoolByTokenHash(unknown)", err, meta.ErrNotFound)
	users, err := db.EndpointAgentPools(t.Context(), pe.ID)
	if err != nil {
		t.Fatalf("EndpointAgentPools: %v", err)
	}
	wantList(t, "EndpointAgentPools", poolNames(users), []string{"rega/vnet"})

	later := c.advance(time.Minute)
	v1 := version(t, db)
	update(t, db, func(tx *meta.Tx) error { return tx.UpdateAgentPool(t.Context(), vnet.ID, 3, 0) })
	got, _ = db.AgentPool(t.Context(), a.ID, "vnet")
	if got.Count != 3 || got.PrivateEndpointID != 0 || got.PrivateEndpoint != "" {
		t.Errorf("after UpdateAgentPool: %+v", got)
	}
	wantTime(t, "UpdatedAt", got.UpdatedAt, later)
	wantTime(t, "CreatedAt after an update", got.CreatedAt, t0)
	if v := version(t, db); v <= v1 {
		t.Errorf("registries version %d after an update, want more than %d", v, v1)
	}

	v2 := version(t, db)
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteAgentPool(t.Context(), vnet.ID) })
	_, err = db.AgentPool(t.Context(), a.ID, "vnet")
	wantErr(t, "AgentPool(deleted)", err, meta.ErrNotFound)
	if v := version(t, db); v <= v2 {
		t.Errorf("registries version %d after a delete, want more than %d", v, v2)
	}
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.DeleteAgentPool(t.Context(), vnet.ID) })
	wantErr(t, "DeleteAgentPool(deleted)", err, meta.ErrNotFound)
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.UpdateAgentPool(t.Context(), vnet.ID, 1, 0) })
	wantErr(t, "UpdateAgentPool(deleted)", err, meta.ErrNotFound)
}

func testAgentPoolConflict(t *testing.T, db *meta.DB) {
	a, b := newRegistry(t, db, "rega"), newRegistry(t, db, "regb")
	p := newPool(t, db, a, "pool", "127.0.4.1", 0)
	v := version(t, db)
	for _, c := range []struct {
		what string
		p    meta.AgentPool
	}{
		{"the same name", meta.AgentPool{RegistryID: a.ID, Name: "pool", Count: 1, Egress: "127.0.4.2", TokenHash: "h2", Token: []byte("x")}},
		{"the same egress", meta.AgentPool{RegistryID: b.ID, Name: "other", Count: 1, Egress: p.Egress, TokenHash: "h3", Token: []byte("x")}},
		{"the same token", meta.AgentPool{RegistryID: b.ID, Name: "other", Count: 1, Egress: "127.0.4.4", TokenHash: p.TokenHash, Token: []byte("x")}},
	} {
		err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.CreateAgentPool(t.Context(), &c.p) })
		wantErr(t, "CreateAgentPool("+c.what+")", err, meta.ErrConflict)
	}
	if got := version(t, db); got != v {
		t.Errorf("registries version %d, want %d: refused creates must not bump it", got, v)
	}
	// The same name in another registry is another pool.
	newPool(t, db, b, "pool", "127.0.4.5", 0)
}

// A registry's pools go with it, endpoints they use included; an endpoint
// a pool uses cannot go on its own.
func testAgentPoolsGoWithRegistry(t *testing.T, db *meta.DB) {
	r := newRegistry(t, db, "rega")
	pe := meta.PrivateEndpoint{RegistryID: r.ID, Name: "pe", Address: "127.0.2.1:5000", State: meta.EndpointApproved}
	update(t, db, func(tx *meta.Tx) error { return tx.CreatePrivateEndpoint(t.Context(), &pe) })
	newPool(t, db, r, "pool", "127.0.4.1", pe.ID)
	err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.DeletePrivateEndpoint(t.Context(), pe.ID) })
	if err == nil {
		t.Error("DeletePrivateEndpoint of an endpoint a pool uses succeeded")
	}
	queueRun(t, db, r.ID, "rega/pool")
	live, err := db.LiveRunsOfPool(t.Context(), "rega/pool", 10)
	if err != nil || len(live) != 1 {
		t.Errorf("LiveRunsOfPool = %v, %v", runIDs(live), err)
	}
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteRegistry(t.Context(), r.ID) })
	all, err := db.AgentPools(t.Context())
	if err != nil {
		t.Fatalf("AgentPools: %v", err)
	}
	wantList(t, "AgentPools after the registry was deleted", poolNames(all), []string{})
	s := newRegistry(t, db, "regb")
	newPool(t, db, s, "pool", "127.0.4.1", 0)
}
