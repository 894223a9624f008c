package gitstore

import lru "github.com/hashicorp/golang-lru/v2"

// LRU is a concurrency-safe least-recently-used cache (hashicorp/golang-lru).
type LRU[K comparable, V any] struct{ c *lru.Cache[K, V] }

// NewLRU returns a cache holding at most capacity items (at least one).
func NewLRU[K comparable, V any](capacity int) *LRU[K, V] {
	c, err := lru.New[K, V](max(capacity, 1))
	if err != nil { // only for a capacity below one, excluded above
		panic(err)
	}
	return &LRU[K, V]{c: c}
}

// Get returns the cached value for key.
func (c *LRU[K, V]) Get(key K) (V, bool) { return c.c.Get(key) }

// Put stores val under key, evicting the least recently used item when full.
func (c *LRU[K, V]) Put(key K, val V) { c.c.Add(key, val) }
