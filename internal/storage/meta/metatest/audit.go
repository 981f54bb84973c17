package metatest

import (
	"fmt"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// newRegistry creates a registry and returns it.
func newRegistry(t *testing.T, db *meta.DB, name string) meta.Registry {
	t.Helper()
	r := meta.Registry{Name: name}
	update(t, db, func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &r) })
	return r
}

// denial is a denial of registry r at t0+minutes, from 10.0.0.<minutes>.
func denial(r meta.Registry, minutes int) meta.NetworkDenial {
	return meta.NetworkDenial{RegistryID: r.ID, Registry: r.Name, At: t0.Add(time.Duration(minutes) * time.Minute),
		ClientIP: fmt.Sprintf("10.0.0.%d", minutes), Method: "GET", Path: "/v2/", Reason: "denied"}
}

func addDenials(t *testing.T, db *meta.DB, ds ...meta.NetworkDenial) {
	t.Helper()
	update(t, db, func(tx *meta.Tx) error { return tx.AddNetworkDenials(t.Context(), ds) })
}

func denialIPs(ds []meta.NetworkDenial) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ClientIP)
	}
	return out
}

func denials(t *testing.T, db *meta.DB, reg int64, since time.Time, n int) []meta.NetworkDenial {
	t.Helper()
	ds, err := db.NetworkDenials(t.Context(), reg, since, n)
	if err != nil {
		t.Fatalf("NetworkDenials: %v", err)
	}
	return ds
}

func testNetworkDenials(t *testing.T, db *meta.DB) {
	a, b := newRegistry(t, db, "rega"), newRegistry(t, db, "regb")
	full := meta.NetworkDenial{RegistryID: a.ID, Registry: a.Name, At: t0, ClientIP: "127.0.9.9",
		Identity: "ci", Method: "PUT", Path: "/v2/lib/app/manifests/v1", Reason: "public-access-disabled"}
	addDenials(t, db, full, denial(a, 2), denial(b, 1), denial(a, 1))
	addDenials(t, db, denial(a, 3))

	got := denials(t, db, a.ID, time.Time{}, 0)
	wantList(t, "denials, newest first", denialIPs(got), []string{"10.0.0.3", "10.0.0.2", "10.0.0.1", "127.0.9.9"})
	last := got[len(got)-1]
	if last.ID == 0 || last.RegistryID != a.ID || last.Registry != "rega" || last.ClientIP != full.ClientIP ||
		last.Identity != "ci" || last.Method != "PUT" || last.Path != full.Path || last.Reason != full.Reason {
		t.Errorf("stored denial = %+v, want %+v", last, full)
	}
	wantTime(t, "denial At", last.At, t0)
	wantList(t, "other registry's denials", denialIPs(denials(t, db, b.ID, time.Time{}, 0)), []string{"10.0.0.1"})

	// since is inclusive; n bounds the newest.
	wantList(t, "since t0+2m", denialIPs(denials(t, db, a.ID, t0.Add(2*time.Minute), 0)), []string{"10.0.0.3", "10.0.0.2"})
	wantList(t, "n=2", denialIPs(denials(t, db, a.ID, time.Time{}, 2)), []string{"10.0.0.3", "10.0.0.2"})
	wantList(t, "since in the future", denialIPs(denials(t, db, a.ID, t0.Add(time.Hour), 0)), []string{})

	// Equal times list the later record first.
	same := denial(b, 1)
	same.ClientIP = "10.0.1.1"
	addDenials(t, db, same)
	wantList(t, "equal times", denialIPs(denials(t, db, b.ID, time.Time{}, 0)), []string{"10.0.1.1", "10.0.0.1"})
}

// A denial recorded after its registry was deleted (or whose id now names
// another registry) is skipped, and the rest of its batch is kept.
func testNetworkDenialsOfDeletedRegistry(t *testing.T, db *meta.DB) {
	a, gone := newRegistry(t, db, "rega"), newRegistry(t, db, "gone1")
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteRegistry(t.Context(), gone.ID) })
	other := denial(a, 2)
	other.Registry = "renamed"
	addDenials(t, db, denial(gone, 1), denial(a, 1), other)
	wantList(t, "denials", denialIPs(denials(t, db, a.ID, time.Time{}, 0)), []string{"10.0.0.1"})
	wantList(t, "deleted registry's denials", denialIPs(denials(t, db, gone.ID, time.Time{}, 0)), []string{})
}

func testPruneNetworkDenials(t *testing.T, db *meta.DB) {
	a, b := newRegistry(t, db, "rega"), newRegistry(t, db, "regb")
	for m := 1; m <= 6; m++ {
		addDenials(t, db, denial(a, m))
	}
	addDenials(t, db, denial(b, 1), denial(b, 5))
	prune := func(before time.Time, keep int) int64 {
		t.Helper()
		var n int64
		update(t, db, func(tx *meta.Tx) error {
			var err error
			n, err = tx.PruneNetworkDenials(t.Context(), before, keep)
			return err
		})
		return n
	}
	// Older than t0+2m: a's first and b's first go.
	if n := prune(t0.Add(2*time.Minute), 0); n != 2 {
		t.Errorf("prune by age removed %d, want 2", n)
	}
	wantList(t, "a after pruning by age", denialIPs(denials(t, db, a.ID, time.Time{}, 0)),
		[]string{"10.0.0.6", "10.0.0.5", "10.0.0.4", "10.0.0.3", "10.0.0.2"})
	wantList(t, "b after pruning by age", denialIPs(denials(t, db, b.ID, time.Time{}, 0)), []string{"10.0.0.5"})
	// At most 3 per registry: the newest stay.
	if n := prune(t0, 3); n != 2 {
		t.Errorf("prune by count removed %d, want 2", n)
	}
	wantList(t, "a after pruning by count", denialIPs(denials(t, db, a.ID, time.Time{}, 0)),
		[]string{"10.0.0.6", "10.0.0.5", "10.0.0.4"})
	wantList(t, "b after pruning by count", denialIPs(denials(t, db, b.ID, time.Time{}, 0)), []string{"10.0.0.5"})
	if n := prune(t0, 3); n != 0 {
		t.Errorf("pruning again removed %d, want 0", n)
	}
}

func changes(t *testing.T, db *meta.DB, reg int64, since time.Time, n int) []meta.NetworkChange {
	t.Helper()
	cs, err := db.NetworkChanges(t.Context(), reg, since, n)
	if err != nil {
		t.Fatalf("NetworkChanges: %v", err)
	}
	return cs
}

func changeTexts(cs []meta.NetworkChange) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Change)
	}
	return out
}

func testNetworkChanges(t *testing.T, db *meta.DB) {
	c := setClock(db)
	a, b := newRegistry(t, db, "rega"), newRegistry(t, db, "regb")
	add := func(r meta.Registry, change string) meta.NetworkChange {
		t.Helper()
		nc := meta.NetworkChange{RegistryID: r.ID, PrincipalID: "p-1", PrincipalName: "admin", PrincipalKind: "user", Change: change}
		update(t, db, func(tx *meta.Tx) error { return tx.AddNetworkChange(t.Context(), &nc) })
		return nc
	}
	first := add(a, `{"n":1}`)
	if first.ID == 0 {
		t.Errorf("AddNetworkChange left ID 0")
	}
	wantTime(t, "change At (the transaction's time)", first.At, t0)
	c.advance(time.Minute)
	add(b, `{"n":2}`)
	c.advance(time.Minute)
	add(a, `{"n":3}`)

	got := changes(t, db, a.ID, time.Time{}, 0)
	wantList(t, "changes, newest first", changeTexts(got), []string{`{"n":3}`, `{"n":1}`})
	g := got[1]
	if g.ID != first.ID || g.RegistryID != a.ID || g.Registry != "rega" || g.PrincipalID != "p-1" ||
		g.PrincipalName != "admin" || g.PrincipalKind != "user" {
		t.Errorf("stored change = %+v, want %+v", g, first)
	}
	wantTime(t, "stored At", g.At, t0)
	wantList(t, "since t0+1m", changeTexts(changes(t, db, a.ID, t0.Add(time.Minute), 0)), []string{`{"n":3}`})
	wantList(t, "n=1", changeTexts(changes(t, db, a.ID, time.Time{}, 1)), []string{`{"n":3}`})
	wantList(t, "other registry", changeTexts(changes(t, db, b.ID, time.Time{}, 0)), []string{`{"n":2}`})
}

// Deleting a registry deletes its audit with it.
func testNetworkAuditGoesWithRegistry(t *testing.T, db *meta.DB) {
	keep, gone := newRegistry(t, db, "keep1"), newRegistry(t, db, "gone1")
	addDenials(t, db, denial(keep, 1), denial(gone, 1))
	update(t, db, func(tx *meta.Tx) error {
		for _, r := range []meta.Registry{keep, gone} {
			if err := tx.AddNetworkChange(t.Context(), &meta.NetworkChange{RegistryID: r.ID, PrincipalName: "admin", Change: "{}"}); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteRegistry(t.Context(), gone.ID) })
	// A registry made now may get the deleted one's id back: it must start
	// with no audit.
	again := newRegistry(t, db, "gone1")
	if n := len(denials(t, db, again.ID, time.Time{}, 0)) + len(denials(t, db, gone.ID, time.Time{}, 0)); n != 0 {
		t.Errorf("%d denials outlived their registry", n)
	}
	if n := len(changes(t, db, again.ID, time.Time{}, 0)) + len(changes(t, db, gone.ID, time.Time{}, 0)); n != 0 {
		t.Errorf("%d changes outlived their registry", n)
	}
	if len(denials(t, db, keep.ID, time.Time{}, 0)) != 1 || len(changes(t, db, keep.ID, time.Time{}, 0)) != 1 {
		t.Errorf("the other registry's audit went too")
	}
}
