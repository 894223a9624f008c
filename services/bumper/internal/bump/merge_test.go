package bump

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeClock advances only when slept on.
type fakeClock struct {
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

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
			p := MergePolicy{Sleep: clock.Sleep, Now: clock.Now}
			calls := 0
			sha, err := p.merge(context.Background(), func(context.Context) (string, error) {
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
			if fmt.Sprint(clock.slept) != fmt.Sprint(c.wantSleep) {
				t.Errorf("slept %v, want %v", clock.slept, c.wantSleep)
			}
		})
	}
}

func TestMergeGivesUpAfterFiveMinutes(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	p := MergePolicy{Sleep: clock.Sleep, Now: clock.Now}
	_, err := p.merge(context.Background(), func(context.Context) (string, error) { return "", ErrBaseModified })
	if !errors.Is(err, ErrBaseModified) || !strings.Contains(err.Error(), "giving up after") {
		t.Fatalf("error %v", err)
	}
	var total time.Duration
	for _, d := range clock.slept {
		total += d
	}
	next := clock.slept[len(clock.slept)-1] * 3 / 2
	if total > 5*time.Minute || total+next <= 5*time.Minute {
		t.Errorf("slept %v in total over %d waits; the next wait %v would have fit", total, len(clock.slept), next)
	}
}

func TestMergeStopsAtTheDeadline(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	ctx, cancel := context.WithDeadline(context.Background(), clock.now.Add(2*time.Second))
	defer cancel()
	p := MergePolicy{Sleep: clock.Sleep, Now: clock.Now}
	_, err := p.merge(ctx, func(context.Context) (string, error) { return "", ErrBaseModified })
	if !errors.Is(err, ErrBaseModified) {
		t.Fatalf("error %v", err)
	}
	// 0.5 + 0.75 fit in 2 s; adding 1.125 would not.
	if fmt.Sprint(clock.slept) != "[500ms 750ms]" {
		t.Errorf("slept %v", clock.slept)
	}
}
