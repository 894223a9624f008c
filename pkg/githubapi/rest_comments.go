package githubapi

import (
	"context"
	"fmt"

	"github.com/google/go-github/v52/github"
	"github.com/shurcooL/githubv4"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// EditComment replaces the body of a comment the bot wrote; body gets the
// marker as in Comment. A comment that is gone gives an error for which
// IsNotFound is true.
func (g *GitHub) EditComment(ctx context.Context, repo events.Repo, id int64, body string) (PostedComment, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return PostedComment{}, err
	}
	body = WithMarker(body)
	ic, _, err := c.Issues.EditComment(ctx, repo.Owner, repo.Name, id, &github.IssueComment{Body: &body})
	if err != nil {
		return PostedComment{}, fail(err, "editing comment %d of %s", id, repo)
	}
	return PostedComment{ID: ic.GetID(), NodeID: ic.GetNodeID(), URL: ic.GetHTMLURL()}, nil
}

// MinimizeComment minimises one comment (by node id) as outdated.
func (g *GitHub) MinimizeComment(ctx context.Context, repo events.Repo, nodeID string) error {
	gql, err := g.clients.GraphQLForOwner(ctx, repo.Owner)
	if err != nil {
		return err
	}
	var m minimizeComment
	input := githubv4.MinimizeCommentInput{SubjectID: githubv4.ID(nodeID), Classifier: githubv4.ReportedContentClassifiersOutdated}
	if err := gql.Mutate(ctx, &m, input, nil); err != nil {
		return Classify(fmt.Errorf("minimising comment %s on %s: %w", nodeID, repo, err))
	}
	return nil
}

// MinimizeOutdated minimises the bot's earlier comments on pull request
// number of repo as outdated (MinimizeOutdated, with this identity's
// GraphQL client) and returns how many it minimised.
func (g *GitHub) MinimizeOutdated(ctx context.Context, repo events.Repo, number int, opts MinimizeOptions) (int, error) {
	gql, err := g.clients.GraphQLForOwner(ctx, repo.Owner)
	if err != nil {
		return 0, err
	}
	return MinimizeOutdated(ctx, gql, repo.Owner, repo.Name, number, opts)
}
