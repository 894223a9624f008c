package app

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// runnable returns the services that can run given the streams that could
// not be made usable (streamErrs), and the streams those services need. A
// stream conflict (bus.ConflictError: an existing setting Telefonistka will
// not change) fails only the services that need that stream: alone in the
// process, the service's error is returned (the process exits non-zero);
// among others, it is logged and the others run. Any other error (NATS
// unreachable) is returned.
func runnable(builders []Builder, streamErrs map[string]error, log *slog.Logger) ([]Builder, []string, error) {
	names := make([]string, 0, len(streamErrs))
	for name := range streamErrs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var conflict *bus.ConflictError
		if !errors.As(streamErrs[name], &conflict) {
			return nil, nil, streamErrs[name]
		}
		log.Error("stream unusable", "stream", name, "error", streamErrs[name])
	}
	var ok []Builder
	need := map[string]bool{}
	var failed []error
	for _, b := range builders {
		var errs []error
		for _, s := range events.StreamsOf(b.Name) {
			if err := streamErrs[s]; err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			err := fmt.Errorf("%s cannot start: %w", b.Name, errors.Join(errs...))
			failed = append(failed, err)
			log.Error("service not started: a stream it needs is unusable", "service", b.Name, "error", err)
			continue
		}
		ok = append(ok, b)
		for _, s := range events.StreamsOf(b.Name) {
			need[s] = true
		}
	}
	if len(ok) == 0 && len(failed) > 0 {
		return nil, nil, errors.Join(failed...)
	}
	streams := make([]string, 0, len(need))
	for s := range need {
		streams = append(streams, s)
	}
	sort.Strings(streams)
	return ok, streams, nil
}
