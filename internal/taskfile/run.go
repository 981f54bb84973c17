package taskfile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is how a step ended.
type Status string

const (
	StatusSucceeded Status = "Succeeded"
	StatusFailed    Status = "Failed"
	StatusTimedOut  Status = "TimedOut"
	// StatusCanceled: the step was running when another step failed or the
	// run's context ended.
	StatusCanceled Status = "Canceled"
	// StatusSkipped: the step never started.
	StatusSkipped Status = "Skipped"
)

// StepResult is how one step went.
type StepResult struct {
	ID       string
	Status   Status
	Ignored  bool // failed or timed out, but the step has ignoreErrors
	Attempts int
	Err      error // the last attempt's error
	Start    time.Time
	End      time.Time
}

// ExecFunc runs one attempt of a step. It must return soon after ctx ends;
// ctx ends at the step's timeout and when the run stops.
type ExecFunc func(ctx context.Context, s Step, attempt int) error

// RunOptions are the scheduler's contacts with time, replaceable in tests.
type RunOptions struct {
	// Sleep waits d between attempts, or until ctx ends (then it returns
	// ctx's error). The default uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now stamps steps' Start and End. The default is time.Now.
	Now func() time.Time
}

func (o RunOptions) withDefaults() RunOptions {
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Run runs the steps of f, each as soon as every step it waits for has
// succeeded or failed with ignoreErrors, in parallel where the graph
// allows. A step's attempts each get its timeout; a failed step is tried
// again up to its retries, retryDelay apart. When a step fails for good
// without ignoreErrors, no other step starts and running ones are
// canceled. Results are in the order of f.Steps; see Failed.
//
// Run validates f first; an invalid file runs nothing, and every step is
// reported StatusSkipped with the validation error.
func Run(ctx context.Context, f *File, exec ExecFunc, opt RunOptions) []StepResult {
	opt = opt.withDefaults()
	results := make([]StepResult, len(f.Steps))
	for i, s := range f.Steps {
		results[i] = StepResult{ID: s.ID, Status: StatusSkipped}
	}
	if err := Validate(f); err != nil {
		for i := range results {
			results[i].Err = err
		}
		return results
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type finished struct {
		i   int
		res StepResult
	}
	done := make(chan finished)
	waitFor := deps(f)
	started := make([]bool, len(f.Steps))
	ended := make([]bool, len(f.Steps))
	running := 0
	for {
		for i, s := range f.Steps {
			if started[i] || runCtx.Err() != nil || !ready(waitFor[i], ended, results) {
				continue
			}
			started[i] = true
			running++
			go func() {
				done <- finished{i, runStep(runCtx, s, f.Timeout(s), exec, opt)}
			}()
		}
		if running == 0 {
			return results
		}
		r := <-done
		running--
		ended[r.i] = true
		results[r.i] = r.res
		if !ok(r.res) {
			cancel()
		}
	}
}

// ok tells whether a finished step lets the run go on.
func ok(r StepResult) bool { return r.Status == StatusSucceeded || r.Ignored }

func ready(waitFor []int, ended []bool, results []StepResult) bool {
	for _, j := range waitFor {
		if !ended[j] || !ok(results[j]) {
			return false
		}
	}
	return true
}

func runStep(ctx context.Context, s Step, timeoutSecs int, exec ExecFunc, opt RunOptions) StepResult {
	timeout := time.Duration(timeoutSecs) * time.Second
	res := StepResult{ID: s.ID, Start: opt.Now()}
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		stepCtx, cancel := context.WithTimeout(ctx, timeout)
		err := exec(stepCtx, s, attempt)
		expired := errors.Is(stepCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		switch {
		case err == nil:
			res.Status, res.Err = StatusSucceeded, nil
		case ctx.Err() != nil:
			res.Status, res.Err = StatusCanceled, err
		case expired:
			res.Status, res.Err = StatusTimedOut, fmt.Errorf("timed out after %ds: %w", timeoutSecs, err)
		default:
			res.Status, res.Err = StatusFailed, err
		}
		if res.Status == StatusSucceeded || res.Status == StatusCanceled || attempt > s.Retries {
			break
		}
		if s.RetryDelay > 0 {
			if err := opt.Sleep(ctx, time.Duration(s.RetryDelay)*time.Second); err != nil {
				res.Status, res.Err = StatusCanceled, fmt.Errorf("waiting to retry: %w (last attempt: %v)", err, res.Err)
				break
			}
		}
		if ctx.Err() != nil {
			res.Status = StatusCanceled
			break
		}
	}
	res.Ignored = s.IgnoreErrors && (res.Status == StatusFailed || res.Status == StatusTimedOut)
	res.End = opt.Now()
	return res
}

// Failed sums up a run: nil when every step succeeded or failed with
// ignoreErrors, else an error naming each step that did not.
func Failed(results []StepResult) error {
	var errs []error
	var skipped []string
	for _, r := range results {
		switch {
		case r.Status == StatusSucceeded || r.Ignored:
		case r.Status == StatusSkipped:
			skipped = append(skipped, r.ID)
		case r.Status == StatusTimedOut:
			errs = append(errs, fmt.Errorf("step %s timed out (attempts: %d): %w", r.ID, r.Attempts, r.Err))
		case r.Status == StatusCanceled:
			errs = append(errs, fmt.Errorf("step %s was canceled: %w", r.ID, r.Err))
		default:
			errs = append(errs, fmt.Errorf("step %s failed (attempts: %d): %w", r.ID, r.Attempts, r.Err))
		}
	}
	if len(skipped) > 0 {
		// A validation error is on every skipped step; say it once.
		for _, r := range results {
			if r.Status == StatusSkipped && r.Err != nil {
				errs = append(errs, r.Err)
				break
			}
		}
		errs = append(errs, fmt.Errorf("steps not run: %s", strings.Join(skipped, ", ")))
	}
	return errors.Join(errs...)
}
