package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/berth-project/berth/pkg/client"
)

// quickRunRounds is how many quick runs each quick-run figure takes the
// median of.
const quickRunRounds = 5

// quickRunFigures queues quick runs of a task file and follows each to
// its end: one cmd step that runs the base image (pull into a layout,
// BuildKit's exec, the log), and two 1 s steps that may run at once, whose
// time shows that they did.
func (bd *builds) quickRunFigures(ctx context.Context) error {
	const phase = "build"
	one := fmt.Sprintf("version: v1.1.0\nsteps:\n  - cmd: %s sh -c 'echo hello'\n", bd.base)
	two := fmt.Sprintf("version: v1.1.0\nsteps:\n"+
		"  - cmd: %[1]s busybox sleep 1\n    when: [\"-\"]\n"+
		"  - cmd: %[1]s busybox sleep 1\n    when: [\"-\"]\n", bd.base)
	for _, f := range []struct{ name, file string }{
		{"quick run, one cmd step, queue → end", one},
		{"quick run, two parallel 1 s cmd steps, queue → end", two},
	} {
		var times []time.Duration
		for range quickRunRounds {
			start := time.Now()
			run, err := bd.runs.QueueRun(ctx, client.QuickRun{TaskFile: f.file, Platform: bd.platform})
			if err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
			fctx, cancel := context.WithTimeout(ctx, buildTimeout)
			ended, err := bd.runs.FollowLog(fctx, run.Properties.RunID, io.Discard)
			cancel()
			if err != nil {
				return fmt.Errorf("%s: following run %s: %w", f.name, run.Properties.RunID, err)
			}
			if p := ended.Properties; p.Status != client.RunSucceeded {
				return fmt.Errorf("%s: run %s ended %s: %s", f.name, p.RunID, p.Status, p.Error)
			}
			times = append(times, time.Since(start))
		}
		bd.b.add(phase, fmt.Sprintf("%s, median of %d", f.name, quickRunRounds), median(times).Seconds(), "s", nil)
	}
	return nil
}
