package githubapi

import (
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sync/singleflight"
)

// Cache keeps what was read about things that never change meaning (a
// commit's tree, a file at a commit, a configuration parsed from it, a
// stored delivery), so each is read once. It is the one cache of every
// service: a least-recently-used cache (hashicorp/golang-lru) bounded by
// its number of entries (NewCache) or by their total size (NewSizedCache),
// safe for concurrent use; concurrent reads of one missing key load it
// once. Failed loads are not cached, so they are tried again.
type Cache[V any] struct {
	mu     sync.Mutex
	lru    *simplelru.LRU[string, V]
	size   func(V) int // nil: every entry counts one
	budget int         // with size: the most the entries may weigh together
	used   int         // with size: what they weigh
	loads  singleflight.Group
}

// NewCache returns a cache of at most entries entries (at least one).
func NewCache[V any](entries int) *Cache[V] {
	c := &Cache[V]{}
	c.lru = newLRU[V](max(entries, 1), nil)
	return c
}

// NewSizedCache returns a cache whose entries weigh (size) at most budget
// together; an entry heavier than budget is returned but not kept.
func NewSizedCache[V any](budget int, size func(V) int) *Cache[V] {
	c := &Cache[V]{size: size, budget: budget}
	c.lru = newLRU(math.MaxInt, func(_ string, v V) { c.used -= size(v) })
	return c
}

func newLRU[V any](entries int, evicted simplelru.EvictCallback[string, V]) *simplelru.LRU[string, V] {
	l, err := simplelru.NewLRU(entries, evicted)
	if err != nil { // only for a size below one, excluded by the callers
		panic(err)
	}
	return l
}

// Get returns the value cached at key, or loads, caches and returns it.
func (c *Cache[V]) Get(key string, load func() (V, error)) (V, error) {
	if v, ok := c.get(key); ok {
		return v, nil
	}
	v, err, _ := c.loads.Do(key, func() (any, error) {
		if v, ok := c.get(key); ok { // loaded while this call waited
			return v, nil
		}
		v, err := load()
		if err != nil {
			return v, err
		}
		c.add(key, v)
		return v, nil
	})
	if err != nil {
		var zero V
		return zero, err
	}
	return v.(V), nil
}

func (c *Cache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

func (c *Cache[V]) add(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size == nil {
		c.lru.Add(key, v)
		return
	}
	n := c.size(v)
	if n > c.budget {
		return
	}
	c.lru.Remove(key) // a value kept before weighs no more
	c.lru.Add(key, v)
	c.used += n
	for c.used > c.budget {
		c.lru.RemoveOldest()
	}
}

// Len returns how many entries are cached.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Size returns what the entries of a sized cache weigh together (0 for a
// cache bounded by entries).
func (c *Cache[V]) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Contains reports whether key is cached, without making it recent.
func (c *Cache[V]) Contains(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Contains(key)
}
