package githubapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Budget decides when the calls of one identity (an installation or a
// token, named by a budget key) may go out. Content-creating calls take a
// turn from a token bucket (Burst at once, then Rate per second); every
// call, reads included, waits while the identity is paused because GitHub
// answered with a rate limit.
//
// Pacer keeps the budget in the process; SharedBudget keeps it in a
// JetStream KV bucket, so every replica of every service shares it.
type Budget interface {
	// Write blocks until key may make one more content-creating call.
	Write(ctx context.Context, key string) error
	// Read blocks while key is paused.
	Read(ctx context.Context, key string) error
	// Pause holds every call of key until until (a later pause wins).
	Pause(ctx context.Context, key string, until time.Time) error
	// Levels reports the budget of every key seen, for the metrics.
	Levels() []BudgetLevel
}

// BudgetLevel is the state of one key's budget at one instant.
type BudgetLevel struct {
	Key string
	// Remaining is how many writes could go out at once now (0 to Burst).
	Remaining float64
	// Paused is how long calls are still held by a rate limit.
	Paused time.Duration
}

// TokenBudgetKey is the budget key of a token identity: a digest of the
// token, so every process using the same token shares one budget and the
// key reveals nothing.
func TokenBudgetKey(token Secret) string {
	sum := sha256.Sum256([]byte(token.Reveal()))
	return "token." + hex.EncodeToString(sum[:8])
}

// InstallationBudgetKey is the budget key of one App installation.
func InstallationBudgetKey(appID, installationID int64) string {
	return fmt.Sprintf("app.%d.installation.%d", appID, installationID)
}

// limits are a token bucket expressed as GCRA: interval is the time one
// write costs (1/rate), tolerance how far ahead of now the schedule may run
// before callers wait ((burst-1) intervals), so burst writes go at once.
type limits struct {
	interval  time.Duration
	tolerance time.Duration
	burst     float64
}

func newLimits(rate float64, burst int) limits {
	if rate <= 0 {
		rate = DefaultWriteRate
	}
	if burst < 1 {
		burst = 1
	}
	interval := time.Duration(float64(time.Second) / rate)
	return limits{interval: interval, tolerance: time.Duration(burst-1) * interval, burst: float64(burst)}
}

// schedule is the budget of one key. Next is the theoretical arrival time
// of the next write (GCRA): a write may go at Next - tolerance. Any number of
// replicas that update it with compare-and-set together never exceed the
// bucket: in any window of d, at most burst + d×rate writes start.
type schedule struct {
	Next        time.Time `json:"next"`
	PausedUntil time.Time `json:"paused_until,omitzero"`
}

// reserve takes the next turn at now and returns the schedule after it and
// the time the caller may write.
func (l limits) reserve(s schedule, now time.Time) (schedule, time.Time) {
	start := now
	if earliest := s.Next.Add(-l.tolerance); earliest.After(start) {
		start = earliest
	}
	if s.PausedUntil.After(start) {
		start = s.PausedUntil
	}
	if now.After(s.Next) {
		s.Next = now
	}
	s.Next = s.Next.Add(l.interval)
	return s, start
}

// release gives back a turn its caller did not use.
func (l limits) release(s schedule, now time.Time) schedule {
	s.Next = s.Next.Add(-l.interval)
	if s.Next.Before(now) {
		s.Next = now
	}
	return s
}

// pause holds every call until until. The burst is spent too: after a rate
// limit, writes resume at the steady rate.
func (l limits) pause(s schedule, until time.Time) schedule {
	if until.After(s.PausedUntil) {
		s.PausedUntil = until
	}
	if next := until.Add(l.tolerance); next.After(s.Next) {
		s.Next = next
	}
	return s
}

// level is how many writes could start at once at now, and the pause left.
func (l limits) level(key string, s schedule, now time.Time) BudgetLevel {
	lv := BudgetLevel{Key: key}
	if s.PausedUntil.After(now) {
		lv.Paused = s.PausedUntil.Sub(now)
		return lv
	}
	ahead := max(0, s.Next.Sub(now))
	lv.Remaining = min(l.burst, max(0, float64(l.tolerance+l.interval-ahead)/float64(l.interval)))
	return lv
}

// waitUntil sleeps until start. A start after ctx's deadline fails at once
// with a *RetryAfterError (wrapping context.DeadlineExceeded), so the work
// comes back when its turn would have come.
func waitUntil(ctx context.Context, clock Clock, what string, start time.Time) error {
	now := clock.Now()
	wait := start.Sub(now)
	if wait <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && start.After(deadline) {
		return &RetryAfterError{Delay: wait, Err: fmt.Errorf("%s: the turn in %v is after the deadline: %w", what, wait, context.DeadlineExceeded)}
	}
	if err := clock.Sleep(ctx, wait); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
