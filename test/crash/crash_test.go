package crash

import (
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testserver"
)

const (
	cycles  = 3 // kill and restart this many times in one test
	pushers = 8
	// The kill comes after minKill plus up to killSpread of traffic.
	minKill    = 500 * time.Millisecond
	killSpread = 1500 * time.Millisecond
	seedEnv    = "CRASH_SEED"
)

// TestKillDuringPushes kills berth with SIGKILL while eight clients push
// images (monolithic, chunked and streamed blob uploads, configs, manifests
// by tag), restarts it on the same data directory, and checks the store:
//
//  1. every manifest acknowledged with 201 is served by digest with the same
//     bytes, and every acknowledged tag names its last acknowledged manifest
//     or one its pusher sent after it;
//  2. every manifest in meta.db, and every tag tags/list lists, is served
//     with every blob it refers to whole (HEAD 200 with the size, GET bytes
//     that hash to the digest), and meta.db agrees with itself and the blob
//     tree;
//  3. every file under blobs/ hashes to its name, and nothing else is there;
//  4. every blob acknowledged with 201 is served whole;
//  5. every upload session a client held answers 204 with a Range between
//     what was acknowledged and what was sent, and then finishes from there,
//     or 404 BLOB_UPLOAD_UNKNOWN because its closing PUT had landed.
//
// It does this three times on the same store, then stops the server
// gracefully and checks meta.db and the blob tree once more. A failure
// prints the seed; CRASH_SEED=<seed> replays its choices (the kill's timing
// against the traffic cannot be replayed exactly).
func TestKillDuringPushes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs berth serve for several seconds")
	}
	seed := crashSeed(t)
	t.Logf("seed %d (replay with %s=%d)", seed, seedEnv, seed)
	rng := mrand.New(mrand.NewPCG(seed, 0))
	ctx := t.Context()
	srv := testserver.Start(t, testserver.Opts{})
	led := newLedger()

	for cycle := 1; cycle <= cycles && !t.Failed(); cycle++ {
		c := newClient(srv)
		stage(ctx, t, c, led, rng)
		var killed atomic.Bool
		var wg sync.WaitGroup
		images := make([]int, pushers)
		for i := range pushers {
			p := newPusher(t, seed, cycle, i, c, led, &killed)
			wg.Go(func() { images[i] = p.run(ctx) })
		}
		after := minKill + time.Duration(rng.Int64N(int64(killSpread)))
		time.Sleep(after)
		killed.Store(true)
		srv.Kill()
		wg.Wait()
		c.close()
		pushed := 0
		for _, n := range images {
			pushed += n
		}

		held := led.takeHeld()
		torn, renamed := crashPoints(t, srv.DataDir, held, rng)
		srv.Restart(t)
		c = newClient(srv)
		ck := newChecker(t, c)

		snap := readMeta(ctx, t, srv.DataDir)
		snap.consistent(t, srv.DataDir)
		files := blobTree(t, srv.DataDir)
		snap.served(ctx, ck, led)
		ck.acked(ctx, led)
		outcomes := map[string]int{}
		for _, u := range held {
			outcomes[ck.resume(ctx, led, u)]++
		}
		c.close()

		blobs, manifests, tags := led.counts()
		t.Logf("cycle %d: killed after %v with %d images pushed; acknowledged so far: %d blobs, %d manifests, %d tags",
			cycle, after.Round(time.Millisecond), pushed, blobs, manifests, tags)
		t.Logf("cycle %d: after the restart: meta.db %d manifests, %d tags, %d blobs, %d upload rows; %d blob files",
			cycle, len(snap.manifests), len(snap.tags), len(snap.blobs), snap.uploads, files)
		t.Logf("cycle %d: %d sessions held (%d torn, %d renamed): %d resumed, %d finished before the kill, %d restarted, %d failed",
			cycle, len(held), torn, renamed, outcomes["resumed"], outcomes["finished"], outcomes["restarted"], outcomes["failed"])
	}

	// After a graceful stop the store must be just as consistent.
	srv.Stop()
	readMeta(ctx, t, srv.DataDir).consistent(t, srv.DataDir)
	blobTree(t, srv.DataDir)
}

// crashSeed is CRASH_SEED when set, else a random seed.
func crashSeed(t *testing.T) uint64 {
	if s := os.Getenv(seedEnv); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", seedEnv, s, err)
		}
		return n
	}
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}
