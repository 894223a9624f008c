package bumper

import (
	"fmt"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/bumper/internal/bump"
	"github.com/telefonistka/telefonistka/services/bumper/internal/edit"
)

// prepare checks a bump request (from the command line or from NATS) and
// turns it into the target repository and a bump.Request. Its errors are
// about the request itself: retrying cannot fix them.
func prepare(r *events.BumpRequested) (events.Repo, bump.Request, error) {
	if err := r.Validate(); err != nil {
		return events.Repo{}, bump.Request{}, err
	}
	target, err := events.ParseRepo(r.TargetRepo)
	if err != nil {
		return events.Repo{}, bump.Request{}, err
	}
	req := bump.Request{
		Repo:           target,
		File:           r.TargetFile,
		TriggeringRepo: r.TriggeringRepo,
		SHA:            r.TriggeringSHA,
		Actor:          r.TriggeringActor,
		AutoMerge:      r.AutoMerge,
	}
	switch r.Mode {
	case events.BumpOverwrite:
		req.Change = bump.Overwrite{Content: []byte(r.Content)}
	case events.BumpRegex:
		re, err := edit.CompileRegex(r.Regex)
		if err != nil {
			return events.Repo{}, bump.Request{}, err
		}
		req.Change = bump.Regex{Re: re, Replacement: r.Replacement}
	case events.BumpYAML:
		if err := edit.ValidateAddress(r.Address); err != nil {
			return events.Repo{}, bump.Request{}, err
		}
		req.Change = bump.YAML{Address: r.Address, Value: r.Replacement}
	default:
		return events.Repo{}, bump.Request{}, fmt.Errorf("unknown bump mode %q", r.Mode)
	}
	return target, req, nil
}
