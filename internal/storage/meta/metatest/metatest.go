// Package metatest is the conformance suite every metadata store backend
// (SQLite now, PostgreSQL later) must pass. It owns the observable contract
// of *meta.DB and *meta.Tx: what a write leaves behind, what a read returns,
// how listings order and page, and what Update promises about concurrent
// transactions. It knows nothing of tables, SQL or files.
package metatest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Run runs the suite. open returns a fresh, empty store for each subtest;
// closing it is open's business (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) *meta.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *meta.DB)
	}{
		// content.go: registries, repositories, blobs
		{"CreateRegistry", testCreateRegistry},
		{"RegistryConflict", testRegistryConflict},
		{"RegistriesByName", testRegistriesByName},
		{"EnsureRepository", testEnsureRepository},
		{"UpsertRepository", testUpsertRepository},
		{"TouchRepository", testTouchRepository},
		{"RepositoryNotFound", testRepositoryNotFound},
		{"RepositoriesPaging", testRepositoriesPaging},
		{"RepositoriesHidden", testRepositoriesHidden},
		{"RepositoriesPerRegistry", testRepositoriesPerRegistry},
		{"RepositoryAttributes", testRepositoryAttributes},
		{"DeleteRepository", testDeleteRepository},
		{"PutBlob", testPutBlob},
		{"LinkBlob", testLinkBlob},
		{"MissingBlobs", testMissingBlobs},
		// manifests.go
		{"InsertManifest", testInsertManifest},
		{"InsertManifestExisting", testInsertManifestExisting},
		{"ManifestNotFound", testManifestNotFound},
		{"ResolveTag", testResolveTag},
		{"DeleteManifest", testDeleteManifest},
		{"Referrers", testReferrers},
		{"ManifestsByName", testManifestsByName},
		{"ManifestsByTime", testManifestsByTime},
		{"ManifestByDigest", testManifestByDigest},
		{"MissingManifests", testMissingManifests},
		{"ManifestAttributes", testManifestAttributes},
		// tags.go: tags, uploads, users
		{"PutTag", testPutTag},
		{"MoveTag", testMoveTag},
		{"DeleteTag", testDeleteTag},
		{"TagAttributes", testTagAttributes},
		{"TagNames", testTagNames},
		{"TagsByName", testTagsByName},
		{"TagsByTime", testTagsByTime},
		{"Upload", testUpload},
		{"AdvanceUpload", testAdvanceUpload},
		{"AdvanceUploadConflict", testAdvanceUploadConflict},
		{"AdvanceUnknownUpload", testAdvanceUnknownUpload},
		{"CreateUploadConflict", testCreateUploadConflict},
		{"DeleteUpload", testDeleteUpload},
		{"PutUser", testPutUser},
		{"UserNotFound", testUserNotFound},
		// counts.go
		{"ListedTags", testListedTags},
		{"ListedTagsByTime", testListedTagsByTime},
		{"ListedTagsOfDigest", testListedTagsOfDigest},
		{"ListedManifests", testListedManifests},
		{"ListedManifestsByTime", testListedManifestsByTime},
		{"ContentCounts", testContentCounts},
		{"ManifestWithTags", testManifestWithTags},
		// gc.go: online blob garbage collection, usage
		{"GarbageBlobs", testGarbageBlobs},
		{"ReserveRefreshes", testReserveRefreshes},
		{"GarbageKeepsRunLogs", testGarbageKeepsRunLogs},
		{"RegistryUsage", testRegistryUsage},
		// audit.go: the audit of the network perimeter
		{"NetworkDenials", testNetworkDenials},
		{"NetworkDenialsOfDeletedRegistry", testNetworkDenialsOfDeletedRegistry},
		{"PruneNetworkDenials", testPruneNetworkDenials},
		{"NetworkChanges", testNetworkChanges},
		{"NetworkAuditGoesWithRegistry", testNetworkAuditGoesWithRegistry},
		// privateendpoints.go
		{"PrivateEndpoints", testPrivateEndpoints},
		{"PrivateEndpointConflict", testPrivateEndpointConflict},
		{"PrivateEndpointsGoWithRegistry", testPrivateEndpointsGoWithRegistry},
		// agentpools.go: dedicated agent pools
		{"AgentPools", testAgentPools},
		{"AgentPoolConflict", testAgentPoolConflict},
		{"AgentPoolsGoWithRegistry", testAgentPoolsGoWithRegistry},
		// runs.go: runs, the queue, logs, build contexts
		{"RunIDs", testRunIDs},
		{"CreateRun", testCreateRun},
		{"RunsListing", testRunsListing},
		{"LeaseExclusive", testLeaseExclusive},
		{"RenewRunLease", testRenewRunLease},
		{"ReapRuns", testReapRuns},
		{"CancelRun", testCancelRun},
		{"RunLog", testRunLog},
		{"BuildContexts", testBuildContexts},
		{"RunsGoWithRegistry", testRunsGoWithRegistry},
		// db.go: transactions
		{"Ping", testPing},
		{"UpdateErrorUndoesAll", testUpdateErrorUndoesAll},
		{"UpdateAfterError", testUpdateAfterError},
		{"UpdateCancelled", testUpdateCancelled},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"CancelInsideGroup", testCancelInsideGroup},
		{"ReadOwnWrites", testReadOwnWrites},
		{"Clock", testClock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

var errBoom = errors.New("metatest: fn failed on purpose")

// t0 is the suite's epoch; the clock starts there.
var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

// clock is a settable clock for SetClock; it moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// setClock gives db a clock standing at t0.
func setClock(db *meta.DB) *clock {
	c := &clock{now: t0}
	db.SetClock(c.Now)
	return c
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// advance moves the clock by d and returns the new time.
func (c *clock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// update runs fn in a transaction and fails the test if it fails.
func update(t *testing.T, db *meta.DB, fn func(tx *meta.Tx) error) {
	t.Helper()
	if err := db.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// digest is the sha256 of s.
func digest(s string) oci.Digest { return oci.FromBytes([]byte(s)) }

// fixture is a registry with one repository in it.
type fixture struct {
	reg    int64  // registry id
	repo   string // repository name
	repoID int64
}

// newFixture creates registry "reg" with repository "lib/app".
func newFixture(t *testing.T, db *meta.DB) fixture {
	t.Helper()
	f := fixture{repo: "lib/app"}
	update(t, db, func(tx *meta.Tx) error {
		r := meta.Registry{Name: "reg"}
		if err := tx.CreateRegistry(t.Context(), &r); err != nil {
			return fmt.Errorf("CreateRegistry: %w", err)
		}
		f.reg = r.ID
		var err error
		f.repoID, err = tx.EnsureRepository(t.Context(), f.reg, f.repo)
		return err
	})
	return f
}

// putManifest inserts a manifest with content c (and digest sha256(c)) into
// repository repoID, recording its blobs first, and returns it as inserted.
func putManifest(t *testing.T, db *meta.DB, repoID int64, c string, blobs ...oci.Digest) meta.Manifest {
	t.Helper()
	m := newManifest(repoID, c)
	m.Blobs = blobs
	update(t, db, func(tx *meta.Tx) error {
		for _, b := range blobs {
			if err := tx.PutBlob(t.Context(), b, 10); err != nil {
				return err
			}
		}
		isNew, err := tx.InsertManifest(t.Context(), &m)
		if err == nil && !isNew {
			err = fmt.Errorf("InsertManifest(%s) = false, want a new manifest", m.Digest)
		}
		return err
	})
	return m
}

func newManifest(repoID int64, c string) meta.Manifest {
	return meta.Manifest{
		RepositoryID: repoID,
		Digest:       digest(c),
		MediaType:    oci.MediaTypeImageManifest,
		Size:         int64(len(c)),
		Content:      []byte(c),
	}
}

// putTag points tag name at d.
func putTag(t *testing.T, db *meta.DB, repoID int64, name string, d oci.Digest) {
	t.Helper()
	update(t, db, func(tx *meta.Tx) error { return tx.PutTag(t.Context(), repoID, name, d) })
}

// wantErr checks that err is target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
	}
}

// wantTime checks that got is the instant want.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantList checks a listing's names, in order.
func wantList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func tagNames(ts []meta.Tag) []string {
	out := []string{}
	for _, tg := range ts {
		out = append(out, tg.Name)
	}
	return out
}

func manifestDigests(ms []meta.Manifest) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, string(m.Digest))
	}
	return out
}

func repoNames(rs []meta.Repository) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func digestStrings(ds []oci.Digest) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, string(d))
	}
	return out
}

// locked is Unlocked with listing and deleting turned off.
var locked = meta.Attributes{DeleteEnabled: false, WriteEnabled: true, ListEnabled: false, ReadEnabled: true}
