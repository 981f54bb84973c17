package crash

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ledger is what the server acknowledged, across every cycle, and the
// upload sessions that were in flight when it was killed.
type ledger struct {
	mu        sync.Mutex
	blobs     map[repoDigest]int64  // blob pushes answered 201, with their size
	manifests map[repoDigest][]byte // manifest pushes answered 201, with their bytes
	tags      map[repoTag][]tagPut  // every manifest PUT by tag, in the order sent
	held      []*heldUpload         // sessions a client held at the kill
}

type repoDigest struct{ repo, digest string }

type repoTag struct{ repo, tag string }

// tagPut is one PUT of a manifest under a tag. Only one pusher writes a
// given tag, one request at a time, so the list is in the order the server
// saw the requests.
type tagPut struct {
	digest string
	acked  bool
}

func newLedger() *ledger {
	return &ledger{
		blobs:     map[repoDigest]int64{},
		manifests: map[repoDigest][]byte{},
		tags:      map[repoTag][]tagPut{},
	}
}

func (l *ledger) ackBlob(repo, digest string, size int64) {
	l.mu.Lock()
	l.blobs[repoDigest{repo, digest}] = size
	l.mu.Unlock()
}

// putTag records a manifest PUT by tag about to be sent; ackTag marks it
// answered 201.
func (l *ledger) putTag(repo, tag, digest string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := repoTag{repo, tag}
	l.tags[k] = append(l.tags[k], tagPut{digest: digest})
	return len(l.tags[k]) - 1
}

func (l *ledger) ackTag(repo, tag string, i int, body []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := repoTag{repo, tag}
	l.tags[k][i].acked = true
	l.manifests[repoDigest{repo, l.tags[k][i].digest}] = body
}

func (l *ledger) hold(u *heldUpload) {
	l.mu.Lock()
	l.held = append(l.held, u)
	l.mu.Unlock()
}

// counts returns how many blobs, manifests and tags were acknowledged.
func (l *ledger) counts() (blobs, manifests, tags int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, puts := range l.tags {
		if slices.ContainsFunc(puts, func(p tagPut) bool { return p.acked }) {
			tags++
		}
	}
	return len(l.blobs), len(l.manifests), tags
}

// takeHeld returns the sessions held at the last kill and forgets them.
func (l *ledger) takeHeld() []*heldUpload {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.held
	l.held = nil
	return h
}

// heldUpload is an upload session a client had open when the server died.
type heldUpload struct {
	who      string // "pusher 3", or "the test, to tear"
	repo     string
	location string // as the server gave it, "/v2/<repo>/blobs/uploads/<id>"
	content  []byte
	digest   string
	// acked is how many bytes the server had acknowledged (the Range of
	// its last answer); sent is how many it may have recorded: acked plus
	// the chunk in flight.
	acked, sent int64
	finalSent   bool // PUT ?digest= was sent
	// plan is what crashPoints does to a session the test opened itself:
	// "tear" or "rename"; pushers' sessions have none.
	plan string
	// torn: the test cut the upload file to tornTo < acked after the kill,
	// as a machine crash may do to bytes that were never fsynced.
	torn   bool
	tornTo int64
	// renamed: the test moved the complete upload file into blobs/ after
	// the kill, as a crash between a commit's rename and its metadata
	// transaction leaves it.
	renamed bool
}

func (u *heldUpload) id() string { return path.Base(u.location) }

// pusher pushes blobs, configs and manifests in a loop until a request
// fails. Before the kill a failure is a test failure; after it, expected.
type pusher struct {
	t      *testing.T
	id     int // stable across cycles: the pusher owns its tags
	cycle  int
	c      *client
	rng    *rand.Rand
	fill   *rand.ChaCha8
	repo   string
	led    *ledger
	killed *atomic.Bool
	held   *heldUpload
}

func newPusher(t *testing.T, seed uint64, cycle, id int, c *client, led *ledger, killed *atomic.Bool) *pusher {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(cycle))
	binary.LittleEndian.PutUint64(key[16:], uint64(id))
	return &pusher{
		t: t, id: id, cycle: cycle, c: c, led: led, killed: killed,
		rng:  rand.New(rand.NewPCG(seed, uint64(cycle)<<32|uint64(id))),
		fill: rand.NewChaCha8(key),
		repo: fmt.Sprintf("crash/r%d", id%repoCount),
	}
}

const repoCount = 3

// run pushes until a request fails; it returns how many images it pushed.
func (p *pusher) run(ctx context.Context) int {
	n := 0
	for iter := 0; ctx.Err() == nil; iter++ {
		if !p.pushImage(ctx, iter) {
			break
		}
		n++
	}
	if p.held != nil {
		p.led.hold(p.held)
	}
	return n
}

// ok reports whether a request got the status wanted. Otherwise it stops
// the pusher, failing the test unless the server has been killed.
func (p *pusher) ok(r reply, err error, want int, what string) bool {
	if err == nil && r.status == want {
		return true
	}
	if p.killed.Load() {
		return false
	}
	if err != nil {
		p.t.Errorf("pusher %d: %s before the kill: %v", p.id, what, err)
	} else {
		p.t.Errorf("pusher %d: %s before the kill = %s, want %d", p.id, what, r, want)
	}
	return false
}

func (p *pusher) pause() {
	if p.rng.IntN(3) == 0 {
		time.Sleep(time.Duration(p.rng.IntN(10)) * time.Millisecond)
	}
}

// blobSize is mostly small, sometimes past the server's 1 MiB pipelined
// path, never below 2 bytes (see uploadRange).
func (p *pusher) blobSize() int {
	switch x := p.rng.IntN(100); {
	case x < 70:
		return 2 + p.rng.IntN(64<<10)
	case x < 95:
		return 64<<10 + p.rng.IntN(1<<20)
	default:
		return 1<<20 + p.rng.IntN(3<<20)
	}
}

func (p *pusher) pushImage(ctx context.Context, iter int) bool {
	layer := make([]byte, p.blobSize())
	p.fill.Read(layer)
	var ok bool
	switch p.rng.IntN(3) {
	case 0:
		ok = p.pushMonolithic(ctx, layer)
	case 1:
		ok = p.pushChunked(ctx, layer)
	default:
		ok = p.pushStreamed(ctx, layer)
	}
	if !ok {
		return false
	}
	config := fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","config":{"Labels":{"berth.crash":"c%d-p%d-%d-%x"}}}`,
		p.cycle, p.id, iter, p.rng.Uint64())
	if !p.pushMonolithic(ctx, config) {
		return false
	}
	p.pause()

	manifest := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		manifestType, sha256Digest(config), len(config), sha256Digest(layer), len(layer))
	d := sha256Digest(manifest)
	// Half the pushes move the pusher's own tag; the others get a tag of
	// their own.
	tag := fmt.Sprintf("p%d-latest", p.id)
	if p.rng.IntN(2) == 0 {
		tag = fmt.Sprintf("c%d-p%d-%d", p.cycle, p.id, iter)
	}
	i := p.led.putTag(p.repo, tag, d)
	r, err := p.c.do(ctx, http.MethodPut, "/v2/"+p.repo+"/manifests/"+tag, map[string]string{"Content-Type": manifestType}, manifest)
	if !p.ok(r, err, http.StatusCreated, "PUT manifest "+tag) {
		return false
	}
	if got := r.header.Get("Docker-Content-Digest"); got != d {
		p.t.Errorf("pusher %d: PUT manifest %s answered digest %q, want %s", p.id, tag, got, d)
		return false
	}
	p.led.ackTag(p.repo, tag, i, manifest)
	return true
}

// pushMonolithic pushes a blob with one POST ?digest=.
func (p *pusher) pushMonolithic(ctx context.Context, b []byte) bool {
	d := sha256Digest(b)
	r, err := p.c.do(ctx, http.MethodPost, "/v2/"+p.repo+"/blobs/uploads/?digest="+d, nil, b)
	return p.created(r, err, d, len(b), "monolithic POST")
}

func (p *pusher) created(r reply, err error, d string, size int, what string) bool {
	if !p.ok(r, err, http.StatusCreated, what) {
		return false
	}
	if got := r.header.Get("Docker-Content-Digest"); got != d {
		p.t.Errorf("pusher %d: %s answered digest %q, want %s", p.id, what, got, d)
		return false
	}
	p.led.ackBlob(p.repo, d, int64(size))
	return true
}

// startUpload opens a session and holds it until the blob is committed.
func (p *pusher) startUpload(ctx context.Context, b []byte) bool {
	r, err := p.c.do(ctx, http.MethodPost, "/v2/"+p.repo+"/blobs/uploads/", nil, nil)
	if !p.ok(r, err, http.StatusAccepted, "POST upload") {
		return false
	}
	loc := r.header.Get("Location")
	if n, err := uploadRange(r.header); loc == "" || err != nil || n != 0 {
		p.t.Errorf("pusher %d: POST upload answered Location %q, Range %q (%v), want a location and 0-0",
			p.id, loc, r.header.Get("Range"), err)
		return false
	}
	p.held = &heldUpload{who: fmt.Sprintf("pusher %d", p.id), repo: p.repo, location: loc, content: b, digest: sha256Digest(b)}
	return true
}

// chunks cuts n bytes into k pieces of at least two bytes each.
func (p *pusher) chunks(n, k int) []int {
	k = max(1, min(k, n/2))
	var cuts []int
	rest := n
	for i := k; i > 1; i-- {
		c := 2 + p.rng.IntN(rest-2*i+1)
		cuts = append(cuts, c)
		rest -= c
	}
	return append(cuts, rest)
}

// patch sends one chunk and checks the Range the server answers with.
func (p *pusher) patch(ctx context.Context, chunk []byte, withRange bool) bool {
	u := p.held
	u.sent = u.acked + int64(len(chunk))
	hdr := map[string]string{"Content-Type": "application/octet-stream"}
	var body any = chunk
	if withRange {
		hdr["Content-Range"] = contentRange(u.acked, int64(len(chunk)))
	} else {
		body = streamed{bytes.NewReader(chunk)}
	}
	r, err := p.c.do(ctx, http.MethodPatch, u.location, hdr, body)
	if !p.ok(r, err, http.StatusAccepted, "PATCH upload") {
		return false
	}
	if n, err := uploadRange(r.header); err != nil || n != u.sent {
		p.t.Errorf("pusher %d: PATCH upload answered Range %q (%v), want %d bytes", p.id, r.header.Get("Range"), err, u.sent)
		return false
	}
	if loc := r.header.Get("Location"); loc != "" {
		u.location = loc
	}
	u.acked = u.sent
	return true
}

// finish sends PUT ?digest=, with the last chunk or without a body.
func (p *pusher) finish(ctx context.Context, last []byte) bool {
	u := p.held
	u.finalSent, u.sent = true, int64(len(u.content))
	var body any
	hdr := map[string]string{}
	if len(last) > 0 {
		body = last
		hdr["Content-Type"] = "application/octet-stream"
		hdr["Content-Range"] = contentRange(u.acked, int64(len(last)))
	}
	r, err := p.c.do(ctx, http.MethodPut, u.location+"?digest="+u.digest, hdr, body)
	if !p.created(r, err, u.digest, len(u.content), "PUT upload") {
		return false
	}
	p.held = nil
	return true
}

// pushChunked pushes a blob as PATCH chunks with Content-Range, the last
// one sometimes in the closing PUT.
func (p *pusher) pushChunked(ctx context.Context, b []byte) bool {
	if !p.startUpload(ctx, b) {
		return false
	}
	cuts := p.chunks(len(b), 2+p.rng.IntN(4))
	var last []byte
	if len(cuts) > 1 && p.rng.IntN(2) == 0 {
		last = b[len(b)-cuts[len(cuts)-1]:]
		cuts = cuts[:len(cuts)-1]
	}
	off := 0
	for _, n := range cuts {
		p.pause()
		if !p.patch(ctx, b[off:off+n], true) {
			return false
		}
		off += n
	}
	p.pause()
	return p.finish(ctx, last)
}

// pushStreamed pushes a blob as PATCH requests with no Content-Length.
func (p *pusher) pushStreamed(ctx context.Context, b []byte) bool {
	if !p.startUpload(ctx, b) {
		return false
	}
	off := 0
	for _, n := range p.chunks(len(b), 1+p.rng.IntN(3)) {
		p.pause()
		if !p.patch(ctx, b[off:off+n], false) {
			return false
		}
		off += n
	}
	p.pause()
	return p.finish(ctx, nil)
}
