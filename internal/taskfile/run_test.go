package taskfile

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an exec that logs "start id" and "end id" and behaves as
// the test says for each step.
type recorder struct {
	mu     sync.Mutex
	events []string
	do     func(ctx context.Context, s Step, attempt int) error
}

func (r *recorder) exec(ctx context.Context, s Step, attempt int) error {
	r.log("start " + s.ID)
	defer r.log("end " + s.ID)
	if r.do == nil {
		return nil
	}
	return r.do(ctx, s, attempt)
}

func (r *recorder) log(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) index(e string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Index(r.events, e)
}

func mustParse(t *testing.T, y string) *File {
	t.Helper()
	f, err := Parse(y, Data{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func statuses(rs []StepResult) map[string]Status {
	m := map[string]Status{}
	for _, r := range rs {
		m[r.ID] = r.Status
	}
	return m
}

func TestRunOrder(t *testing.T) {
	f := mustParse(t, `
steps:
- {id: a, cmd: x}
- {id: b, cmd: x, when: [a]}
- {id: c, cmd: x, when: [a]}
- {id: d, cmd: x, when: [b, c]}
- {id: e, cmd: x}
- {id: f, cmd: x, when: ["-"]}
`)
	r := &recorder{do: func(ctx context.Context, s Step, _ int) error {
		time.Sleep(10 * time.Millisecond)
		return nil
	}}
	res := Run(context.Background(), f, r.exec, RunOptions{})
	if err := Failed(res); err != nil {
		t.Fatalf("Failed = %v", err)
	}
	for step, waitsFor := range map[string][]string{"b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "e": {"d"}} {
		for _, w := range waitsFor {
			if r.index("start "+step) < r.index("end "+w) {
				t.Errorf("%s started before %s ended: %v", step, w, r.events)
			}
		}
	}
	if r.index("start f") > r.index("end a") {
		t.Errorf(`f has when ["-"] but started after a ended: %v`, r.events)
	}
	for i, got := range res {
		if want := f.Steps[i].ID; got.ID != want || got.Status != StatusSucceeded || got.Attempts != 1 || got.End.Before(got.Start) {
			t.Errorf("results[%d] = %+v, want %s succeeded once", i, got, want)
		}
	}
}

func TestRunParallel(t *testing.T) {
	f := mustParse(t, "steps:\n- {id: a, cmd: x, when: [\"-\"]}\n- {id: b, cmd: x, when: [\"-\"]}\n")
	exec := func(ctx context.Context, s Step, _ int) error {
		time.Sleep(2 * time.Second)
		return nil
	}
	start := time.Now()
	res := Run(context.Background(), f, exec, RunOptions{})
	took := time.Since(start)
	if err := Failed(res); err != nil {
		t.Fatal(err)
	}
	if took >= 3500*time.Millisecond || took < 2*time.Second {
		t.Fatalf("two parallel 2 s steps took %v, want 2 s to 3.5 s", took)
	}
}

func TestRunRetries(t *testing.T) {
	tests := []struct {
		name        string
		yaml        string
		failFirst   int // attempts that fail
		want        Status
		wantAtt     int
		wantSleeps  []time.Duration
		wantFailure bool
	}{
		{"succeeds on the third", "steps:\n- {id: a, cmd: x, retries: 2, retryDelay: 3}\n", 2, StatusSucceeded, 3, []time.Duration{3 * time.Second, 3 * time.Second}, false},
		{"retries used up", "steps:\n- {id: a, cmd: x, retries: 1, retryDelay: 5}\n", 9, StatusFailed, 2, []time.Duration{5 * time.Second}, true},
		{"no delay, no sleep", "steps:\n- {id: a, cmd: x, retries: 1}\n", 1, StatusSucceeded, 2, nil, false},
		{"no retries", "steps:\n- {id: a, cmd: x}\n", 1, StatusFailed, 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts []int
			var sleeps []time.Duration
			exec := func(ctx context.Context, s Step, attempt int) error {
				attempts = append(attempts, attempt)
				if attempt <= tt.failFirst {
					return fmt.Errorf("attempt %d failed", attempt)
				}
				return nil
			}
			opt := RunOptions{Sleep: func(ctx context.Context, d time.Duration) error {
				sleeps = append(sleeps, d)
				return nil
			}}
			res := Run(context.Background(), mustParse(t, tt.yaml), exec, opt)
			if res[0].Status != tt.want || res[0].Attempts != tt.wantAtt {
				t.Errorf("result = %+v, want %s after %d attempts", res[0], tt.want, tt.wantAtt)
			}
			wantAttempts := make([]int, tt.wantAtt)
			for i := range wantAttempts {
				wantAttempts[i] = i + 1
			}
			if !reflect.DeepEqual(attempts, wantAttempts) {
				t.Errorf("exec saw attempts %v, want %v", attempts, wantAttempts)
			}
			if !reflect.DeepEqual(sleeps, tt.wantSleeps) {
				t.Errorf("slept %v, want %v", sleeps, tt.wantSleeps)
			}
			if err := Failed(res); (err != nil) != tt.wantFailure {
				t.Errorf("Failed = %v, want failure %v", err, tt.wantFailure)
			}
		})
	}
}

func TestRunIgnoreErrors(t *testing.T) {
	f := mustParse(t, "steps:\n- {id: a, cmd: x, ignoreErrors: true}\n- {id: b, cmd: x}\n")
	r := &recorder{do: func(ctx context.Context, s Step, _ int) error {
		if s.ID == "a" {
			return errors.New("boom")
		}
		return nil
	}}
	res := Run(context.Background(), f, r.exec, RunOptions{})
	if res[0].Status != StatusFailed || !res[0].Ignored || res[0].Err == nil {
		t.Errorf("a = %+v, want Failed and Ignored", res[0])
	}
	if res[1].Status != StatusSucceeded {
		t.Errorf("b = %+v, want it run after the ignored failure", res[1])
	}
	if err := Failed(res); err != nil {
		t.Errorf("Failed = %v, want nil: the failure is ignored", err)
	}
}

func TestRunFailureStopsTheRest(t *testing.T) {
	f := mustParse(t, `
steps:
- {id: a, cmd: x}
- {id: b, cmd: x}
- {id: slow, cmd: x, when: ["-"]}
`)
	slowStarted := make(chan struct{})
	r := &recorder{do: func(ctx context.Context, s Step, _ int) error {
		switch s.ID {
		case "a":
			<-slowStarted
			return errors.New("exit status 1")
		case "slow":
			close(slowStarted)
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}}
	res := Run(context.Background(), f, r.exec, RunOptions{})
	want := map[string]Status{"a": StatusFailed, "b": StatusSkipped, "slow": StatusCanceled}
	if got := statuses(res); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if r.index("start b") >= 0 {
		t.Errorf("b ran after a failed: %v", r.events)
	}
	err := Failed(res)
	if err == nil || !strings.Contains(err.Error(), "step a failed (attempts: 1): exit status 1") || !strings.Contains(err.Error(), "steps not run: b") {
		t.Errorf("Failed = %v", err)
	}
}

func TestRunTimeout(t *testing.T) {
	f := mustParse(t, "steps:\n- {id: a, cmd: x, timeout: 1}\n- {id: b, cmd: x}\n")
	var deadline time.Time
	exec := func(ctx context.Context, s Step, _ int) error {
		deadline, _ = ctx.Deadline()
		<-ctx.Done()
		return ctx.Err()
	}
	start := time.Now()
	res := Run(context.Background(), f, exec, RunOptions{})
	if res[0].Status != StatusTimedOut || !errors.Is(res[0].Err, context.DeadlineExceeded) {
		t.Errorf("a = %+v, want TimedOut with a deadline error", res[0])
	}
	if d := deadline.Sub(start); d <= 0 || d > 1500*time.Millisecond {
		t.Errorf("exec's deadline was %v after the start, want about 1 s", d)
	}
	if res[1].Status != StatusSkipped {
		t.Errorf("b = %+v, want Skipped", res[1])
	}
	if err := Failed(res); err == nil || !strings.Contains(err.Error(), "step a timed out") {
		t.Errorf("Failed = %v", err)
	}
}

func TestRunInvalidFile(t *testing.T) {
	f := &File{Steps: []Step{{ID: "a", Cmd: "x", When: []string{"b"}}}}
	called := false
	res := Run(context.Background(), f, func(context.Context, Step, int) error { called = true; return nil }, RunOptions{})
	if called || res[0].Status != StatusSkipped || res[0].Err == nil {
		t.Fatalf("ran an invalid file: called %v, result %+v", called, res[0])
	}
	var ve *ValidationError
	if err := Failed(res); !errors.As(err, &ve) {
		t.Errorf("Failed = %v, want the validation error", err)
	}
}

func TestRunCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	res := Run(ctx, FromCmd("alpine true", 0), func(context.Context, Step, int) error { called = true; return nil }, RunOptions{})
	if called || res[0].Status != StatusSkipped || Failed(res) == nil {
		t.Fatalf("ran with a canceled context: called %v, result %+v", called, res[0])
	}
}
