package emulator

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"
)

// writeWindow follows the content-creating requests (POST, PATCH, PUT and
// DELETE on REST routes) of each identity over a sliding window: it keeps
// the most any identity made within one window, and, with a limit set,
// refuses the requests over it the way GitHub's secondary limit does.
type writeWindow struct {
	mu      sync.Mutex
	limit   int // 0: count only
	window  time.Duration
	recent  map[string][]time.Time // per identity, the writes of the last window
	most    map[string]int
	refused int64
}

func newWriteWindow() *writeWindow {
	return &writeWindow{window: time.Minute, recent: map[string][]time.Time{}, most: map[string]int{}}
}

// createsContent reports whether a REST request counts against the
// secondary limit (GraphQL is not followed: queries are POSTs too).
func createsContent(method, pattern string) bool {
	if pattern == "/graphql" {
		return false
	}
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// admit records a write of who at at, unless the limit is reached; then it
// returns how long until the oldest write of the window leaves it.
func (w *writeWindow) admit(who string, at time.Time) (retryAfter time.Duration, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	times := w.recent[who]
	cut := 0
	for cut < len(times) && at.Sub(times[cut]) >= w.window {
		cut++
	}
	times = times[cut:]
	if w.limit > 0 && len(times) >= w.limit {
		w.recent[who] = times
		w.refused++
		return times[0].Add(w.window).Sub(at), false
	}
	times = append(times, at)
	w.recent[who] = times
	w.most[who] = max(w.most[who], len(times))
	return 0, true
}

// identityName names an identity in the write figures without showing a token.
func identityName(id *identity) string {
	if strings.HasPrefix(id.key, "token:") && id.user != nil {
		return "token of " + id.user.Login
	}
	return id.key
}

// SetSecondaryLimit makes the emulator refuse, like GitHub's secondary
// limit, each content-creating REST request (POST, PATCH, PUT, DELETE) of an
// identity that already made perWindow of them within the last window: 403
// with "You have exceeded a secondary rate limit" and Retry-After (whole
// seconds until the oldest leaves the window, at least 1). GitHub's is 80 a
// minute. perWindow 0 turns the refusal off (the writes are still followed).
func (e *Emulator) SetSecondaryLimit(perWindow int, window time.Duration) {
	w := e.writes
	w.mu.Lock()
	defer w.mu.Unlock()
	if window <= 0 {
		window = time.Minute
	}
	w.limit, w.window = perWindow, window
}

// MostWritesInWindow returns, per identity ("user:<login>",
// "inst:<installation id>", ...), the most content-creating REST requests it
// made within one window (SetSecondaryLimit's, a minute by default) since the
// last ResetCounters, refused requests not included.
func (e *Emulator) MostWritesInWindow() map[string]int {
	e.writes.mu.Lock()
	defer e.writes.mu.Unlock()
	return maps.Clone(e.writes.most)
}

// SecondaryLimited is how many requests the secondary limit refused since
// the last ResetCounters.
func (e *Emulator) SecondaryLimited() int64 {
	e.writes.mu.Lock()
	defer e.writes.mu.Unlock()
	return e.writes.refused
}

func (w *writeWindow) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recent, w.most, w.refused = map[string][]time.Time{}, map[string]int{}, 0
}

type writesJSON struct {
	PerWindow      int            `json:"per_window"`
	WindowMS       int64          `json:"window_ms"`
	MostInWindow   map[string]int `json:"most_in_window"`
	SecondaryLimit int64          `json:"secondary_limited"`
}

func (e *Emulator) ctlWrites(w http.ResponseWriter, _ *http.Request) {
	e.writes.mu.Lock()
	out := writesJSON{PerWindow: e.writes.limit, WindowMS: e.writes.window.Milliseconds(),
		MostInWindow: maps.Clone(e.writes.most), SecondaryLimit: e.writes.refused}
	e.writes.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) ctlSecondaryLimit(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PerWindow int   `json:"per_window"`
		WindowMS  int64 `json:"window_ms"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, err)
		return
	}
	if in.PerWindow < 0 || in.WindowMS < 0 {
		badRequest(w, errors.New("per_window and window_ms must not be negative"))
		return
	}
	e.SetSecondaryLimit(in.PerWindow, time.Duration(in.WindowMS)*time.Millisecond)
	w.WriteHeader(http.StatusNoContent)
}
