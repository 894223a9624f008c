package gitstore

import (
	"container/heap"
	"sort"
)

func sortStrings(s []string) { sort.Strings(s) }

// Generation returns the commit's generation number: 1 for a root commit, otherwise one
// more than its highest parent. It orders commits so walks can stop early.
func (s *Store) Generation(h Hash) (int, error) {
	s.gmu.Lock()
	g, ok := s.gens[h]
	s.gmu.Unlock()
	if ok {
		return g, nil
	}
	// Iterative post-order walk so long histories do not exhaust the stack.
	stack := []Hash{h}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		if s.knownGen(top) {
			stack = stack[:len(stack)-1]
			continue
		}
		c, err := s.Commit(top)
		if err != nil {
			return 0, err
		}
		maxParent, pending := 0, false
		for _, p := range c.Parents {
			s.gmu.Lock()
			pg, ok := s.gens[p]
			s.gmu.Unlock()
			if !ok {
				stack = append(stack, p)
				pending = true
				continue
			}
			maxParent = max(maxParent, pg)
		}
		if pending {
			continue
		}
		s.gmu.Lock()
		s.gens[top] = maxParent + 1
		s.gmu.Unlock()
		stack = stack[:len(stack)-1]
	}
	s.gmu.Lock()
	defer s.gmu.Unlock()
	return s.gens[h], nil
}

func (s *Store) knownGen(h Hash) bool {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	_, ok := s.gens[h]
	return ok
}

const (
	fromLeft  = 1
	fromRight = 2
	stale     = 4
)

type walkItem struct {
	h   Hash
	gen int
}

type walkQueue []walkItem

func (q walkQueue) Len() int           { return len(q) }
func (q walkQueue) Less(i, j int) bool { return q[i].gen > q[j].gen }
func (q walkQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *walkQueue) Push(x any)        { *q = append(*q, x.(walkItem)) }
func (q *walkQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// paint walks from left and right in decreasing generation order, marking which side
// reaches each commit, until only commits reachable from both sides remain queued.
// It returns the marks and the commits reached from both sides first (the merge bases'
// candidates), newest first.
func (s *Store) paint(left, right []Hash) (map[Hash]int, []Hash, error) {
	marks := map[Hash]int{}
	q := &walkQueue{}
	push := func(h Hash, flag int) error {
		if marks[h]&flag == flag {
			return nil
		}
		g, err := s.Generation(h)
		if err != nil {
			return err
		}
		marks[h] |= flag
		heap.Push(q, walkItem{h, g})
		return nil
	}
	for _, h := range left {
		if err := push(h, fromLeft); err != nil {
			return nil, nil, err
		}
	}
	for _, h := range right {
		if err := push(h, fromRight); err != nil {
			return nil, nil, err
		}
	}
	var common []Hash
	activeOneSided := func() bool {
		for _, it := range *q {
			m := marks[it.h]
			if m&(fromLeft|fromRight) != fromLeft|fromRight {
				return true
			}
		}
		return false
	}
	for q.Len() > 0 && activeOneSided() {
		it := heap.Pop(q).(walkItem)
		m := marks[it.h]
		flags := m & (fromLeft | fromRight)
		if flags == fromLeft|fromRight {
			if m&stale == 0 {
				common = append(common, it.h)
				marks[it.h] |= stale
			}
			flags |= stale
		}
		c, err := s.Commit(it.h)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range c.Parents {
			if err := push(p, flags); err != nil {
				return nil, nil, err
			}
		}
	}
	for q.Len() > 0 {
		it := heap.Pop(q).(walkItem)
		if marks[it.h]&stale == 0 {
			common = append(common, it.h)
			marks[it.h] |= stale
		}
	}
	return marks, common, nil
}

// MergeBase returns the best common ancestor of a and b.
func (s *Store) MergeBase(a, b Hash) (Hash, bool, error) {
	if a == b {
		return a, true, nil
	}
	_, common, err := s.paint([]Hash{a}, []Hash{b})
	if err != nil || len(common) == 0 {
		return Hash{}, false, err
	}
	best := common[0]
	bestGen, _ := s.Generation(best)
	for _, h := range common[1:] {
		if g, _ := s.Generation(h); g > bestGen {
			best, bestGen = h, g
		}
	}
	return best, true, nil
}

// IsAncestor reports whether a is reachable from b (a commit is its own ancestor).
func (s *Store) IsAncestor(a, b Hash) (bool, error) {
	mb, ok, err := s.MergeBase(a, b)
	return ok && mb == a, err
}

// Exclusive returns the commits reachable from include but not from any of exclude,
// newest first (by generation), at most limit of them (limit <= 0 means all).
func (s *Store) Exclusive(include Hash, exclude []Hash, limit int) ([]Hash, error) {
	marks, _, err := s.paint([]Hash{include}, exclude)
	if err != nil {
		return nil, err
	}
	var items []walkItem
	for h, m := range marks {
		if m&fromLeft != 0 && m&fromRight == 0 {
			g, err := s.Generation(h)
			if err != nil {
				return nil, err
			}
			items = append(items, walkItem{h, g})
		}
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].gen != items[j].gen {
			return items[i].gen > items[j].gen
		}
		return items[i].h.String() < items[j].h.String()
	})
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	out := make([]Hash, len(items))
	for i, it := range items {
		out[i] = it.h
	}
	return out, nil
}
