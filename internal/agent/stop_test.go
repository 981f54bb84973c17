package agent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/agent"
)

// marker is a word no other process on the machine has in its command
// line, so that a test finds its own build step's processes, and only
// those.
func marker(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	return "berth-step-" + hex.EncodeToString(b)
}

// processesWith lists the pids of processes whose command line holds s.
func processesWith(s string) []string {
	var pids []string
	ms, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, m := range ms {
		b, err := os.ReadFile(m)
		if err == nil && bytes.Contains(b, []byte(s)) {
			pids = append(pids, filepath.Base(filepath.Dir(m)))
		}
	}
	return pids
}

// waitGone waits up to d for no process to hold s in its command line.
func waitGone(t *testing.T, what, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		pids := processesWith(s)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still runs %s after the run ended (pids %v)", what, d, pids)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// watchLog is a run log that closes seen at the first line holding word.
type watchLog struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	word string
	seen chan struct{}
	once sync.Once
}

func newWatchLog(word string) *watchLog { return &watchLog{word: word, seen: make(chan struct{})} }

func (w *watchLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.word) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// sleeper is a Dockerfile whose RUN prints "up-<word>" (which BuildKit's
// heading of the step, holding the command, does not), then sleeps long
// enough that only a timeout or a cancel ends it, then prints
// "end-<word>"; word stays in the step's shell command line meanwhile.
func (e *buildEnv) sleeper(word string) []byte {
	e.t.Helper()
	return packFiles(e.t, map[string]string{
		"Dockerfile": "FROM " + e.base + "\nRUN printf 'up-%s\\n' " + word + " && sleep 30 && printf 'end-%s\\n' " + word + "\n",
	})
}

// stopped checks that a run that was stopped left nothing running: not
// its build step in BuildKit, not buildctl (whose command line names the
// run's work directory), and that the engine builds at once afterwards.
func (e *buildEnv) stopped(word string) {
	e.t.Helper()
	waitGone(e.t, "the RUN step", word, 10*time.Second)
	waitGone(e.t, "buildctl", e.exec.WorkDir, 5*time.Second)
	start := time.Now()
	e.build(agent.Job{RunID: "after", Context: bytes.NewReader(packFiles(e.t, map[string]string{
		"Dockerfile": "FROM " + e.base + "\nRUN echo next build " + word + "\n",
	}))})
	if d := time.Since(start); d > 15*time.Second {
		e.t.Errorf("the build after the stopped one took %s", d)
	}
}

// TestBuildTimeout: a RUN step past the job's build timeout ends the run
// as timed out, and the step is stopped in BuildKit too.
func TestBuildTimeout(t *testing.T) {
	e := newBuildEnv(t)
	word := marker(t)
	log := newWatchLog("up-" + word)
	start := time.Now()
	r := e.exec.Run(context.Background(), agent.Job{RunID: "to1", LoginServer: e.host, Username: "admin", Password: "pw",
		Images: []string{"timeout/app:v1"}, Push: true, BuildTimeout: 2 * time.Second, Context: bytes.NewReader(e.sleeper(word))}, log)
	took := time.Since(start)
	if r.Succeeded || !r.TimedOut || !strings.Contains(r.Error, "step build timed out after 2 seconds") {
		t.Fatalf("run past its timeout: %+v\n%s", r, log)
	}
	if took < 2*time.Second || took > 10*time.Second {
		t.Errorf("the run with a 2 s build timeout ended after %s", took)
	}
	select {
	case <-log.seen:
	default:
		t.Errorf("the RUN step never started, so the timeout stopped nothing:\n%s", log)
	}
	if !strings.Contains(log.String(), "Executing step ID: build. Timeout(sec): 2,") ||
		!strings.Contains(log.String(), "Error: step build timed out after 2 seconds") {
		t.Errorf("the log does not show the timeout:\n%s", log)
	}
	if strings.Contains(log.String(), "Executing step ID: push") {
		t.Errorf("a timed-out build went on to push:\n%s", log)
	}
	e.stopped(word)
}

// TestBuildCancel: canceling a run's context mid-build stops the RUN step
// and fails the run saying it was canceled (the agent then reports it
// Canceled).
func TestBuildCancel(t *testing.T) {
	e := newBuildEnv(t)
	word := marker(t)
	log := newWatchLog("up-" + word)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan agent.Result, 1)
	go func() {
		done <- e.exec.Run(ctx, agent.Job{RunID: "cn1", LoginServer: e.host, Username: "admin", Password: "pw",
			Images: []string{"cancel/app:v1"}, Push: true, Context: bytes.NewReader(e.sleeper(word))}, log)
	}()
	select {
	case <-log.seen:
	case r := <-done:
		t.Fatalf("the run ended before its RUN step slept: %+v\n%s", r, log)
	case <-time.After(30 * time.Second):
		t.Fatalf("the RUN step did not start within 30 s:\n%s", log)
	}
	if len(processesWith(word)) == 0 {
		t.Fatalf("the RUN step printed its start but no process runs it:\n%s", log)
	}
	canceled := time.Now()
	cancel()
	var r agent.Result
	select {
	case r = <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the run went on 15 s after its context was canceled:\n%s", log)
	}
	if r.Succeeded || r.TimedOut || !strings.Contains(r.Error, "canceled") {
		t.Fatalf("canceled run: %+v\n%s", r, log)
	}
	if d := time.Since(canceled); d > 5*time.Second {
		t.Errorf("the run took %s to end after the cancel", d)
	}
	if strings.Contains(log.String(), "end-"+word) {
		t.Errorf("the RUN step ran to its end:\n%s", log)
	}
	e.stopped(word)
}
