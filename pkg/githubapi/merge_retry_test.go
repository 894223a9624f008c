package githubapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMergeRetriesOnlyBaseModified(t *testing.T) {
	baseModified := fmt.Errorf("merging #1: %w (Base branch was modified. Review and try the merge again.)", ErrBaseModified)
	other := errors.New("405 Pull Request is not mergeable")
	cases := []struct {
		name      string
		failures  []error
		wantErr   error
		wantSleep []time.Duration
	}{
		{"first try", nil, nil, nil},
		{"one base modified", []error{baseModified}, nil, []time.Duration{500 * time.Millisecond}},
		{"three base modified", []error{baseModified, baseModified, baseModified}, nil,
			[]time.Duration{500 * time.Millisecond, 750 * time.Millisecond, 1125 * time.Millisecond}},
		{"other error is not retried", []error{other}, other, nil},
		{"other error after a retry", []error{baseModified, other}, other, []time.Duration{500 * time.Millisecond}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(0, 0)}
			p := MergeRetry{Sleep: clock.Sleep, Now: clock.Now}
			calls := 0
			sha, _, err := p.Do(context.Background(), func(context.Context) (string, error) {
				calls++
				if calls <= len(c.failures) {
					return "", c.failures[calls-1]
				}
				return "abc", nil
			})
			if !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
			if err == nil && sha != "abc" {
				t.Errorf("sha %q", sha)
			}
			if fmt.Sprint(clock.sleeps) != fmt.Sprint(c.wantSleep) {
				t.Errorf("slept %v, want %v", clock.sleeps, c.wantSleep)
			}
		})
	}
}

func TestMergeGivesUpAfterFiveMinutes(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	p := MergeRetry{Sleep: clock.Sleep, Now: clock.Now}
	_, _, err := p.Do(context.Background(), func(context.Context) (string, error) { return "", ErrBaseModified })
	if !errors.Is(err, ErrBaseModified) || !strings.Contains(err.Error(), "giving up after") || !isPermanent(err) {
		t.Fatalf("error %v, want a permanent error wrapping ErrBaseModified", err)
	}
	var total time.Duration
	for _, d := range clock.sleeps {
		total += d
	}
	next := clock.sleeps[len(clock.sleeps)-1] * 3 / 2
	if total > 5*time.Minute || total+next <= 5*time.Minute {
		t.Errorf("slept %v in total over %d waits; the next wait %v would have fit", total, len(clock.sleeps), next)
	}
}

func TestMergeStopsAtTheDeadline(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(2*time.Second))
	defer cancel()
	p := MergeRetry{Sleep: clock.Sleep, Now: clock.Now}
	_, _, err := p.Do(ctx, func(context.Context) (string, error) { return "", ErrBaseModified })
	if !errors.Is(err, ErrBaseModified) {
		t.Fatalf("error %v", err)
	}
	// 0.5 + 0.75 fit in 2 s; adding 1.125 would not.
	if fmt.Sprint(clock.sleeps) != "[500ms 750ms]" {
		t.Errorf("slept %v", clock.sleeps)
	}
}

// Next is the schedule the promoter follows through redelivery: the same
// waits as Do, and giving up once the next attempt would come after Within.
func TestMergeRetryNext(t *testing.T) {
	first := time.Unix(1000, 0)
	p := MergeRetry{Within: 10 * time.Second}
	var waits []time.Duration
	now := first
	for n := 0; ; n++ {
		wait, ok := p.Next(n, first, now)
		if !ok {
			break
		}
		waits = append(waits, wait)
		now = now.Add(wait)
	}
	// 0.5 + 0.75 + 1.125 + 1.6875 + 2.53125 = 6.59375 s; 3.796875 more would pass 10 s.
	if fmt.Sprint(waits) != "[500ms 750ms 1.125s 1.6875s 2.53125s]" {
		t.Fatalf("waits %v", waits)
	}
}
