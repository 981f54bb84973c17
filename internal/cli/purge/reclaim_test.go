package purge_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/pkg/client"
)

// TestPurgeReclaimsStorage purges for real, runs one garbage collection
// pass with no grace period, and checks that the blob store shrank by
// exactly the content that only the deleted manifests used.
func TestPurgeReclaimsStorage(t *testing.T) {
	b := startBerth(t, func(c *config.Config) { c.GCGracePeriod = 0 })
	ctx := t.Context()
	seed(t, b)
	gc := b.srv.Collector()
	if st, err := gc.Collect(ctx); err != nil || st.Blobs != 0 {
		t.Fatalf("a pass before purge reclaimed %+v, %v; want nothing (everything is referenced)", st, err)
	}
	before, bytesBefore := referencedBlobs(t, b), storeBytes(t, b)

	if _, err := run(t, b, nil); err != nil {
		t.Fatal(err)
	}
	after := referencedBlobs(t, b)
	var unique int64
	for d, size := range before {
		if _, ok := after[d]; !ok {
			unique += size
		}
	}
	if unique == 0 {
		t.Fatal("the purge freed no blob: the test shows nothing")
	}
	st, err := gc.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytesBefore - storeBytes(t, b); got != unique || st.Bytes != unique {
		t.Errorf("the blob store shrank by %d bytes (the pass says %d), want %d: the content only deleted manifests used", got, st.Bytes, unique)
	}
	// What stays is whole: every tag resolves, every blob is there.
	checkWhole(t, b)
}

// referencedBlobs returns the config and layer blobs, with their sizes,
// of every manifest of every repository.
func referencedBlobs(t *testing.T, b *berth) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	rc := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: b.password})
	out := map[string]int64{}
	repos, err := b.m.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range repos {
		ms, err := b.m.Manifests(ctx, repo, client.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, mi := range ms {
			ref := regclient.Reference{Host: b.host, Repository: repo, Digest: oci.Digest(mi.Digest)}
			body, desc, err := rc.Manifest(ctx, ref, mi.Digest)
			if err != nil {
				t.Fatal(err)
			}
			m, err := oci.ParseManifest(desc.MediaType, body)
			if err != nil {
				t.Fatal(err)
			}
			for _, bl := range m.Blobs {
				out[string(bl.Digest)] = bl.Size
			}
		}
	}
	return out
}

// storeBytes is the size of every file of the server's blob store.
func storeBytes(t *testing.T, b *berth) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(b.srv.DataDir(), "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
