package state

import (
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// fromOther reads the events of other families the tracker shows beside
// the promotions: argodiff's result for a PR head (the envelope's PR).
func fromOther(env *events.Envelope, repo events.Repo, at time.Time, p events.Payload) Facts {
	if env.PR == 0 {
		return Facts{}
	}
	var d *ArgoDiff
	switch p := p.(type) {
	case *events.ArgoDiffCommented:
		d = &ArgoDiff{HeadSHA: p.HeadSHA, At: at, Result: ArgoNoDiff, Components: len(p.Components)}
		for _, c := range p.Components {
			switch c.Result {
			case events.ArgoDiffChanged:
				d.Changed++
				d.Result = ArgoChanged
			case events.ArgoDiffError:
				d.Failed++
			}
		}
		if d.Result == ArgoNoDiff && d.Failed > 0 {
			d.Result = ArgoFailed
		}
	case *events.ArgoDiffFailed:
		d = &ArgoDiff{HeadSHA: p.HeadSHA, At: at, Result: ArgoFailed, Error: p.Reason}
	default:
		return Facts{}
	}
	return Facts{PRs: []*PR{{Repo: repo, Number: env.PR, ArgoDiff: d}}}
}

// Results of ArgoDiff.
const (
	ArgoChanged = "diff"
	ArgoNoDiff  = "no_diff"
	ArgoFailed  = "failed"
)
