package purge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/purge"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/testserver"
	"github.com/berth-project/berth/pkg/client"
)

// stressDuration is how long pushers, purge and the server's garbage
// collector run together; -short makes it a few seconds.
const stressDuration = 60 * time.Second

// TestStressPushPurgeCollect runs a real server whose garbage collector
// runs every 200 ms with a 2 s grace period, three pushers (images that
// share layers, multi-arch indexes, signatures) and `berth purge` in a
// loop, all at once; then it lets the collector pass again and checks that
// every tag resolves and every manifest has all its blobs and members.
func TestStressPushPurgeCollect(t *testing.T) {
	d := stressDuration
	if testing.Short() {
		d = 5 * time.Second
	}
	cfg := filepath.Join(t.TempDir(), "berth.yaml")
	if err := os.WriteFile(cfg, []byte("gcGracePeriod: 2s\ngcInterval: 200ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Opts{Args: []string{"--config", cfg}})
	b := connect(t, srv.URL, srv.Password)

	shared := make([][]byte, 5)
	for i := range shared {
		shared[i] = []byte(strings.Repeat(fmt.Sprintf("shared layer %d\n", i), 50+i))
	}
	ctx, stop := context.WithTimeout(t.Context(), d)
	defer stop()
	var wg sync.WaitGroup
	var pushes, purges atomic.Int64
	for p := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pushLoop(ctx, t, b, p, shared, &pushes)
		}()
	}
	var deleted atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			streams, _, out, _ := cmdutil.Test()
			err := purge.Run(ctx, &purge.Options{
				IO: streams, Client: func() (*client.Client, error) { return b.c, nil }, Now: time.Now,
				// An untagged manifest younger than a second may be the
				// member of an index being pushed: --ago 0d would race
				// the pushers as it would race any client.
				Registry: "default", Filters: []string{"stress/.*:.*"}, Ago: "1s", Keep: 2,
				Untagged: true, Concurrency: 4,
			})
			if err != nil && ctx.Err() == nil {
				t.Errorf("purge: %v", err)
				return
			}
			purges.Add(1)
			deleted.Add(int64(strings.Count(out.String(), "Deleted: ")))
		}
	}()
	wg.Wait()
	if t.Failed() {
		return
	}

	// Let the collector pass at least twice more, past the grace period
	// of everything pushed, then check that nothing in use was lost.
	start := gcPasses(t, b)
	time.Sleep(2500 * time.Millisecond)
	for deadline := time.Now().Add(30 * time.Second); gcPasses(t, b) < start+2; {
		if time.Now().After(deadline) {
			t.Fatal("the server's garbage collector made no pass in 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	n := checkWhole(t, b)
	reclaimed := metric(t, b, "berth_gc_blobs_deleted_total")
	t.Logf("%d pushes, %d purges deleting %d tags and manifests, %d blobs reclaimed; %d manifests checked whole",
		pushes.Load(), purges.Load(), deleted.Load(), int(reclaimed), n)
	if pushes.Load() == 0 || deleted.Load() == 0 || reclaimed == 0 || n == 0 {
		t.Errorf("the stress test did not push, purge and collect at once")
	}
}

// pushLoop pushes into stress/p<p>: images with two shared layers and one
// of their own under rotating tags, now and then a two-image index and a
// signature of an image, until ctx ends.
func pushLoop(ctx context.Context, t *testing.T, b *berth, p int, shared [][]byte, pushes *atomic.Int64) {
	l, err := ocilayout.Create(t.TempDir())
	if err != nil {
		t.Error(err)
		return
	}
	rc := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: b.password})
	r := rand.New(rand.NewPCG(uint64(p), 7))
	repo := fmt.Sprintf("stress/p%d", p)
	push := func(desc oci.Descriptor, tag string) bool {
		ref := regclient.Reference{Host: b.host, Repository: repo, Tag: tag}
		if tag == "" {
			ref.Digest = desc.Digest
		}
		_, err := rc.Push(ctx, l, desc, ref)
		switch {
		case ctx.Err() != nil:
			return false
		case err != nil:
			t.Errorf("push %s: %v", ref, err)
			return false
		}
		pushes.Add(1)
		return true
	}
	for i := 0; ctx.Err() == nil; i++ {
		img, err := layoutImage(l, fmt.Sprintf("%d/%d", p, i), shared[r.IntN(len(shared))], shared[r.IntN(len(shared))], nil)
		if err != nil {
			t.Error(err)
			return
		}
		if !push(img, "t"+strconv.Itoa(r.IntN(6))) {
			return
		}
		switch i % 4 {
		case 1: // a signature of the image
			sig, err := layoutImage(l, fmt.Sprintf("sig %d/%d", p, i), nil, nil, &img)
			if err != nil {
				t.Error(err)
				return
			}
			if !push(sig, "") {
				return
			}
		case 2: // a multi-arch index of two fresh images
			a, err1 := layoutImage(l, fmt.Sprintf("amd %d/%d", p, i), shared[0], nil, nil)
			c, err2 := layoutImage(l, fmt.Sprintf("arm %d/%d", p, i), shared[1], nil, nil)
			if err1 != nil || err2 != nil {
				t.Error(err1, err2)
				return
			}
			idx, err := putJSON(l, oci.MediaTypeImageIndex, map[string]any{"schemaVersion": 2, "mediaType": oci.MediaTypeImageIndex, "manifests": []oci.Descriptor{a, c}})
			if err != nil {
				t.Error(err)
				return
			}
			if !push(idx, "multi"+strconv.Itoa(r.IntN(2))) {
				return
			}
		}
	}
}

// layoutImage writes an image into l: an own layer, the shared layers
// given, and subject when it is not nil.
func layoutImage(l *ocilayout.Layout, own string, s1, s2 []byte, subject *oci.Descriptor) (oci.Descriptor, error) {
	var layers []oci.Descriptor
	for _, content := range [][]byte{[]byte("own layer " + own), s1, s2} {
		if content == nil {
			continue
		}
		d, err := l.PutBytes("application/vnd.oci.image.layer.v1.tar", content)
		if err != nil {
			return d, err
		}
		layers = append(layers, d)
	}
	cfg, err := l.PutBytes("application/vnd.oci.image.config.v1+json", []byte(`{"architecture":"amd64","os":"linux","own":"`+own+`"}`))
	if err != nil {
		return cfg, err
	}
	m := map[string]any{"schemaVersion": 2, "mediaType": oci.MediaTypeImageManifest, "config": cfg, "layers": layers}
	if subject != nil {
		m["subject"] = subject
	}
	return putJSON(l, oci.MediaTypeImageManifest, m)
}

func putJSON(l *ocilayout.Layout, mediaType string, v any) (oci.Descriptor, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return oci.Descriptor{}, err
	}
	return l.PutBytes(mediaType, body)
}

// checkWhole checks that every tag of b resolves and that every manifest
// has its blobs and its members; it returns how many manifests it read.
func checkWhole(t *testing.T, b *berth) int {
	t.Helper()
	ctx := context.Background()
	rc := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: b.password})
	repos, err := b.m.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, repo := range repos {
		tags, err := b.m.Tags(ctx, repo, client.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range tags {
			if _, _, err := rc.Manifest(ctx, regclient.Reference{Host: b.host, Repository: repo, Tag: tg.Name}, tg.Name); err != nil {
				t.Errorf("tag %s:%s does not resolve: %v", repo, tg.Name, err)
			}
		}
		ms, err := b.m.Manifests(ctx, repo, client.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, mi := range ms {
			ref := regclient.Reference{Host: b.host, Repository: repo, Digest: oci.Digest(mi.Digest)}
			body, desc, err := rc.Manifest(ctx, ref, mi.Digest)
			if err != nil {
				t.Errorf("%s@%s: %v", repo, mi.Digest, err)
				continue
			}
			n++
			m, err := oci.ParseManifest(desc.MediaType, body)
			if err != nil {
				t.Fatal(err)
			}
			for _, bl := range m.Blobs {
				rd, err := rc.Blob(ctx, ref, bl)
				if err != nil {
					t.Errorf("%s@%s: blob %s: %v", repo, mi.Digest, bl.Digest, err)
					continue
				}
				rd.Close()
			}
			for _, ch := range m.Children {
				if _, _, err := rc.Manifest(ctx, ref, string(ch.Digest)); err != nil {
					t.Errorf("%s@%s: member %s: %v", repo, mi.Digest, ch.Digest, err)
				}
			}
		}
	}
	return n
}

func gcPasses(t *testing.T, b *berth) float64 {
	return metric(t, b, `berth_gc_passes_total{outcome="ok"}`)
}

// metric reads one sample of the server's /metrics (0 when absent).
func metric(t *testing.T, b *berth, name string) float64 {
	t.Helper()
	resp, err := http.Get(b.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %q", name, v)
			}
			return f
		}
	}
	return 0
}
