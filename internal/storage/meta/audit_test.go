package meta_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// The foreign keys take a deleted registry's audit rows with it, whatever
// the API shows.
func TestSQLiteNetworkAuditCascade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db := openSQLite(t, path)
	r := meta.Registry{Name: "gone1"}
	update(t, db, func(tx *meta.Tx) error {
		if err := tx.CreateRegistry(t.Context(), &r); err != nil {
			return err
		}
		if err := tx.AddNetworkDenials(t.Context(), []meta.NetworkDenial{{RegistryID: r.ID, Registry: r.Name, At: time.Now(),
			ClientIP: "10.0.0.1", Method: "GET", Path: "/v2/", Reason: "denied"}}); err != nil {
			return err
		}
		return tx.AddNetworkChange(t.Context(), &meta.NetworkChange{RegistryID: r.ID, PrincipalName: "admin", Change: "{}"})
	})
	raw := rawSQL(t, path)
	if n := count(t, raw, `SELECT count(*) FROM network_denials`) + count(t, raw, `SELECT count(*) FROM network_changes`); n != 2 {
		t.Fatalf("%d audit rows, want 2", n)
	}
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteRegistry(t.Context(), r.ID) })
	if n := count(t, raw, `SELECT count(*) FROM network_denials`) + count(t, raw, `SELECT count(*) FROM network_changes`); n != 0 {
		t.Errorf("%d audit rows outlived their registry", n)
	}
}
