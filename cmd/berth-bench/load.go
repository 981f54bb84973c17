package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what a fixed-duration phase measured: completed requests,
// wall time until the last worker stopped, and each request's latency.
type loadResult struct {
	count     int
	elapsed   time.Duration
	latencies []time.Duration // sorted
}

// add merges another run into r.
func (r *loadResult) add(o loadResult) {
	r.count += o.count
	r.elapsed += o.elapsed
	r.latencies = append(r.latencies, o.latencies...)
	slices.Sort(r.latencies)
}

func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.count) / r.elapsed.Seconds()
}

// runLoad calls op from concurrency workers until dur has passed. A worker
// starts no request after the deadline and never cuts one short, so the
// phase ends by itself within dur plus one request. seq numbers the calls
// across workers from 0. The first error stops every worker and is returned.
func runLoad(ctx context.Context, concurrency int, dur time.Duration, op func(ctx context.Context, seq int) error) (loadResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	perWorker := make([][]time.Duration, concurrency)
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				if err := op(ctx, int(next.Add(1)-1)); err != nil {
					cancel(err)
					break
				}
				lat = append(lat, time.Since(t0))
			}
			perWorker[w] = lat
		})
	}
	wg.Wait()
	res := loadResult{elapsed: time.Since(start)}
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	for _, lat := range perWorker {
		res.latencies = append(res.latencies, lat...)
	}
	slices.Sort(res.latencies)
	res.count = len(res.latencies)
	return res, nil
}

// runParallel calls op for seq = 0..n-1 from concurrency workers; it is for
// setup, where the count matters and the time does not.
func runParallel(ctx context.Context, concurrency, n int, op func(ctx context.Context, seq int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				seq := int(next.Add(1) - 1)
				if seq >= n {
					return
				}
				if err := op(ctx, seq); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted latencies: the smallest value that at least p% of them do not
// exceed. It returns 0 for no latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// readRSS returns the resident set size of a process from /proc.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}

// readHWM returns the peak resident set size of a process since it started.
func readHWM(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseStatusKB(b, "VmHWM")
}

func parseVmRSS(status []byte) (int64, error) { return parseStatusKB(status, "VmRSS") }

// parseStatusKB returns a "<field>: <n> kB" line of /proc/<pid>/status in bytes.
func parseStatusKB(status []byte, field string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(field+":"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, fmt.Errorf("%s line %q: want \"<n> kB\"", field, sc.Text())
		}
		kb, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s line %q: %v", field, sc.Text(), err)
		}
		return kb << 10, nil
	}
	// A zombie's status has no Vm* lines: the process has exited.
	return 0, fmt.Errorf("no %s in /proc status: the process has exited", field)
}

// rssSampler reads a process's RSS at a fixed interval and keeps the peak.
type rssSampler struct {
	stopc chan struct{}
	done  chan struct{}
	peak  int64
	err   error
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for stopping := false; ; {
			rss, err := readRSS(pid)
			if err != nil {
				s.err = err
				return
			}
			s.peak = max(s.peak, rss)
			if stopping {
				return
			}
			select {
			case <-s.stopc:
				stopping = true
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends sampling, taking one last sample, and returns the peak.
func (s *rssSampler) stop() (int64, error) {
	close(s.stopc)
	<-s.done
	return s.peak, s.err
}
