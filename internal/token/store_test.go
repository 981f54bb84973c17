package token

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// memStore is KeyStore in memory: the storage boundary, faked for this unit.
// The real one over the metadata store lives with the metadata store.
type memStore struct {
	mu   sync.Mutex
	keys []Key
	err  error // returned by every call when set
}

var _ KeyStore = (*memStore)(nil)

func (m *memStore) Keys(context.Context) ([]Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.keys), m.err
}

func (m *memStore) AddKey(_ context.Context, k Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memStore) RetireKey(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	for i := range m.keys {
		if m.keys[i].ID == id {
			if m.keys[i].RetiredAt.IsZero() {
				m.keys[i].RetiredAt = at
			}
			return nil
		}
	}
	return fmt.Errorf("no key %q", id)
}

func (m *memStore) remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = slices.DeleteFunc(m.keys, func(k Key) bool { return k.ID == id })
}

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
