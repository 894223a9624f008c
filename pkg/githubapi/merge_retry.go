package githubapi

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MergeRetry is how a merge refused with ErrBaseModified is retried (SPEC
// §5.11, also for bumps): after Initial, then growing by Factor, until
// Within has passed or the context's deadline would be crossed. The zero
// value is the specified 0.5 s, ×1.5, 5 minutes.
type MergeRetry struct {
	Initial time.Duration
	Factor  float64
	Within  time.Duration
	// OnRetry, if set, is told of each retry before its wait.
	OnRetry func(attempt int, wait time.Duration, err error)
	// Sleep waits d or until ctx is done (default: a timer); Now is the
	// clock (default time.Now). Tests replace them.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
}

func (p MergeRetry) withDefaults() MergeRetry {
	if p.Initial <= 0 {
		p.Initial = 500 * time.Millisecond
	}
	if p.Factor < 1 {
		p.Factor = 1.5
	}
	if p.Within <= 0 {
		p.Within = 5 * time.Minute
	}
	if p.Sleep == nil {
		p.Sleep = wallClock{}.Sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// Next is the one schedule of merge retries, for Do and for callers that
// retry through redelivery (the promoter): after the n-th refusal (from
// 0) of a merge first refused at first, wait Initial × Factor^n before
// the next attempt, unless that attempt would come more than Within after
// first (false: give up).
func (p MergeRetry) Next(n int, first, now time.Time) (time.Duration, bool) {
	p = p.withDefaults()
	wait := float64(p.Initial)
	for range n {
		wait *= p.Factor
	}
	d := time.Duration(wait)
	return d, !now.Add(d).After(first.Add(p.Within))
}

// Do calls merge until it succeeds, fails with an error other than
// ErrBaseModified, or the time is up (Next, and the context's deadline);
// it returns the merge commit and the number of attempts. Giving up is
// permanent (a *PermanentError wrapping the last refusal).
func (p MergeRetry) Do(ctx context.Context, merge func(context.Context) (string, error)) (string, int, error) {
	p = p.withDefaults()
	first := p.Now()
	deadline, hasDeadline := ctx.Deadline()
	for attempt := 1; ; attempt++ {
		sha, err := merge(ctx)
		if err == nil || !errors.Is(err, ErrBaseModified) {
			return sha, attempt, err
		}
		now := p.Now()
		wait, ok := p.Next(attempt-1, first, now)
		if !ok || hasDeadline && now.Add(wait).After(deadline) {
			return "", attempt, &PermanentError{Message: Message(err), Err: fmt.Errorf("giving up after %d attempts: %w", attempt, err)}
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, wait, err)
		}
		if err := p.Sleep(ctx, wait); err != nil {
			return "", attempt, fmt.Errorf("waiting to retry the merge: %w", err)
		}
	}
}
