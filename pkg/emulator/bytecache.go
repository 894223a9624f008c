package emulator

import (
	"container/list"
	"sync"
)

// byteCache is a least-recently-used cache of byte slices bounded by their total size.
type byteCache[K comparable] struct {
	mu     sync.Mutex
	budget int
	size   int
	order  *list.List
	items  map[K]*list.Element
}

type byteItem[K comparable] struct {
	key   K
	data  []byte
	count int
}

func newByteCache[K comparable](budget int) *byteCache[K] {
	return &byteCache[K]{budget: budget, order: list.New(), items: map[K]*list.Element{}}
}

func (c *byteCache[K]) get(key K) ([]byte, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		it := el.Value.(*byteItem[K])
		return it.data, it.count, true
	}
	return nil, 0, false
}

// put stores data (which the cache now owns) with a caller-defined count.
func (c *byteCache[K]) put(key K, data []byte, count int) {
	if len(data) > c.budget/4 {
		return // too big to be worth evicting everything else for
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.size -= len(el.Value.(*byteItem[K]).data)
		c.order.Remove(el)
	}
	c.items[key] = c.order.PushFront(&byteItem[K]{key, data, count})
	c.size += len(data)
	for c.size > c.budget {
		last := c.order.Back()
		it := last.Value.(*byteItem[K])
		c.order.Remove(last)
		delete(c.items, it.key)
		c.size -= len(it.data)
	}
}
