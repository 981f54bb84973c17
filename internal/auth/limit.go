package auth

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// failureLimiter refuses credential checks from a client address or for a
// user name that failed too often lately, so that guessing passwords (and
// making the server hash them) stays slow. Counters live in this replica
// only, as rate limits may.
type failureLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
	// counted is how many keys have failures; while it is zero, which is
	// nearly always, blocked takes no lock.
	counted atomic.Int64
}

func newFailureLimiter(max int, window time.Duration, now func() time.Time) *failureLimiter {
	return &failureLimiter{max: max, window: window, now: now, fails: map[string][]time.Time{}}
}

// blocked reports whether any of keys is over its limit, and for how long.
func (l *failureLimiter) blocked(keys ...string) (time.Duration, bool) {
	if l.counted.Load() == 0 {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		recent := l.prune(k, now)
		if len(recent) >= l.max {
			if w := recent[0].Add(l.window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait, wait > 0
}

// fail records a failed check for each key.
func (l *failureLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.fails) > 100000 {
		l.fails = map[string][]time.Time{} // bound the memory under a flood
	}
	for _, k := range keys {
		l.fails[k] = append(l.prune(k, now), now)
	}
	l.counted.Store(int64(len(l.fails)))
}

func (l *failureLimiter) prune(k string, now time.Time) []time.Time {
	ts := l.fails[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, k)
		l.counted.Store(int64(len(l.fails)))
		return nil
	}
	l.fails[k] = ts
	return ts
}

// limitKeys are the counters a credential check from r for user touches.
func limitKeys(r *http.Request, user string) []string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return []string{"addr:" + host, "user:" + user}
}
