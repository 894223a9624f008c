package bump

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrBaseModified is in the chain of a merge refused with 405 "Base branch
// was modified. Review and try the merge again.", the only merge failure
// that is retried.
var ErrBaseModified = errors.New("the base branch was modified")

// MergePolicy is how an auto-merge is retried after ErrBaseModified: after
// Initial, then growing by Factor, until Within has passed or the context's
// deadline would be crossed (SPEC §5.11: 0.5 s, ×1.5, 5 minutes).
type MergePolicy struct {
	Initial time.Duration
	Factor  float64
	Within  time.Duration
	// Sleep waits d or until ctx is done (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (p MergePolicy) withDefaults() MergePolicy {
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
		p.Sleep = sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// merge calls try until it succeeds, fails with another error than
// ErrBaseModified, or the time is up.
func (p MergePolicy) merge(ctx context.Context, try func(context.Context) (string, error)) (string, error) {
	p = p.withDefaults()
	stop := p.Now().Add(p.Within)
	if d, ok := ctx.Deadline(); ok && d.Before(stop) {
		stop = d
	}
	delay := p.Initial
	for attempt := 1; ; attempt++ {
		sha, err := try(ctx)
		if err == nil || !errors.Is(err, ErrBaseModified) {
			return sha, err
		}
		if p.Now().Add(delay).After(stop) {
			return "", fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		if err := p.Sleep(ctx, delay); err != nil {
			return "", fmt.Errorf("waiting to retry the merge: %w", err)
		}
		delay = time.Duration(float64(delay) * p.Factor)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
