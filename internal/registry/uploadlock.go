package registry

import (
	"context"
	"sync"
)

// uploadLocks serialises the requests that write one upload. The blob store
// takes one writer per upload at a time: two PATCHes racing on one session
// would both write the file from the recorded size, interleaving their
// bytes, while only one of them records its hash state, so the commit
// would publish content that does not hash to its digest. It serialises
// within this process only; replicas sharing a blob store would need the
// store to do it. The zero value is ready to use.
type uploadLocks struct {
	mu sync.Mutex
	m  map[string]*uploadLock
}

type uploadLock struct {
	held chan struct{} // holds one token while the upload is locked
	refs int           // requests holding or waiting; guarded by uploadLocks.mu
}

// lock waits until no other request writes upload id, or ctx ends. The
// caller must call the returned function when done.
func (l *uploadLocks) lock(ctx context.Context, id string) (func(), error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*uploadLock{}
	}
	k := l.m[id]
	if k == nil {
		k = &uploadLock{held: make(chan struct{}, 1)}
		l.m[id] = k
	}
	k.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
	select {
	case k.held <- struct{}{}:
		return func() { <-k.held; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
