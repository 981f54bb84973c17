package registry

import (
	"sort"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// readCache keeps recent manifest resolutions and tag lists per repository,
// so that the hottest reads of the data plane cost no SQL. Every write to a
// repository through this service drops that repository's entries at once;
// the TTL bounds how long another replica's write can go unseen.
type readCache struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.RWMutex
	repos map[repoKey]*repoCache
}

type repoKey struct {
	reg  int64
	repo string
}

type repoCache struct {
	mu       sync.RWMutex
	byRef    map[string]resolved // tag, or "@" + digest
	tags     []string            // listable tag names, sorted
	tagsAt   time.Time
	tagsRead bool
}

type resolved struct {
	m    meta.Manifest
	t    meta.Tag
	repo meta.Attributes
	at   time.Time
}

const (
	maxCachedRepos = 4096
	maxCachedRefs  = 1024
)

func newReadCache(ttl time.Duration, now func() time.Time) *readCache {
	return &readCache{ttl: ttl, now: now, repos: map[repoKey]*repoCache{}}
}

// repo returns the live cache of a repository. A loader keeps the pointer it
// got: if the repository is invalidated meanwhile, what it stores lands in a
// cache nobody reads any more.
func (c *readCache) repo(reg int64, repo string) *repoCache {
	k := repoKey{reg, repo}
	c.mu.RLock()
	rc := c.repos[k]
	c.mu.RUnlock()
	if rc != nil {
		return rc
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc = c.repos[k]; rc == nil {
		if len(c.repos) >= maxCachedRepos {
			c.repos = map[repoKey]*repoCache{}
		}
		rc = &repoCache{byRef: map[string]resolved{}}
		c.repos[k] = rc
	}
	return rc
}

// invalidate forgets everything cached of a repository.
func (c *readCache) invalidate(reg int64, repo string) {
	c.mu.Lock()
	delete(c.repos, repoKey{reg, repo})
	c.mu.Unlock()
}

// invalidateRegistry forgets everything cached of a registry.
func (c *readCache) invalidateRegistry(reg int64) {
	c.mu.Lock()
	for k := range c.repos {
		if k.reg == reg {
			delete(c.repos, k)
		}
	}
	c.mu.Unlock()
}

func (c *readCache) fresh(at time.Time) bool { return c.now().Sub(at) < c.ttl }

func (rc *repoCache) get(c *readCache, ref string) (resolved, bool) {
	rc.mu.RLock()
	r, ok := rc.byRef[ref]
	rc.mu.RUnlock()
	return r, ok && c.fresh(r.at)
}

func (rc *repoCache) put(c *readCache, ref string, r resolved) {
	r.at = c.now()
	rc.mu.Lock()
	if len(rc.byRef) >= maxCachedRefs {
		rc.byRef = map[string]resolved{}
	}
	rc.byRef[ref] = r
	rc.mu.Unlock()
}

// tagPage returns the cached tag names after last, at most n (n <= 0: all).
func (rc *repoCache) tagPage(c *readCache, last string, n int) ([]string, bool) {
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	if !rc.tagsRead || !c.fresh(rc.tagsAt) {
		return nil, false
	}
	return page(rc.tags, last, n), true
}

func (rc *repoCache) putTags(c *readCache, tags []string) {
	rc.mu.Lock()
	rc.tags, rc.tagsAt, rc.tagsRead = tags, c.now(), true
	rc.mu.Unlock()
}

func page(sorted []string, last string, n int) []string {
	i := 0
	if last != "" {
		i = sort.Search(len(sorted), func(i int) bool { return sorted[i] > last })
	}
	out := sorted[i:]
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
