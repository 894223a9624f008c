package githubapi

import (
	"fmt"
	"strings"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// ParseDelivery decodes the GitHub delivery an event carries and its
// payload into go-github's type for the event (*github.PullRequestEvent,
// *github.IssueCommentEvent, ...). A delivery that cannot be decoded is a
// permanent error: redelivering it would not help.
func ParseDelivery(env *events.Envelope) (events.GitHubDelivery, any, error) {
	var d events.GitHubDelivery
	if err := env.DecodeData(&d); err != nil {
		return d, nil, bus.Permanent(fmt.Errorf("decoding the delivery: %w", err))
	}
	payload, err := d.PayloadJSON()
	if err != nil {
		return d, nil, bus.Permanent(err)
	}
	ev, err := github.ParseWebHook(d.Event, payload)
	if err != nil {
		return d, nil, bus.Permanent(fmt.Errorf("parsing %s delivery %s: %w", d.Event, d.DeliveryID, err))
	}
	return d, ev, nil
}

// RepoOf is the repository of a webhook payload (the owner's login, or its
// name where a payload gives only that).
func RepoOf(r *github.Repository) events.Repo {
	owner := r.GetOwner().GetLogin()
	if owner == "" {
		owner = r.GetOwner().GetName()
	}
	return events.Repo{Owner: owner, Name: r.GetName()}
}

// SameLogin compares logins case-insensitively, ignoring a "[bot]" suffix
// (an App's comments are by "<slug>[bot]", its login is "<slug>").
func SameLogin(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "[bot]"), strings.TrimSuffix(b, "[bot]"))
}
