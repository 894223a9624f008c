package emulator

import (
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"
)

// Fault kinds for InjectFault.
const (
	// FaultServerError answers with a 5xx status (Fault.Status, default 502).
	FaultServerError = "5xx"
	// FaultSecondaryRateLimit answers 403 with GitHub's secondary rate limit message and
	// Retry-After (Fault.RetryAfter seconds, default 1).
	FaultSecondaryRateLimit = "secondary_rate_limit"
	// FaultPrimaryRateLimit answers 403 with X-RateLimit-Remaining: 0 and X-RateLimit-Reset
	// Fault.ResetIn seconds ahead (default 2).
	FaultPrimaryRateLimit = "primary_rate_limit"
	// FaultDrop closes the connection without answering.
	FaultDrop = "drop"
)

// Fault makes the next Count requests matching Method and Route fail.
type Fault struct {
	// Method is an HTTP method; empty or "*" matches any.
	Method string `json:"method"`
	// Route is a route pattern as counters show it, e.g. "/repos/{owner}/{repo}/git/trees";
	// empty or "*" matches any route.
	Route string `json:"route"`
	// Path, if set, is the exact request path below /api/v3 a call must have, e.g.
	// "/repos/acme/gitops/git/trees/<sha>": the fault hits one resource only.
	Path       string `json:"path,omitempty"`
	Kind       string `json:"kind"`
	Count      int    `json:"count"`
	Status     int    `json:"status,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty"`
	ResetIn    int    `json:"reset_in,omitempty"`
}

func (f *Fault) normalise() error {
	switch f.Kind {
	case FaultServerError:
		if f.Status == 0 {
			f.Status = 502
		}
		if f.Status < 500 || f.Status > 599 {
			return fmt.Errorf("status %d is not a 5xx status", f.Status)
		}
	case FaultSecondaryRateLimit:
		if f.RetryAfter <= 0 {
			f.RetryAfter = 1
		}
	case FaultPrimaryRateLimit:
		if f.ResetIn <= 0 {
			f.ResetIn = 2
		}
	case FaultDrop:
	default:
		return fmt.Errorf("unknown fault kind %q (want %s, %s, %s or %s)", f.Kind,
			FaultServerError, FaultSecondaryRateLimit, FaultPrimaryRateLimit, FaultDrop)
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	f.Method = strings.ToUpper(f.Method)
	return nil
}

func (f *Fault) matches(method, route, path string) bool {
	return (f.Method == "" || f.Method == "*" || f.Method == method) &&
		(f.Route == "" || f.Route == "*" || f.Route == route) &&
		(f.Path == "" || f.Path == path)
}

// hook is a function run once before the next call of a route is handled.
type hook struct {
	method, route string
	fn            func()
}

type rateBucket struct {
	start time.Time
	used  int
}

type controls struct {
	mu           sync.Mutex
	counters     map[string]int64
	latency      time.Duration
	routeLatency map[string]time.Duration
	faults       []*Fault
	failMerges   int
	rate         map[string]*rateBucket
	hooks        []hook
}

func newControls() *controls {
	return &controls{counters: map[string]int64{}, routeLatency: map[string]time.Duration{}, rate: map[string]*rateBucket{}}
}

// begin counts a request to key ("METHOD /pattern") and returns its injected latency,
// the hook to run before it is handled and the fault to apply, if any.
func (c *controls) begin(method, route, path string) (time.Duration, func(), *Fault) {
	key := method + " " + route
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counters[key]++
	d := c.latency
	if rd, ok := c.routeLatency[key]; ok {
		d = rd
	} else if rd, ok := c.routeLatency["* "+route]; ok {
		d = rd
	}
	var before func()
	for i, h := range c.hooks {
		if (h.method == "*" || h.method == method) && h.route == route {
			before = h.fn
			c.hooks = append(c.hooks[:i], c.hooks[i+1:]...)
			break
		}
	}
	for i, f := range c.faults {
		if f.matches(method, route, path) {
			hit := *f
			f.Count--
			if f.Count <= 0 {
				c.faults = append(c.faults[:i], c.faults[i+1:]...)
			}
			return d, before, &hit
		}
	}
	return d, before, nil
}

// spend records one request against bucket and returns the rate-limit figures to report.
// exhausted is true when enforcement is on and the budget is spent.
func (c *controls) spend(bucket string, limit int, enforce bool, at time.Time) (used int, reset time.Time, exhausted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.rate[bucket]
	if !ok || at.Sub(b.start) >= time.Hour {
		b = &rateBucket{start: at}
		c.rate[bucket] = b
	}
	switch {
	case enforce && b.used >= limit:
		return limit, b.start.Add(time.Hour), true
	case !enforce && b.used+1 >= limit:
		// Without enforcement a new window starts before Remaining would reach 0, which
		// would make clients such as go-github stop sending requests until the reset.
		b.start, b.used = at, 0
	}
	b.used++
	return b.used, b.start.Add(time.Hour), false
}

func (c *controls) peek(bucket string, at time.Time) (used int, reset time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.rate[bucket]
	if !ok || at.Sub(b.start) >= time.Hour {
		return 0, at.Add(time.Hour)
	}
	return b.used, b.start.Add(time.Hour)
}

// Counters returns the number of requests per "METHOD /route/pattern" since the last reset.
func (e *Emulator) Counters() map[string]int64 {
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	return maps.Clone(e.ctl.counters)
}

// Count returns the counter of one "METHOD /route/pattern" key.
func (e *Emulator) Count(key string) int64 {
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	return e.ctl.counters[key]
}

// ResetCounters zeroes every counter, and the write figures of the
// secondary limit (MostWritesInWindow, SecondaryLimited).
func (e *Emulator) ResetCounters() {
	e.ctl.mu.Lock()
	e.ctl.counters = map[string]int64{}
	e.ctl.mu.Unlock()
	e.writes.reset()
}

// SetLatency delays every request by d (route latencies take precedence).
func (e *Emulator) SetLatency(d time.Duration) {
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	e.ctl.latency = d
}

// SetRouteLatency delays requests matching key, "METHOD /route/pattern" (or "* /pattern"
// for any method), by d; d = 0 removes the setting.
func (e *Emulator) SetRouteLatency(key string, d time.Duration) {
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	if d <= 0 {
		delete(e.ctl.routeLatency, key)
		return
	}
	e.ctl.routeLatency[key] = d
}

// ClearLatency removes every injected latency.
func (e *Emulator) ClearLatency() {
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	e.ctl.latency = 0
	e.ctl.routeLatency = map[string]time.Duration{}
}

// InjectFault makes the next f.Count requests matching f fail as f.Kind says.
func (e *Emulator) InjectFault(f Fault) error {
	if err := f.normalise(); err != nil {
		return err
	}
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	e.ctl.faults = append(e.ctl.faults, &f)
	return nil
}

// Faults returns the faults still pending, with their remaining counts.
func (e *Emulator) Faults() []Fault {
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	out := make([]Fault, len(e.ctl.faults))
	for i, f := range e.ctl.faults {
		out[i] = *f
	}
	return out
}

// ClearFaults removes every pending fault.
func (e *Emulator) ClearFaults() {
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	e.ctl.faults = nil
}

// OnNext runs fn once, right before the next call of route (a pattern as counters show
// it, e.g. "/repos/{owner}/{repo}/pulls/{number}/merge") with method ("*" for any) is
// handled, after its injected latency. Tests use it to act in the middle of a client's
// sequence of calls, such as pushing to a branch just before a merge. fn may call the
// emulator's Go API.
func (e *Emulator) OnNext(method, route string, fn func()) {
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	e.ctl.hooks = append(e.ctl.hooks, hook{method: strings.ToUpper(method), route: route, fn: fn})
}

// FailNextMerge makes the next merge attempt answer 405 "Base branch was modified. Review
// and try the merge again." once.
func (e *Emulator) FailNextMerge() {
	e.ctl.mu.Lock()
	defer e.ctl.mu.Unlock()
	e.ctl.failMerges++
}

func (c *controls) takeMergeFailure() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failMerges > 0 {
		c.failMerges--
		return true
	}
	return false
}
