package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"
)

// bench is one run: where the registry is, what earlier phases left for
// later ones, and the figures measured so far.
type bench struct {
	opts    *options
	reg     *registry
	pid     int     // of the registry; 0: RSS not measured
	srv     *server // the server the bench started; nil with --url
	runID   string
	logf    func(format string, args ...any)
	figures []figure

	sha256MBps float64 // machine limits; 0 until measured
	tcpMBps    float64

	big          *bigBlob               // pushed by push, read by pull
	small        map[string]*smallBlobs // per repository
	manifestTags []string               // tags in the manifest repository
}

type bigBlob struct {
	repo, digest string
	size         int64
}

// smallBlobs are the config and layer every bench manifest refers to.
type smallBlobs struct {
	config, layer descriptor
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

const (
	blobTimeout  = 30 * time.Minute // a 1 GiB blob on a slow registry
	smallTimeout = 30 * time.Second
	rssEvery     = 20 * time.Millisecond
	tagsListTags = 2000
	tagsListReqs = 200
	mb           = 1e6 // MB/s is decimal
)

var phaseFuncs = map[string]func(*bench, context.Context) error{
	"idle-rss":     (*bench).idleRSS,
	"sha256":       (*bench).sha256Limit,
	"tcp":          (*bench).tcpLimit,
	"push":         (*bench).pushMonolithic,
	"push-chunked": (*bench).pushChunked,
	"pull":         (*bench).pull,
	"manifest-put": (*bench).manifestPut,
	"manifest-get": (*bench).manifestGet,
	"token-issue":  (*bench).tokenIssue,
	"auth-cost":    (*bench).authCost,
	"gate":         (*bench).gateCost,
	"blob-head":    (*bench).blobHead,
	"tags-list":    (*bench).tagsList,
	"build":        (*bench).buildPhase,
}

// repo names a repository of this run; the run ID keeps runs against one
// long-lived registry apart.
func (b *bench) repo(kind string) string { return "bench/" + b.runID + "-" + kind }

// seed returns the pattern seed of this run's n-th large blob, so that no
// run pushes content an earlier run against the same registry already did.
func (b *bench) seed(n uint64) uint64 {
	id, _ := strconv.ParseUint(b.runID, 16, 64)
	return id<<8 | n
}

func mbps(bytes int64, d time.Duration) float64 { return float64(bytes) / mb / d.Seconds() }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (b *bench) idleRSS(ctx context.Context) error {
	if b.pid == 0 {
		b.skip("idle-rss", "idle RSS", "MiB", atMost(40), "no --pid")
		return nil
	}
	rss, err := readRSS(b.pid)
	if err != nil {
		return err
	}
	b.add("idle-rss", "idle RSS", float64(rss)/(1<<20), "MiB", atMost(40))
	return nil
}

// sha256Limit hashes 256 MiB held in memory on one core, best of three:
// the ceiling of any push, since the registry must hash every byte it gets.
func (b *bench) sha256Limit(ctx context.Context) error {
	const bufSize, rounds, tries = 32 << 20, 8, 3
	buf := make([]byte, bufSize)
	newPattern(7).ReadAt(buf, 0)
	for range tries {
		h := sha256.New()
		start := time.Now()
		for range rounds {
			h.Write(buf)
		}
		h.Sum(nil)
		b.sha256MBps = max(b.sha256MBps, mbps(bufSize*rounds, time.Since(start)))
	}
	b.add("sha256", "1 core, 256 MiB, best of 3", b.sha256MBps, "MB/s", nil)
	return nil
}

// tcpLimit copies 1 GiB over loopback TCP between a Go server and client,
// best of three, the client reading the way pull does: the ceiling of any
// pull.
func (b *bench) tcpLimit(ctx context.Context) error {
	const size, tries = 1 << 30, 3
	for range tries {
		rate, err := loopbackCopy(ctx, size)
		if err != nil {
			return err
		}
		b.tcpMBps = max(b.tcpMBps, rate)
	}
	b.add("tcp", "loopback, 1 GiB, best of 3", b.tcpMBps, "MB/s", nil)
	return nil
}

func loopbackCopy(ctx context.Context, size int64) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	sent := make(chan error, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			sent <- err
			return
		}
		defer conn.Close()
		_, err = io.CopyBuffer(writerOnly{conn}, readerOnly{newPattern(8).reader(size)}, make([]byte, 1<<20))
		sent <- err
	}()
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", l.Addr().String())
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	n, err := drain(conn)
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	if err := <-sent; err != nil {
		return 0, fmt.Errorf("loopback sender: %w", err)
	}
	if n != size {
		return 0, fmt.Errorf("loopback copy: received %d bytes, want %d", n, size)
	}
	return mbps(size, elapsed), nil
}

// bigPush pushes a pattern blob with push while sampling the server's RSS,
// and records throughput and peak RSS under phase.
// Only the monolithic push has a target (t); the chunked one shows its
// ratio for comparison.
func (b *bench) bigPush(ctx context.Context, phase string, seed uint64, t *target, push func(context.Context, *bigBlob, *pattern) error) (*bigBlob, error) {
	size := b.opts.blobSize
	p := newPattern(seed)
	digest, err := p.digest(size)
	if err != nil {
		return nil, err
	}
	blob := &bigBlob{repo: b.repo("blob"), digest: digest, size: size}
	var sampler *rssSampler
	if b.pid != 0 {
		sampler = sampleRSS(b.pid, rssEvery)
	}
	start := time.Now()
	err = push(ctx, blob, p)
	elapsed := time.Since(start)
	var peak int64
	var rssErr error
	if sampler != nil {
		peak, rssErr = sampler.stop()
	}
	if err != nil {
		return nil, err
	}
	c := newClient(1, smallTimeout)
	defer closeClient(c)
	if err := b.reg.headBlob(ctx, c, blob.repo, blob.digest, size); err != nil {
		return nil, fmt.Errorf("after push: %w", err)
	}
	name := formatSize(size) + " blob"
	b.addRatio(phase, name, mbps(size, elapsed), "MB/s", "sha256", b.sha256MBps, t)
	switch {
	case sampler == nil:
		b.skip(phase, "peak RSS", "MiB", atMost(100), "no --pid")
	case rssErr != nil:
		return nil, fmt.Errorf("sampling RSS: %w", rssErr)
	default:
		b.add(phase, "peak RSS", float64(peak)/(1<<20), "MiB", atMost(100))
	}
	return blob, nil
}

func (b *bench) pushMonolithic(ctx context.Context) error {
	blob, err := b.bigPush(ctx, "push", b.seed(1), &target{Op: ">=", Value: 0.6, Of: "sha256"}, b.monolithic)
	if err != nil {
		return err
	}
	b.big = blob
	return nil
}

func (b *bench) monolithic(ctx context.Context, blob *bigBlob, p *pattern) error {
	c := newClient(1, blobTimeout)
	defer closeClient(c)
	return b.reg.pushMonolithic(ctx, c, blob.repo, blob.digest, p.reader(blob.size), blob.size)
}

func (b *bench) pushChunked(ctx context.Context) error {
	_, err := b.bigPush(ctx, "push-chunked", b.seed(2), nil, func(ctx context.Context, blob *bigBlob, p *pattern) error {
		c := newClient(1, blobTimeout)
		defer closeClient(c)
		return b.reg.pushChunked(ctx, c, blob.repo, blob.digest, p, blob.size, b.opts.chunkSize)
	})
	return err
}

func (b *bench) pull(ctx context.Context) error {
	if b.big == nil {
		b.logf("pushing the blob to pull")
		p := newPattern(b.seed(1))
		digest, err := p.digest(b.opts.blobSize)
		if err != nil {
			return err
		}
		b.big = &bigBlob{repo: b.repo("blob"), digest: digest, size: b.opts.blobSize}
		if err := b.monolithic(ctx, b.big, p); err != nil {
			return err
		}
	}
	const tries = 3
	c := newClient(1, blobTimeout)
	defer closeClient(c)
	var best float64
	for range tries {
		start := time.Now()
		n, err := b.reg.pullBlob(ctx, c, b.big.repo, b.big.digest)
		elapsed := time.Since(start)
		if err != nil {
			return err
		}
		if n != b.big.size {
			return fmt.Errorf("GET blob %s: %d bytes, want %d", b.big.digest, n, b.big.size)
		}
		best = max(best, mbps(n, elapsed))
	}
	b.addRatio("pull", formatSize(b.big.size)+" blob, best of 3", best, "MB/s", "tcp", b.tcpMBps, &target{Op: ">=", Value: 0.7, Of: "tcp"})
	return nil
}

// ensureSmall pushes, once per repository, the config and layer blobs that
// the bench's manifests refer to.
func (b *bench) ensureSmall(ctx context.Context, repo string) (*smallBlobs, error) {
	if s := b.small[repo]; s != nil {
		return s, nil
	}
	layer := make([]byte, 4096)
	newPattern(3).ReadAt(layer, 0)
	layerDesc := descriptor{MediaType: mediaTypeLayer, Digest: sha256Digest(layer), Size: int64(len(layer))}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{layerDesc.Digest}},
	})
	if err != nil {
		return nil, err
	}
	s := &smallBlobs{
		config: descriptor{MediaType: mediaTypeConfig, Digest: sha256Digest(config), Size: int64(len(config))},
		layer:  layerDesc,
	}
	c := newClient(1, smallTimeout)
	defer closeClient(c)
	if err := b.reg.pushBytes(ctx, c, repo, s.config.Digest, config); err != nil {
		return nil, err
	}
	if err := b.reg.pushBytes(ctx, c, repo, s.layer.Digest, layer); err != nil {
		return nil, err
	}
	if b.small == nil {
		b.small = map[string]*smallBlobs{}
	}
	b.small[repo] = s
	return s, nil
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// manifestMaker builds unique OCI image manifests cheaply: one marshalled
// manifest split around its annotation value, so the client spends its
// share of the two cores on requests, not on JSON.
type manifestMaker struct {
	prefix, suffix []byte
	runID          string
}

func newManifestMaker(s *smallBlobs, runID string) (*manifestMaker, error) {
	const mark = "\x00seq\x00"
	m, err := json.Marshal(struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Config        descriptor        `json:"config"`
		Layers        []descriptor      `json:"layers"`
		Annotations   map[string]string `json:"annotations"`
	}{2, mediaTypeManifest, s.config, []descriptor{s.layer}, map[string]string{"org.berth-project.bench.seq": mark}})
	if err != nil {
		return nil, err
	}
	prefix, suffix, ok := bytes.Cut(m, []byte(`\u0000seq\u0000`))
	if !ok {
		return nil, fmt.Errorf("manifest template lost its mark: %s", m)
	}
	return &manifestMaker{prefix: prefix, suffix: suffix, runID: runID}, nil
}

func (mm *manifestMaker) make(kind string, seq int) []byte {
	out := make([]byte, 0, len(mm.prefix)+len(mm.suffix)+32)
	out = append(out, mm.prefix...)
	out = append(out, mm.runID+"-"+kind+"-"...)
	out = strconv.AppendInt(out, int64(seq), 10)
	return append(out, mm.suffix...)
}

// putTags puts n unique manifests tagged tag-0 … tag-(n-1) with 8 workers.
func (b *bench) putTags(ctx context.Context, repo, kind string, n int) error {
	s, err := b.ensureSmall(ctx, repo)
	if err != nil {
		return err
	}
	mm, err := newManifestMaker(s, b.runID)
	if err != nil {
		return err
	}
	c := newClient(8, smallTimeout)
	defer closeClient(c)
	return runParallel(ctx, 8, n, func(ctx context.Context, seq int) error {
		return b.reg.putManifest(ctx, c, repo, kind+"-"+strconv.Itoa(seq), mm.make(kind, seq))
	})
}

// addLatency records a fixed-duration result as rate, p50 and p99.
func (b *bench) addLatency(phase, what string, res loadResult, rateTarget *target) {
	b.add(phase, what, res.rate(), "req/s", rateTarget)
	b.add(phase, what+", p50", ms(percentile(res.latencies, 50)), "ms", nil)
	b.add(phase, what+", p99", ms(percentile(res.latencies, 99)), "ms", nil)
}

func (b *bench) manifestPut(ctx context.Context) error {
	const concurrency = 8
	repo := b.repo("manifest")
	s, err := b.ensureSmall(ctx, repo)
	if err != nil {
		return err
	}
	mm, err := newManifestMaker(s, b.runID)
	if err != nil {
		return err
	}
	c := newClient(concurrency, smallTimeout)
	defer closeClient(c)
	res, err := runLoad(ctx, concurrency, b.opts.duration, func(ctx context.Context, seq int) error {
		return b.reg.putManifest(ctx, c, repo, "put-"+strconv.Itoa(seq), mm.make("put", seq))
	})
	if err != nil {
		return err
	}
	b.addLatency("manifest-put", "PUT by tag, c=8", res, atLeast(2500))
	// runLoad cuts no request short, so put-0 … put-(count-1) all exist.
	for i := range min(res.count, 64) {
		b.manifestTags = append(b.manifestTags, "put-"+strconv.Itoa(i))
	}
	return nil
}

func (b *bench) manifestGet(ctx context.Context) error {
	repo := b.repo("manifest")
	if err := b.ensureTags(ctx, repo); err != nil {
		return err
	}
	for _, concurrency := range []int{1, 8, 64} {
		c := newClient(concurrency, smallTimeout)
		res, err := runLoad(ctx, concurrency, b.opts.duration, func(ctx context.Context, seq int) error {
			return b.reg.getManifest(ctx, c, repo, b.manifestTags[seq%len(b.manifestTags)])
		})
		closeClient(c)
		if err != nil {
			return err
		}
		var t *target
		if concurrency == 64 {
			t = atLeast(15000)
		}
		b.addLatency("manifest-get", fmt.Sprintf("GET by tag, c=%d", concurrency), res, t)

	}
	return nil
}

func (b *bench) blobHead(ctx context.Context) error {
	const concurrency = 64
	repo := b.repo("manifest")
	s, err := b.ensureSmall(ctx, repo)
	if err != nil {
		return err
	}
	c := newClient(concurrency, smallTimeout)
	defer closeClient(c)
	res, err := runLoad(ctx, concurrency, b.opts.duration, func(ctx context.Context, seq int) error {
		return b.reg.headBlob(ctx, c, repo, s.layer.Digest, s.layer.Size)
	})
	if err != nil {
		return err
	}
	b.addLatency("blob-head", "HEAD, c=64", res, nil)
	return nil
}

// tagsList times tags/list, one client, on a repository of 2,000 tags.
func (b *bench) tagsList(ctx context.Context) error {
	repo := b.repo("tags")
	b.logf("putting %d tags", tagsListTags)
	if err := b.putTags(ctx, repo, "tag", tagsListTags); err != nil {
		return err
	}
	c := newClient(1, smallTimeout)
	defer closeClient(c)
	lat := make([]time.Duration, 0, tagsListReqs)
	for i := range tagsListReqs + 1 {
		start := time.Now()
		tags, paged, err := b.reg.tagsList(ctx, c, repo)
		d := time.Since(start)
		if err != nil {
			return err
		}
		if len(tags) != tagsListTags {
			return fmt.Errorf("tags/list of %s: %d tags (paginated: %v), want all %d", repo, len(tags), paged, tagsListTags)
		}
		if i > 0 { // the first request dials
			lat = append(lat, d)
		}
	}
	slices.Sort(lat)
	b.add("tags-list", "2000 tags, c=1, p50", ms(percentile(lat, 50)), "ms", atMost(1))
	b.add("tags-list", "2000 tags, c=1, p99", ms(percentile(lat, 99)), "ms", nil)
	return nil
}

// lifetimePeakRSS records the registry's peak RSS since it started, which
// catches a spike in a phase that does not sample RSS itself. A failure to
// read it is only noted: the run's figures stand without it.
func (b *bench) lifetimePeakRSS() {
	hwm, err := readHWM(b.pid)
	if err != nil {
		b.skip("run", "peak RSS since start (VmHWM)", "MiB", nil, err.Error())
		return
	}
	b.add("run", "peak RSS since start (VmHWM)", float64(hwm)/(1<<20), "MiB", nil)
}

// tokenIssue measures the Docker token flow: GET /oauth2/token with Basic
// credentials and a pull scope, from 8 clients.
func (b *bench) tokenIssue(ctx context.Context) error {
	const concurrency = 8
	scope := "repository:" + b.repo("manifest") + ":pull"
	c := newClient(concurrency, smallTimeout)
	defer closeClient(c)
	res, err := runLoad(ctx, concurrency, b.opts.duration, func(ctx context.Context, seq int) error {
		_, err := b.reg.accessToken(ctx, c, scope)
		return err
	})
	if err != nil {
		return err
	}
	b.addLatency("token-issue", "GET /oauth2/token, c=8", res, nil)
	return nil
}

// authRounds is how many times auth-cost alternates its three ways of
// asking, so that drift in the machine's speed falls on all three alike.
const authRounds = 5

// authCost measures what authentication costs: manifest GET by tag at 64
// clients with no credentials (anonymous pull, turned on through the
// management API for the phase), with Basic auth, and with a Bearer token,
// in alternating rounds, and gives Basic and Bearer as ratios of no auth.
func (b *bench) authCost(ctx context.Context) error {
	const concurrency = 64
	repo := b.repo("manifest")
	if err := b.ensureTags(ctx, repo); err != nil {
		return err
	}
	c := newClient(concurrency, smallTimeout)
	defer closeClient(c)
	if err := b.reg.setAnonymousPull(ctx, c, true); err != nil {
		b.skip("auth-cost", "GET by tag without auth, c=64", "req/s", nil, "anonymous pull unavailable: "+err.Error())
		return nil
	}
	defer b.reg.setAnonymousPull(context.WithoutCancel(ctx), c, false)
	tok, err := b.reg.accessToken(ctx, c, "repository:"+repo+":pull")
	if err != nil {
		return err
	}
	anon, bearer := *b.reg, *b.reg
	anon.user, anon.password = "", ""
	bearer.bearer = tok
	ways := []struct {
		name string
		reg  *registry
	}{{"no auth", &anon}, {"Basic", b.reg}, {"Bearer", &bearer}}
	var done [3]loadResult
	round := b.opts.duration / authRounds
	for range authRounds {
		for i, w := range ways {
			res, err := runLoad(ctx, concurrency, round, func(ctx context.Context, seq int) error {
				return w.reg.getManifest(ctx, c, repo, b.manifestTags[seq%len(b.manifestTags)])
			})
			if err != nil {
				return fmt.Errorf("%s: %w", w.name, err)
			}
			done[i].add(res)
		}
	}
	for i, w := range ways {
		b.addLatency("auth-cost", "GET by tag, "+w.name+", c=64", done[i], nil)
	}
	b.add("auth-cost", "Basic ÷ no auth", done[1].rate()/done[0].rate(), "ratio", atLeast(0.85))
	b.add("auth-cost", "Bearer ÷ no auth", done[2].rate()/done[0].rate(), "ratio", atLeast(0.9))
	return nil
}

// ensureTags puts the tags manifest GETs read, once.
func (b *bench) ensureTags(ctx context.Context, repo string) error {
	if len(b.manifestTags) > 0 {
		return nil
	}
	const n = 16
	if err := b.putTags(ctx, repo, "get", n); err != nil {
		return err
	}
	for i := range n {
		b.manifestTags = append(b.manifestTags, "get-"+strconv.Itoa(i))
	}
	return nil
}
