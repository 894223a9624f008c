package planner

import lru "github.com/hashicorp/golang-lru/v2"

// newCache returns a thread-safe LRU cache of at least one entry.
func newCache[K comparable, V any](size int) *lru.Cache[K, V] {
	c, err := lru.New[K, V](max(size, 1))
	if err != nil { // only for a size below one, excluded above
		panic(err)
	}
	return c
}
