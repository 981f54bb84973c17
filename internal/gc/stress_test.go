package gc_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/registry"
)

// stressDuration is how long TestStress pushes, deletes and collects at
// once. Raise it to hunt for races; -short runs a few seconds.
const stressDuration = 20 * time.Second

// stressGrace is the grace period of the stress test's collectors: longer
// than any one push takes here, short enough that content deleted early in
// the run is collected while pushers push the same bytes again.
const stressGrace = 2 * time.Second

// TestStress runs pushers (which also delete their images and, now and
// then, a whole repository) beside two collectors, as two replicas would
// run them, then checks that every image left resolves with all its blobs.
func TestStress(t *testing.T) {
	d := stressDuration
	if testing.Short() {
		d = 3 * time.Second
	}
	e := newEnv(t)
	// A small pool of layers every pusher uses: they are deleted with the
	// images that used them and pushed again, so collectors and pushers
	// meet on the same digests.
	shared := make([][]byte, 6)
	for i := range shared {
		shared[i] = random(512 + i)
	}
	ctx, stop := context.WithTimeout(t.Context(), d)
	defer stop()
	var collected atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		c := e.collector(stressGrace)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				st, err := c.Collect(ctx)
				if err != nil && ctx.Err() == nil {
					t.Errorf("Collect: %v", err)
					return
				}
				collected.Add(int64(st.Blobs))
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	const pushers = 4
	live := make([]map[string]image, pushers) // by repo:tag, per pusher
	var pushes atomic.Int64
	for p := range pushers {
		live[p] = map[string]image{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(p), 1))
			for i := 0; ctx.Err() == nil; i++ {
				repo := fmt.Sprintf("p%d/r%d", p, r.IntN(3))
				tag := fmt.Sprintf("t%d", r.IntN(4))
				img, err := e.pushImage(ctx, repo, tag, random(64), shared[r.IntN(len(shared))], shared[r.IntN(len(shared))], random(256))
				var unknown *registry.BlobsUnknownError
				switch {
				case ctx.Err() != nil:
					return
				case errors.As(err, &unknown):
					// A blob outlived its grace period before its manifest
					// came: the push fails as it would for a client, and
					// nothing is recorded. Rare at this grace (seen under -race).
					t.Logf("push %s:%s: %v", repo, tag, err)
					continue
				case err != nil:
					t.Errorf("push %s:%s: %v", repo, tag, err)
					return
				}
				pushes.Add(1)
				live[p][repo+":"+tag] = img
				switch r.IntN(10) {
				case 0, 1, 2: // delete the image just pushed
					if err := e.svc.DeleteManifest(ctx, e.reg, repo, registry.Reference{Digest: img.digest}); err != nil && ctx.Err() == nil {
						t.Errorf("DeleteManifest: %v", err)
						return
					}
					// Its tag went with it, and any other tag naming the same digest.
					for k, v := range live[p] {
						if v.repo == repo && v.digest == img.digest {
							delete(live[p], k)
						}
					}
				case 3: // delete the whole repository
					if _, err := e.svc.DeleteRepository(ctx, e.reg, repo); err != nil && ctx.Err() == nil {
						t.Errorf("DeleteRepository: %v", err)
						return
					}
					for k, v := range live[p] {
						if v.repo == repo {
							delete(live[p], k)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Some of the last changes may have raced the deadline; a write that
	// failed on ctx was not applied, one that succeeded is in live. Re-read
	// the tags the pushers think they hold, then collect everything not
	// referenced, with no grace at all, and check again.
	for _, m := range live {
		for _, img := range m {
			e.check(t, img)
		}
	}
	st, err := e.collector(0).Collect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range live {
		for _, img := range m {
			e.check(t, img)
			n++
		}
	}
	t.Logf("%d pushes, %d blobs collected while pushing, %d after; %d images checked",
		pushes.Load(), collected.Load(), st.Blobs, n)
	if pushes.Load() == 0 || collected.Load() == 0 {
		t.Errorf("the stress test did not push and collect at once (%d pushes, %d collected)", pushes.Load(), collected.Load())
	}
}
