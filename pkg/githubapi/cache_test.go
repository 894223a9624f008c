package githubapi

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestCacheLoadsEachKeyOnce(t *testing.T) {
	c := NewCache[string](2)
	var loads atomic.Int32
	release := make(chan struct{})
	load := func() (string, error) {
		loads.Add(1)
		<-release
		return "tree", nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := c.Get("acme/gitops@abc", load); v != "tree" || err != nil {
				t.Errorf("Get = %q, %v", v, err)
			}
		}()
	}
	close(release)
	wg.Wait()
	if v, _ := c.Get("acme/gitops@abc", load); v != "tree" {
		t.Fatalf("cached value = %q", v)
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("loaded %d times, want 1 (concurrent readers share one load)", n)
	}
}

func TestCacheForgetsFailuresAndOldEntries(t *testing.T) {
	c := NewCache[int](2)
	boom := errors.New("502")
	if _, err := c.Get("a", func() (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("error = %v", err)
	}
	if v, err := c.Get("a", func() (int, error) { return 1, nil }); v != 1 || err != nil {
		t.Fatalf("a failed load was cached: %d %v", v, err)
	}
	_, _ = c.Get("b", func() (int, error) { return 2, nil })
	_, _ = c.Get("c", func() (int, error) { return 3, nil })
	if c.Len() != 2 {
		t.Fatalf("Len = %d, want the size 2", c.Len())
	}
	reloaded := false
	_, _ = c.Get("a", func() (int, error) { reloaded = true; return 1, nil })
	if !reloaded {
		t.Fatal("the least recently used entry was kept beyond the size")
	}
}

// A sized cache keeps the most recently used entries that fit in its
// budget, and does not keep an entry heavier than the budget.
func TestSizedCacheKeepsWhatFits(t *testing.T) {
	c := NewSizedCache(100, func(v string) int { return len(v) })
	value := func(v string) func() (string, error) { return func() (string, error) { return v, nil } }
	for _, k := range []string{"a", "b", "c"} {
		if v, err := c.Get(k, value(k+string(make([]byte, 39)))); err != nil || len(v) != 40 {
			t.Fatalf("Get(%s) = %d bytes, %v", k, len(v), err)
		}
	}
	_, _ = c.Get("b", value("unused")) // b is now more recent than c
	_, _ = c.Get("d", value(string(make([]byte, 30))))
	if c.Len() != 2 || c.Size() != 70 || c.Contains("a") || c.Contains("c") || !c.Contains("b") || !c.Contains("d") {
		t.Fatalf("%d entries of %d bytes (a %v, b %v, c %v, d %v); want b and d, 70 bytes",
			c.Len(), c.Size(), c.Contains("a"), c.Contains("b"), c.Contains("c"), c.Contains("d"))
	}
	if v, err := c.Get("huge", value(string(make([]byte, 101)))); err != nil || len(v) != 101 || c.Contains("huge") || c.Size() != 70 {
		t.Fatalf("an entry over the budget: %d bytes, %v, kept %v, size %d", len(v), err, c.Contains("huge"), c.Size())
	}
}
