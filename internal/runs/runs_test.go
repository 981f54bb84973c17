package runs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
)

// env is a service on a real SQLite store and filesystem blobs, with one
// registry and one uploaded context.
type env struct {
	t     *testing.T
	db    *meta.DB
	blobs *blob.FS
	svc   *runs.Service
	reg   meta.Registry
	ctxID string
}

func newEnv(t *testing.T, change func(*runs.Options)) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := meta.OpenSQLite(t.Context(), filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	seal, err := identity.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	o := runs.Options{Store: db, Blobs: blobs, Sealer: seal, PollInterval: 20 * time.Millisecond,
		Pools: []runs.Pool{{Name: "local", Location: "local"}, {Name: "west", Location: "westeurope"}}}
	if change != nil {
		change(&o)
	}
	e := &env{t: t, db: db, blobs: blobs, svc: runs.New(o)}
	t.Cleanup(e.svc.Close)
	e.reg = meta.Registry{Name: "reg", Location: "local"}
	if err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &e.reg) }); err != nil {
		t.Fatal(err)
	}
	bc, err := e.svc.UploadContext(t.Context(), e.reg, bytes.NewReader(gzipped))
	if err != nil {
		t.Fatal(err)
	}
	e.ctxID = string(bc.Digest)
	return e
}

// gzipped is a gzip stream (of nothing): what passes for a context here.
var gzipped = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}

func (e *env) queue(q runs.QuickBuild) meta.Run {
	e.t.Helper()
	if q.ContextID == "" {
		q.ContextID = e.ctxID
	}
	if q.Images == nil {
		q.Images = []string{"app:{{.Run.ID}}"}
	}
	run, err := e.svc.QueueBuild(e.t.Context(), e.reg, q)
	if err != nil {
		e.t.Fatalf("QueueBuild: %v", err)
	}
	return run
}

func (e *env) lease(pool string, wait time.Duration) *runs.Lease {
	e.t.Helper()
	l, err := e.svc.Lease(e.t.Context(), pool, "agent1", wait)
	if err != nil {
		e.t.Fatalf("Lease: %v", err)
	}
	return l
}

func (e *env) appendLog(l *runs.Lease, seq int64, s string) runs.LogAppend {
	e.t.Helper()
	a, err := e.svc.AppendLog(e.t.Context(), l.Run, l.ID, seq, []byte(s))
	if err != nil {
		e.t.Fatalf("AppendLog(%d, %q): %v", seq, s, err)
	}
	return a
}

func (e *env) log(run meta.Run, offset int64) string {
	e.t.Helper()
	var b bytes.Buffer
	if err := e.svc.WriteLog(e.t.Context(), run, offset, false, &b, func() {}); err != nil {
		e.t.Fatalf("WriteLog: %v", err)
	}
	return b.String()
}

func (e *env) run(run meta.Run) meta.Run {
	e.t.Helper()
	r, err := e.db.RunByKey(e.t.Context(), run.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func TestQueueBuildValidation(t *testing.T) {
	e := newEnv(t, nil)
	no := false
	tests := []struct {
		name string
		q    runs.QuickBuild
		want string // "" when valid
	}{
		{"minimal", runs.QuickBuild{Images: []string{"app"}}, ""},
		{"no images, no push", runs.QuickBuild{Images: []string{}, Push: &no}, ""},
		{"no images", runs.QuickBuild{Images: []string{}}, "images: name at least one image"},
		{"digest", runs.QuickBuild{Images: []string{"app@sha256:abc"}}, "a digest names an image that exists"},
		{"upper case", runs.QuickBuild{Images: []string{"App:v1"}}, "the repository must be lowercase"},
		{"login server", runs.QuickBuild{Images: []string{"reg.example.com/app:v1"}}, "without the registry's login server (reg.example.com)"},
		{"bad tag", runs.QuickBuild{Images: []string{"app:-x"}}, "the tag must be"},
		{"dockerfile outside", runs.QuickBuild{Dockerfile: "../Dockerfile"}, "give a file path inside the context"},
		{"dockerfile absolute", runs.QuickBuild{Dockerfile: "/etc/passwd"}, "give a file path inside the context"},
		{"build arg name", runs.QuickBuild{BuildArgs: map[string]string{"1X": "y"}}, `buildArgs: "1X" is not a build arg name`},
		{"secret and plain", runs.QuickBuild{BuildArgs: map[string]string{"X": "1"}, SecretBuildArgs: map[string]string{"X": "2"}}, "both in buildArgs and in secretBuildArgs"},
		{"platform", runs.QuickBuild{Platform: "amd64"}, `platform "amd64": give OS/ARCH`},
		{"target", runs.QuickBuild{Target: "a b"}, `target "a b"`},
		{"timeout", runs.QuickBuild{TimeoutSeconds: 28801}, "timeout 28801: give 1 to 28800 seconds"},
		{"pool", runs.QuickBuild{AgentPool: "nope"}, `agentPool "nope": no such agent pool; the server has local, west`},
		{"context digest", runs.QuickBuild{ContextID: "abc"}, `contextId "abc": want a digest`},
		{"context unknown", runs.QuickBuild{ContextID: string(oci.FromBytes([]byte("x")))}, "no such build context was uploaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.q.ContextID == "" {
				tt.q.ContextID = e.ctxID
			}
			if tt.q.Images == nil {
				tt.q.Images = []string{"app:v1"}
			}
			_, err := e.svc.QueueBuild(t.Context(), e.reg, tt.q)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (!errors.Is(err, runs.ErrInvalid) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error = %v, want ErrInvalid with %q", err, tt.want)
			}
		})
	}
}

// A queued build stores its defaults and no secret; the agent that leases
// it gets the secrets and the images with {{.Run.ID}} expanded.
func TestLeaseGivesSecretsToTheAgentOnly(t *testing.T) {
	e := newEnv(t, nil)
	run := e.queue(runs.QuickBuild{Images: []string{"app:{{.Run.ID}}", "lib/app"}, BuildArgs: map[string]string{"A": "1"},
		SecretBuildArgs: map[string]string{"TOKEN": "s3cret-value"}})
	if run.RunID != "ca1" || run.Status != meta.RunQueued || run.AgentPool != "local" || run.TimeoutSeconds != runs.DefaultBuildTimeout {
		t.Errorf("queued run = %+v", run)
	}
	stored := e.run(run)
	if strings.Contains(string(stored.Request), "s3cret") {
		t.Errorf("the stored request holds a secret: %s", stored.Request)
	}
	sealed, _ := e.db.RunSecrets(t.Context(), run.ID)
	if len(sealed) == 0 || bytes.Contains(sealed, []byte("s3cret")) {
		t.Errorf("secrets stored as %q, want sealed", sealed)
	}
	req, err := runs.Request(stored)
	if err != nil {
		t.Fatal(err)
	}
	if got := runs.ImageNames(stored, req); strings.Join(got, " ") != "app:ca1 lib/app:latest" {
		t.Errorf("image names = %q", got)
	}
	if req.Dockerfile != "Dockerfile" || req.Platform != "linux/amd64" || !req.Push || strings.Join(req.SecretBuildArgNames, ",") != "TOKEN" {
		t.Errorf("request = %+v", req)
	}

	if l := e.lease("west", 0); l != nil {
		t.Errorf("pool west leased %s", l.Run.RunID)
	}
	l := e.lease("local", time.Second)
	if l == nil {
		t.Fatal("no lease")
	}
	if l.Run.RunID != "ca1" || l.Run.Status != meta.RunStarted || l.Run.Agent != "agent1" || l.ID == "" || l.ExpiresAt.IsZero() {
		t.Errorf("lease = %+v", l)
	}
	if l.SecretBuildArgs["TOKEN"] != "s3cret-value" || l.Request.BuildArgs["A"] != "1" || strings.Join(l.Request.Images, " ") != "app:ca1 lib/app:latest" {
		t.Errorf("leased request = %+v, secrets %v", l.Request, l.SecretBuildArgs)
	}
	r, err := e.svc.OpenContext(t.Context(), l.Run)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(b, gzipped) {
		t.Errorf("context = %x", b)
	}
}

// A lease waits for a run queued later, and answers nil when none comes.
func TestLeaseLongPoll(t *testing.T) {
	e := newEnv(t, func(o *runs.Options) { o.PollInterval = time.Hour }) // only wakes
	start := time.Now()
	if l := e.lease("local", 100*time.Millisecond); l != nil {
		t.Fatalf("leased %s with nothing queued", l.Run.RunID)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("answered after %v, want the whole wait", d)
	}
	got := make(chan *runs.Lease, 1)
	go func() {
		l, _ := e.svc.Lease(t.Context(), "local", "agent1", 10*time.Second)
		got <- l
	}()
	time.Sleep(50 * time.Millisecond)
	run := e.queue(runs.QuickBuild{})
	select {
	case l := <-got:
		if l == nil || l.Run.ID != run.ID {
			t.Errorf("lease = %+v", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting lease never got the run")
	}

	// Close ends a wait at once.
	done := make(chan struct{})
	go func() { e.svc.Lease(t.Context(), "local", "agent1", time.Minute); close(done) }()
	time.Sleep(20 * time.Millisecond)
	e.svc.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the wait")
	}
}

// Chunk numbers make retries safe; the log's end moves it into one blob,
// which reads the same from any offset.
func TestCompleteMovesLogToBlob(t *testing.T) {
	e := newEnv(t, nil)
	run := e.queue(runs.QuickBuild{})
	l := e.lease("local", time.Second)
	if _, err := e.svc.SetRunning(t.Context(), l.Run, l.ID); err != nil {
		t.Fatal(err)
	}
	e.appendLog(l, 1, "step 1\n")
	if a := e.appendLog(l, 1, "step 1\n"); !a.Duplicate {
		t.Errorf("a retried chunk = %+v, want a duplicate", a)
	}
	e.appendLog(l, 0, "step 2\n")
	if a := e.appendLog(l, 5, "step 3\n"); a.Seq != 5 || a.Size != 21 {
		t.Errorf("append = %+v", a)
	}
	if _, err := e.svc.AppendLog(t.Context(), l.Run, l.ID, 4, []byte("late")); !errors.Is(err, runs.ErrOutOfOrder) {
		t.Errorf("chunk 4 after 5: %v, want ErrOutOfOrder", err)
	}
	if _, err := e.svc.AppendLog(t.Context(), l.Run, "other", 0, []byte("x")); !errors.Is(err, runs.ErrLeaseLost) {
		t.Errorf("append under another lease: %v", err)
	}
	const whole = "step 1\nstep 2\nstep 3\n"
	if got := e.log(run, 0); got != whole {
		t.Errorf("live log = %q", got)
	}
	if got := e.log(run, 9); got != whole[9:] {
		t.Errorf("live log from 9 = %q", got)
	}
	done, err := e.svc.Complete(t.Context(), l.Run, l.ID, meta.RunResult{Status: meta.RunSucceeded,
		OutputImages: []byte(`[{"registry":"r","repository":"app","tag":"ca1","digest":"sha256:x"}]`)})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != meta.RunSucceeded {
		t.Errorf("status %s", done.Status)
	}
	got := e.run(run)
	if got.LogDigest != oci.FromBytes([]byte(whole)) {
		t.Fatalf("log digest %q, want the digest of the whole log", got.LogDigest)
	}
	if cs, _ := e.db.RunLogChunks(t.Context(), run.ID, 0, 0); len(cs) != 0 {
		t.Errorf("%d chunks left after the run ended", len(cs))
	}
	if n, err := e.blobs.Stat(t.Context(), got.LogDigest); err != nil || n != int64(len(whole)) {
		t.Errorf("log blob: %d, %v", n, err)
	}
	if got := e.log(run, 0); got != whole {
		t.Errorf("archived log = %q", got)
	}
	if got := e.log(run, 14); got != "step 3\n" {
		t.Errorf("archived log from 14 = %q", got)
	}
	if _, err := e.svc.Complete(t.Context(), l.Run, l.ID, meta.RunResult{Status: meta.RunFailed}); !errors.Is(err, runs.ErrLeaseLost) {
		t.Errorf("complete twice: %v", err)
	}
	if _, err := e.svc.Complete(t.Context(), l.Run, l.ID, meta.RunResult{Status: meta.RunRunning}); !errors.Is(err, runs.ErrInvalid) {
		t.Errorf("complete as Running: %v", err)
	}
}

// A log past its limit keeps its start and a note.
func TestLogLimit(t *testing.T) {
	e := newEnv(t, func(o *runs.Options) { o.MaxLogSize = 10 })
	run := e.queue(runs.QuickBuild{})
	l := e.lease("local", time.Second)
	e.appendLog(l, 0, "12345678")
	if a := e.appendLog(l, 0, "abcdef"); !a.Dropped {
		t.Errorf("append past the limit = %+v", a)
	}
	if a := e.appendLog(l, 0, "more"); !a.Dropped {
		t.Errorf("append after the limit = %+v", a)
	}
	want := "12345678ab\nberth: the log reached its limit of 10 bytes; the rest is dropped\n"
	if got := e.log(run, 0); got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
}

// syncBuffer is a buffer a follower writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A follower sees each chunk while the run goes on, and stops once the
// run ended and its whole log was written.
func TestFollowLog(t *testing.T) {
	e := newEnv(t, nil)
	run := e.queue(runs.QuickBuild{})
	var out syncBuffer
	ended := make(chan error, 1)
	go func() { ended <- e.svc.WriteLog(context.Background(), run, 0, true, &out, func() {}) }()
	l := e.lease("local", time.Second)
	e.appendLog(l, 0, "one\n")
	eventually(t, "the follower got the first chunk", func() bool { return out.String() == "one\n" })
	e.appendLog(l, 0, "two\n")
	eventually(t, "the follower got the second chunk", func() bool { return out.String() == "one\ntwo\n" })
	select {
	case err := <-ended:
		t.Fatalf("the follower stopped while the run was live: %v", err)
	default:
	}
	e.appendLog(l, 0, "three\n")
	if _, err := e.svc.Complete(t.Context(), l.Run, l.ID, meta.RunResult{Status: meta.RunFailed, Error: "boom"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the follower did not stop after the run ended")
	}
	if out.String() != "one\ntwo\nthree\n" {
		t.Errorf("followed log = %q", out.String())
	}
}

// Cancel ends a queued run at once and marks a held one, which the agent
// learns from its heartbeat.
func TestCancel(t *testing.T) {
	e := newEnv(t, nil)
	queued := e.queue(runs.QuickBuild{AgentPool: "west"})
	got, err := e.svc.Cancel(t.Context(), e.reg, queued.RunID)
	if err != nil || got.Status != meta.RunCanceled {
		t.Fatalf("cancel a queued run = %s, %v", got.Status, err)
	}
	if got := e.run(queued); got.LogDigest == "" {
		t.Error("a run canceled while queued keeps no (empty) log blob")
	}
	if _, err := e.svc.Cancel(t.Context(), e.reg, "ca99"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("cancel an unknown run: %v", err)
	}
	held := e.queue(runs.QuickBuild{})
	l := e.lease("local", time.Second)
	if b, err := e.svc.Heartbeat(t.Context(), l.Run, l.ID); err != nil || b.CancelRequested {
		t.Errorf("heartbeat = %+v, %v", b, err)
	}
	if got, err := e.svc.Cancel(t.Context(), e.reg, held.RunID); err != nil || got.Status != meta.RunStarted || !got.CancelRequested {
		t.Errorf("cancel a started run = %+v, %v", got, err)
	}
	if b, err := e.svc.Heartbeat(t.Context(), l.Run, l.ID); err != nil || !b.CancelRequested {
		t.Errorf("heartbeat after cancel = %+v, %v", b, err)
	}
	if _, err := e.svc.Complete(t.Context(), l.Run, l.ID, meta.RunResult{Status: meta.RunCanceled}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.Cancel(t.Context(), e.reg, held.RunID); err != nil || got.Status != meta.RunCanceled {
		t.Errorf("cancel a canceled run again = %s, %v", got.Status, err)
	}
	done := e.queue(runs.QuickBuild{})
	l = e.lease("local", time.Second)
	if _, err := e.svc.Complete(t.Context(), l.Run, l.ID, meta.RunResult{Status: meta.RunSucceeded}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Cancel(t.Context(), e.reg, done.RunID)
	if !errors.Is(err, meta.ErrConflict) || !strings.Contains(err.Error(), "already ended: Succeeded") {
		t.Errorf("cancel a run that succeeded: %v", err)
	}
}

// The reaper ends a running run whose agent went quiet, and archives its
// log; a started one goes back to the queue.
func TestReaper(t *testing.T) {
	e := newEnv(t, func(o *runs.Options) { o.LeaseDuration = 50 * time.Millisecond })
	running := e.queue(runs.QuickBuild{})
	started := e.queue(runs.QuickBuild{})
	l := e.lease("local", time.Second)
	if _, err := e.svc.SetRunning(t.Context(), l.Run, l.ID); err != nil {
		t.Fatal(err)
	}
	e.appendLog(l, 0, "last words\n")
	e.lease("local", time.Second)
	time.Sleep(60 * time.Millisecond)
	if err := e.svc.Reap(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := e.run(running)
	if got.Status != meta.RunError || got.Error != meta.LeaseLostMessage || got.LogDigest == "" {
		t.Errorf("quiet running run = %s %q, log %q", got.Status, got.Error, got.LogDigest)
	}
	if s := e.log(running, 0); s != "last words\n" {
		t.Errorf("its log = %q", s)
	}
	if got := e.run(started); got.Status != meta.RunQueued {
		t.Errorf("quiet started run = %s, want Queued", got.Status)
	}
	if _, err := e.svc.Heartbeat(t.Context(), l.Run, l.ID); !errors.Is(err, runs.ErrLeaseLost) {
		t.Errorf("heartbeat after the reaper: %v", err)
	}
}

func TestUploadContext(t *testing.T) {
	e := newEnv(t, func(o *runs.Options) { o.MaxContextSize = 64 })
	if _, err := e.svc.UploadContext(t.Context(), e.reg, strings.NewReader("plain text")); !errors.Is(err, runs.ErrInvalid) {
		t.Errorf("a context that is not gzip: %v", err)
	}
	big := append(append([]byte{}, gzipped...), make([]byte, 64)...)
	if _, err := e.svc.UploadContext(t.Context(), e.reg, bytes.NewReader(big)); !errors.Is(err, runs.ErrInvalid) || !strings.Contains(err.Error(), "larger than 64 bytes") {
		t.Errorf("a context over the limit: %v", err)
	}
	bc, err := e.svc.UploadContext(t.Context(), e.reg, bytes.NewReader(gzipped))
	if err != nil || bc.Digest != oci.FromBytes(gzipped) || bc.Size != int64(len(gzipped)) {
		t.Errorf("upload = %+v, %v", bc, err)
	}
}
