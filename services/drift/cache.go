package drift

import (
	"container/list"
	"sync"

	"github.com/telefonistka/telefonistka/services/drift/internal/treediff"
)

// cache is a size-bounded map that forgets the least recently used entry;
// safe for concurrent use. Entries are keyed by commit SHA, which never
// change meaning, so nothing is ever invalidated.
type cache[V any] struct {
	mu    sync.Mutex
	size  int
	order *list.List // front: most recently used; values are *cacheItem[V]
	items map[string]*list.Element
}

type cacheItem[V any] struct {
	key string
	val V
}

func newCache[V any](size int) *cache[V] {
	return &cache[V]{size: max(size, 1), order: list.New(), items: map[string]*list.Element{}}
}

func (c *cache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cacheItem[V]).val, true
	}
	var zero V
	return zero, false
}

func (c *cache[V]) add(key string, val V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value.(*cacheItem[V]).val = val
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&cacheItem[V]{key: key, val: val})
	for c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*cacheItem[V]).key)
	}
}

// treeCache keeps a few recursive trees (they can be large).
type treeCache = cache[*treediff.Tree]

// fileCache keeps configuration files by (repo, commit, path); a missing
// file is cached as not found, failed reads are not cached.
type fileCache struct{ c *cache[cachedFile] }

type cachedFile struct {
	data  []byte
	found bool
}

func newFileCache(size int) *fileCache { return &fileCache{c: newCache[cachedFile](size)} }

func (f *fileCache) get(key string, read func() ([]byte, bool, error)) ([]byte, bool, error) {
	if v, ok := f.c.get(key); ok {
		return v.data, v.found, nil
	}
	data, found, err := read()
	if err != nil {
		return nil, false, err
	}
	f.c.add(key, cachedFile{data: data, found: found})
	return data, found, nil
}
