package metatest

import (
	"testing"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

func endpointNames(es []meta.PrivateEndpoint) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Registry+"/"+e.Name)
	}
	return out
}

// version reads the registries version, which the data plane polls.
func version(t *testing.T, db *meta.DB) int64 {
	t.Helper()
	v, err := db.RegistriesVersion(t.Context())
	if err != nil {
		t.Fatalf("RegistriesVersion: %v", err)
	}
	return v
}

func testPrivateEndpoints(t *testing.T, db *meta.DB) {
	c := setClock(db)
	var a, b meta.Registry
	update(t, db, func(tx *meta.Tx) error {
		a, b = meta.Registry{Name: "rega"}, meta.Registry{Name: "regb"}
		if err := tx.CreateRegistry(t.Context(), &a); err != nil {
			return err
		}
		return tx.CreateRegistry(t.Context(), &b)
	})
	v0 := version(t, db)
	e := meta.PrivateEndpoint{RegistryID: a.ID, Name: "pe2", Address: "127.0.4.2:5000", State: meta.EndpointPending, Description: "why"}
	update(t, db, func(tx *meta.Tx) error { return tx.CreatePrivateEndpoint(t.Context(), &e) })
	if e.ID == 0 {
		t.Fatal("CreatePrivateEndpoint left ID 0")
	}
	wantTime(t, "CreatedAt", e.CreatedAt, t0)
	if v := version(t, db); v <= v0 {
		t.Errorf("registries version %d after a create, want more than %d", v, v0)
	}
	update(t, db, func(tx *meta.Tx) error {
		for _, x := range []meta.PrivateEndpoint{
			{RegistryID: a.ID, Name: "pe1", Address: "127.0.4.1:5000", State: meta.EndpointPending},
			{RegistryID: b.ID, Name: "pe1", Address: "127.0.4.3:5000", State: meta.EndpointPending},
		} {
			if err := tx.CreatePrivateEndpoint(t.Context(), &x); err != nil {
				return err
			}
		}
		return nil
	})
	all, err := db.PrivateEndpoints(t.Context())
	if err != nil {
		t.Fatalf("PrivateEndpoints: %v", err)
	}
	wantList(t, "PrivateEndpoints", endpointNames(all), []string{"rega/pe1", "rega/pe2", "regb/pe1"})
	ofA, err := db.RegistryPrivateEndpoints(t.Context(), a.ID)
	if err != nil {
		t.Fatalf("RegistryPrivateEndpoints: %v", err)
	}
	wantList(t, "RegistryPrivateEndpoints(a)", endpointNames(ofA), []string{"rega/pe1", "rega/pe2"})

	got, err := db.PrivateEndpoint(t.Context(), a.ID, "pe2")
	if err != nil {
		t.Fatalf("PrivateEndpoint: %v", err)
	}
	if got.ID != e.ID || got.RegistryID != a.ID || got.Registry != "rega" || got.Address != e.Address ||
		got.State != meta.EndpointPending || got.Description != "why" {
		t.Errorf("PrivateEndpoint = %+v, want %+v", got, e)
	}
	wantTime(t, "stored CreatedAt", got.CreatedAt, t0)
	_, err = db.PrivateEndpoint(t.Context(), b.ID, "pe2")
	wantErr(t, "PrivateEndpoint(other registry)", err, meta.ErrNotFound)

	later := c.advance(time.Minute)
	v1 := version(t, db)
	update(t, db, func(tx *meta.Tx) error {
		return tx.SetPrivateEndpointState(t.Context(), e.ID, meta.EndpointApproved, "ok")
	})
	got, _ = db.PrivateEndpoint(t.Context(), a.ID, "pe2")
	if got.State != meta.EndpointApproved || got.Description != "ok" {
		t.Errorf("after SetPrivateEndpointState: %+v", got)
	}
	wantTime(t, "UpdatedAt", got.UpdatedAt, later)
	wantTime(t, "CreatedAt after an update", got.CreatedAt, t0)
	if v := version(t, db); v <= v1 {
		t.Errorf("registries version %d after a state change, want more than %d", v, v1)
	}

	v2 := version(t, db)
	update(t, db, func(tx *meta.Tx) error { return tx.DeletePrivateEndpoint(t.Context(), e.ID) })
	_, err = db.PrivateEndpoint(t.Context(), a.ID, "pe2")
	wantErr(t, "PrivateEndpoint(deleted)", err, meta.ErrNotFound)
	if v := version(t, db); v <= v2 {
		t.Errorf("registries version %d after a delete, want more than %d", v, v2)
	}
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.DeletePrivateEndpoint(t.Context(), e.ID) })
	wantErr(t, "DeletePrivateEndpoint(deleted)", err, meta.ErrNotFound)
	err = db.Update(t.Context(), func(tx *meta.Tx) error {
		return tx.SetPrivateEndpointState(t.Context(), e.ID, meta.EndpointRejected, "")
	})
	wantErr(t, "SetPrivateEndpointState(deleted)", err, meta.ErrNotFound)
}

func testPrivateEndpointConflict(t *testing.T, db *meta.DB) {
	var a, b meta.Registry
	update(t, db, func(tx *meta.Tx) error {
		a, b = meta.Registry{Name: "rega"}, meta.Registry{Name: "regb"}
		if err := tx.CreateRegistry(t.Context(), &a); err != nil {
			return err
		}
		return tx.CreateRegistry(t.Context(), &b)
	})
	update(t, db, func(tx *meta.Tx) error {
		return tx.CreatePrivateEndpoint(t.Context(), &meta.PrivateEndpoint{RegistryID: a.ID, Name: "pe", Address: "127.0.4.1:5000", State: meta.EndpointPending})
	})
	v := version(t, db)
	for _, c := range []struct {
		what string
		e    meta.PrivateEndpoint
	}{
		{"the same name", meta.PrivateEndpoint{RegistryID: a.ID, Name: "pe", Address: "127.0.4.2:5000", State: meta.EndpointPending}},
		{"the same address in another registry", meta.PrivateEndpoint{RegistryID: b.ID, Name: "other", Address: "127.0.4.1:5000", State: meta.EndpointPending}},
	} {
		err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.CreatePrivateEndpoint(t.Context(), &c.e) })
		wantErr(t, "CreatePrivateEndpoint("+c.what+")", err, meta.ErrConflict)
	}
	// The same name in another registry is another endpoint.
	update(t, db, func(tx *meta.Tx) error {
		return tx.CreatePrivateEndpoint(t.Context(), &meta.PrivateEndpoint{RegistryID: b.ID, Name: "pe", Address: "127.0.4.3:5000", State: meta.EndpointPending})
	})
	all, _ := db.PrivateEndpoints(t.Context())
	wantList(t, "PrivateEndpoints", endpointNames(all), []string{"rega/pe", "regb/pe"})
	if got := version(t, db); got != v+1 {
		t.Errorf("registries version %d, want %d: refused creates must not bump it", got, v+1)
	}
}

// A registry's endpoints go with it, and their addresses are free again.
func testPrivateEndpointsGoWithRegistry(t *testing.T, db *meta.DB) {
	r := meta.Registry{Name: "rega"}
	update(t, db, func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &r) })
	update(t, db, func(tx *meta.Tx) error {
		return tx.CreatePrivateEndpoint(t.Context(), &meta.PrivateEndpoint{RegistryID: r.ID, Name: "pe", Address: "127.0.4.1:5000", State: meta.EndpointApproved})
	})
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteRegistry(t.Context(), r.ID) })
	all, err := db.PrivateEndpoints(t.Context())
	if err != nil {
		t.Fatalf("PrivateEndpoints: %v", err)
	}
	wantList(t, "PrivateEndpoints after the registry was deleted", endpointNames(all), []string{})
	s := meta.Registry{Name: "regb"}
	update(t, db, func(tx *meta.Tx) error {
		if err := tx.CreateRegistry(t.Context(), &s); err != nil {
			return err
		}
		return tx.CreatePrivateEndpoint(t.Context(), &meta.PrivateEndpoint{RegistryID: s.ID, Name: "pe", Address: "127.0.4.1:5000", State: meta.EndpointPending})
	})
}
