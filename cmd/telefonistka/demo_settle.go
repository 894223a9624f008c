package main

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// chainSettled reports whether the promotion chain has come to rest, from
// events rather than timing: every webhook the emulator queued has been
// stored by ingress, every consumer has handled everything, and every
// promotion run that started has finished (a run finishes after its
// entries' PRs are opened, labelled and, with auto-merge, merged). The
// checks run twice around the webhook wait, so a merge made by the last
// handler (whose webhook starts the next stage) is not missed.
func chainSettled(ctx context.Context, js jetstream.JetStream, emu *emulator.Emulator) (bool, error) {
	for range 2 {
		if err := emu.WaitWebhooks(ctx); err != nil {
			return false, err
		}
		idle, err := bus.Idle(ctx, js)
		if err != nil || !idle {
			return false, err
		}
	}
	started, finished, err := runCounts(ctx, js)
	if err != nil {
		return false, err
	}
	return started > 0 && started == finished, nil
}

// runCounts counts the run_started and run_finished events in the
// PROMOTION stream.
func runCounts(ctx context.Context, js jetstream.JetStream) (started, finished uint64, err error) {
	st, err := js.Stream(ctx, events.StreamPromotion)
	if err != nil {
		return 0, 0, err
	}
	count := func(typ string) (uint64, error) {
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(events.FilterFor(typ)))
		if err != nil {
			return 0, fmt.Errorf("reading the %s stream: %w", events.StreamPromotion, err)
		}
		var n uint64
		for _, c := range info.State.Subjects {
			n += c
		}
		return n, nil
	}
	if started, err = count(events.TypePromotionRunStarted); err != nil {
		return 0, 0, err
	}
	finished, err = count(events.TypePromotionRunFinished)
	return started, finished, err
}
