package planner

import (
	"strconv"

	"context"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// commenter posts the bot comments of one delivery exactly once. A
// redelivery (its first delivery may have posted some comments before it
// failed) reads the PR's comments once and skips a comment the bot already
// posted there with the same body. A first delivery reads nothing.
type commenter struct {
	gh         GitHub
	redelivery bool
	posted     map[string]map[string]bool // repo#number -> bodies there
}

func (s *Service) commenter(m *bus.Message) *commenter {
	return &commenter{gh: s.gh, redelivery: m.Delivery > 1}
}

// post posts body (rendered with renderErr; a render error is permanent)
// on repo's issue or PR number, unless this delivery already did.
func (c *commenter) post(ctx context.Context, repo events.Repo, number int, body string, renderErr error) error {
	if renderErr != nil {
		return bus.Permanent(renderErr)
	}
	marked := githubapi.WithMarker(body)
	if c.redelivery {
		there, err := c.bodies(ctx, repo, number)
		if err != nil {
			return err
		}
		if there[marked] {
			return nil
		}
	}
	if _, err := c.gh.Comment(ctx, repo, number, body); err != nil {
		return err
	}
	if c.posted != nil {
		if there := c.posted[c.key(repo, number)]; there != nil {
			there[marked] = true
		}
	}
	return nil
}

// bodies returns the bodies of the bot comments on repo's number, read once.
func (c *commenter) bodies(ctx context.Context, repo events.Repo, number int) (map[string]bool, error) {
	key := c.key(repo, number)
	if there, ok := c.posted[key]; ok {
		return there, nil
	}
	all, err := c.gh.Comments(ctx, repo, number)
	if err != nil {
		return nil, err
	}
	there := map[string]bool{}
	for _, ic := range all {
		if githubapi.HasMarker(ic.Body) {
			there[ic.Body] = true
		}
	}
	if c.posted == nil {
		c.posted = map[string]map[string]bool{}
	}
	c.posted[key] = there
	return there, nil
}

func (c *commenter) key(repo events.Repo, number int) string {
	return repo.String() + "#" + strconv.Itoa(number)
}
