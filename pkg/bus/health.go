package bus

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Health collects what keeps a process from doing its work (a consumer that
// was deleted and is not back yet); the readiness endpoint reports it. The
// zero value is ready; a nil *Health records nothing.
type Health struct {
	mu       sync.Mutex
	problems map[string]error
}

// Set records the problem of part (a consumer name); a nil err clears it.
func (h *Health) Set(part string, err error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		delete(h.problems, part)
		return
	}
	if h.problems == nil {
		h.problems = map[string]error{}
	}
	h.problems[part] = err
}

// Err returns every recorded problem, or nil when the process is ready.
func (h *Health) Err() error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	parts := make([]string, 0, len(h.problems))
	for p := range h.problems {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	errs := make([]error, 0, len(parts))
	for _, p := range parts {
		errs = append(errs, fmt.Errorf("%s: %w", p, h.problems[p]))
	}
	return errors.Join(errs...)
}
