package githubapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/shurcooL/githubv4"
)

// GraphQLClient runs GraphQL queries and mutations; *githubv4.Client is one.
type GraphQLClient interface {
	Query(ctx context.Context, q any, variables map[string]any) error
	Mutate(ctx context.Context, m any, input githubv4.Input, variables map[string]any) error
}

// MinimizeOptions choose which bot comments MinimizeOutdated hides.
type MinimizeOptions struct {
	// BotLogin is the bot's login (Factory.BotLogin); only its comments
	// are minimised. A trailing "[bot]" on either side is ignored.
	BotLogin string
	// Exclude holds the node ids of comments of the current run, which are kept.
	Exclude map[string]bool
	// Match, if set, restricts minimising to comments whose body it accepts
	// (for example one kind of comment).
	Match func(body string) bool
	// Tracker makes the tracker's comments (TrackerMarker) candidates; they
	// are skipped otherwise, so only the tracker minimises them.
	Tracker bool
}

// prComments is one page of a PR's comments.
type prComments struct {
	Repository struct {
		PullRequest struct {
			Comments struct {
				Nodes []struct {
					ID          githubv4.ID
					IsMinimized bool
					Body        string
					Author      struct {
						Login string
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   githubv4.String
				}
			} `graphql:"comments(first: 100, after: $cursor)"`
		} `graphql:"pullRequest(number: $number)"`
	} `graphql:"repository(owner: $owner, name: $name)"`
}

type minimizeComment struct {
	MinimizeComment struct {
		MinimizedComment struct {
			IsMinimized bool
		}
	} `graphql:"minimizeComment(input: $input)"`
}

// MinimizeOutdated minimises, with classifier OUTDATED, every comment on
// the PR that the bot wrote, that starts with Marker, that is not minimised
// yet, not excluded and (if opts.Match is set) matched. It reads every page
// of comments first, and returns how many it minimised. A failure to
// minimise one comment does not stop the others; the errors are joined.
func MinimizeOutdated(ctx context.Context, gql GraphQLClient, owner, repo string, number int, opts MinimizeOptions) (int, error) {
	if opts.BotLogin == "" {
		return 0, errors.New("minimising outdated comments: the bot login is empty")
	}
	ids, err := outdatedComments(ctx, gql, owner, repo, number, opts)
	if err != nil {
		return 0, err
	}
	var errs []error
	done := 0
	for _, id := range ids {
		var m minimizeComment
		input := githubv4.MinimizeCommentInput{SubjectID: id, Classifier: githubv4.ReportedContentClassifiersOutdated}
		if err := gql.Mutate(ctx, &m, input, nil); err != nil {
			errs = append(errs, fmt.Errorf("minimising comment %v on %s/%s#%d: %w", id, owner, repo, number, err))
			continue
		}
		done++
	}
	if err := errors.Join(errs...); err != nil {
		return done, Classify(err)
	}
	return done, nil
}

func outdatedComments(ctx context.Context, gql GraphQLClient, owner, repo string, number int, opts MinimizeOptions) ([]githubv4.ID, error) {
	vars := map[string]any{
		"owner":  githubv4.String(owner),
		"name":   githubv4.String(repo),
		"number": githubv4.Int(number),
		"cursor": (*githubv4.String)(nil),
	}
	var ids []githubv4.ID
	for {
		var q prComments
		if err := gql.Query(ctx, &q, vars); err != nil {
			return nil, Classify(fmt.Errorf("listing comments of %s/%s#%d: %w", owner, repo, number, err))
		}
		page := q.Repository.PullRequest.Comments
		for _, c := range page.Nodes {
			switch {
			case c.IsMinimized,
				!SameLogin(c.Author.Login, opts.BotLogin),
				!HasMarker(c.Body),
				opts.Exclude[fmt.Sprint(c.ID)],
				IsTrackerComment(c.Body) != opts.Tracker,
				opts.Match != nil && !opts.Match(c.Body):
				continue
			}
			ids = append(ids, c.ID)
		}
		if !page.PageInfo.HasNextPage {
			return ids, nil
		}
		cursor := page.PageInfo.EndCursor
		vars["cursor"] = &cursor
	}
}
