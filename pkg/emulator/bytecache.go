package emulator

import (
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// byteCache is a least-recently-used cache (hashicorp/golang-lru) of byte
// slices bounded by their total size.
type byteCache[K comparable] struct {
	mu     sync.Mutex
	budget int
	size   int
	lru    *simplelru.LRU[K, byteItem]
}

type byteItem struct {
	data  []byte
	count int
}

func newByteCache[K comparable](budget int) *byteCache[K] {
	c := &byteCache[K]{budget: budget}
	l, err := simplelru.NewLRU(math.MaxInt, func(_ K, it byteItem) { c.size -= len(it.data) })
	if err != nil { // only for a size below one
		panic(err)
	}
	c.lru = l
	return c
}

func (c *byteCache[K]) get(key K) ([]byte, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.lru.Get(key)
	return it.data, it.count, ok
}

// put stores data (which the cache now owns) with a caller-defined count.
func (c *byteCache[K]) put(key K, data []byte, count int) {
	if len(data) > c.budget/4 {
		return // too big to be worth evicting everything else for
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
	c.lru.Add(key, byteItem{data, count})
	c.size += len(data)
	for c.size > c.budget {
		c.lru.RemoveOldest()
	}
}
