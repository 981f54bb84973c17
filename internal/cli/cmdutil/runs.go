package cmdutil

import (
	"fmt"
	"time"

	"github.com/berth-project/berth/pkg/client"
)

// RunDuration is how long a run took, or has taken by now when it has
// not ended: from its start (its creation, if it never started).
func RunDuration(run client.Run, now time.Time) time.Duration {
	p := run.Properties
	from := p.CreateTime
	if p.StartTime != nil {
		from = *p.StartTime
	}
	to := now
	if p.FinishTime != nil {
		to = *p.FinishTime
	}
	if to.Before(from) {
		return 0
	}
	return to.Sub(from)
}

// RunSummary is the line that ends a run's log on the command line, as
// the managed registry's CLI prints it: "Run ID: ca1 was successful after
// 27s", "Run ID: ca2 failed after 9s. Error: …".
func RunSummary(run client.Run) string {
	p := run.Properties
	after := fmt.Sprintf("after %ds", int64(RunDuration(run, time.Now()).Round(time.Second)/time.Second))
	var s string
	switch p.Status {
	case client.RunSucceeded:
		s = "was successful " + after
	case client.RunCanceled:
		s = "was canceled " + after
	case client.RunTimeout:
		s = "timed out " + after
	case client.RunFailed, client.RunError:
		s = "failed " + after
	default:
		s = "is " + p.Status
	}
	s = "Run ID: " + p.RunID + " " + s
	if p.Error != "" && client.RunEnded(p.Status) {
		s += ". Error: " + p.Error
	}
	return s
}
