package meta_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// Two stores on one file, as two replicas on one data directory: runs
// queued through either are leased once each, whichever store leases.
func TestSQLiteLeaseAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	a, b := openSQLite(t, path), openSQLite(t, path)
	reg := meta.Registry{Name: "reg"}
	update(t, a, func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &reg) })
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		db := []*meta.DB{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := meta.Run{RegistryID: reg.ID, RunType: meta.RunQuickBuild, AgentPool: "local", Request: []byte(`{}`), TimeoutSeconds: 60}
			if err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.CreateRun(t.Context(), &r) }); err != nil {
				t.Errorf("CreateRun: %v", err)
			}
		}()
	}
	wg.Wait()
	var mu sync.Mutex
	leased := map[string]int{}
	for i := range 2 * n {
		db := []*meta.DB{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r meta.Run
			err := db.Update(t.Context(), func(tx *meta.Tx) error {
				var err error
				r, err = tx.LeaseRun(t.Context(), "local", "agent", fmt.Sprint("lease", i), time.Minute)
				return err
			})
			if errors.Is(err, meta.ErrNotFound) {
				return
			}
			if err != nil {
				t.Errorf("LeaseRun: %v", err)
				return
			}
			mu.Lock()
			leased[r.RunID]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(leased) != n {
		t.Errorf("%d runs leased, want %d", len(leased), n)
	}
	for id, k := range leased {
		if k != 1 {
			t.Errorf("%s leased %d times", id, k)
		}
	}
	rs, err := b.Runs(t.Context(), reg.ID, meta.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if want := meta.RunID(int64(n - i)); r.RunID != want {
			t.Errorf("run %d is %s, want %s", i, r.RunID, want)
		}
	}
}
