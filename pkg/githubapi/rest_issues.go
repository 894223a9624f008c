package githubapi

import (
	"github.com/google/go-github/v52/github"

	"context"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// PostedComment is a comment the bot posted.
type PostedComment struct {
	ID int64
	// NodeID is the GraphQL id (MinimizeOptions.Exclude takes these).
	NodeID string
	URL    string
}

// Comment posts a bot comment (PostComment: the body starts with the
// marker) on an issue or pull request.
func (g *GitHub) Comment(ctx context.Context, repo events.Repo, number int, body string) (PostedComment, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return PostedComment{}, err
	}
	ic, err := PostComment(ctx, c.Issues, repo.Owner, repo.Name, number, body)
	if err != nil {
		return PostedComment{}, err
	}
	return PostedComment{ID: ic.GetID(), NodeID: ic.GetNodeID(), URL: ic.GetHTMLURL()}, nil
}

// IssueComment is one comment of an issue or pull request.
type IssueComment struct {
	ID     int64
	NodeID string
	Author string
	Body   string
}

// Comments lists every comment of an issue or pull request (every page),
// oldest first.
func (g *GitHub) Comments(ctx context.Context, repo events.Repo, number int) ([]IssueComment, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, err
	}
	var out []IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.Issues.ListComments(ctx, repo.Owner, repo.Name, number, opts)
		if err != nil {
			return nil, fail(err, "listing the comments of %s#%d", repo, number)
		}
		for _, ic := range page {
			out = append(out, IssueComment{ID: ic.GetID(), NodeID: ic.GetNodeID(), Author: ic.GetUser().GetLogin(), Body: ic.GetBody()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
