package cmdutil

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// FormatBytes shows a size as az does: "512 B", "3.529 KiB", "27.012 MiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.3f %ciB", v, "KMGTP"[i])
}

// ProgressBar draws the progress of a transfer on one terminal line, redrawn
// in place with a carriage return:
//
//	[##########----------]  50%  13.506 MiB / 27.012 MiB
//
// Only draw it on a terminal: in a pipe or a file, the redrawn lines would
// pile up. Set may be called from any goroutine.
type ProgressBar struct {
	mu       sync.Mutex
	w        io.Writer
	total    int64 // -1 when unknown: only the count is shown
	done     int64
	drawn    time.Time
	finished bool
}

// progressEvery spaces redraws: a transfer reports far more often than a
// terminal needs.
const progressEvery = 100 * time.Millisecond

// NewProgressBar returns a bar on w for total bytes (-1: not known).
func NewProgressBar(w io.Writer, total int64) *ProgressBar {
	return &ProgressBar{w: w, total: total}
}

// Set records that done bytes were transferred, and redraws the bar unless
// it was drawn a moment ago.
func (p *ProgressBar) Set(done int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done = done
	if now := time.Now(); now.Sub(p.drawn) >= progressEvery {
		p.drawn = now
		p.draw()
	}
}

// Finish draws the bar as it stands and ends its line; later Sets change
// nothing.
func (p *ProgressBar) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	p.draw()
	fmt.Fprintln(p.w)
}

// eraseLine clears what a longer line drawn before left on the right.
const eraseLine = "\x1b[K"

func (p *ProgressBar) draw() {
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r%s%s", FormatBytes(p.done), eraseLine)
		return
	}
	const width = 30
	frac := min(float64(p.done)/float64(p.total), 1)
	full := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3d%%  %s / %s%s", strings.Repeat("#", full), strings.Repeat("-", width-full),
		int(frac*100), FormatBytes(p.done), FormatBytes(p.total), eraseLine)
}
