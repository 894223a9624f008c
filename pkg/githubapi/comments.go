package githubapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v52/github"
)

// Marker starts every comment the bot writes (followed by "\n"), so later
// runs can find and minimise them.
const Marker = "<!-- telefonistka_tag -->"

// TrackerMarker follows Marker on the tracker's comment on a change's
// original PR. That comment is edited in place as the change moves on and
// is minimised or replaced only by the tracker: MinimizeOutdated leaves it
// alone unless MinimizeOptions.Tracker is set.
const TrackerMarker = "<!-- telefonistka_tracker -->"

// IsTrackerComment reports whether a comment body is the tracker's.
func IsTrackerComment(body string) bool {
	return HasMarker(body) && strings.HasPrefix(strings.TrimLeft(strings.TrimLeft(body, " \t\r\n")[len(Marker):], " \t\r\n"), TrackerMarker)
}

// MaxCommentLength is GitHub's limit on a comment body, in characters.
const MaxCommentLength = 65536

// WithMarker returns body starting with Marker and a newline, adding them
// unless they are already there.
func WithMarker(body string) string {
	if strings.HasPrefix(body, Marker+"\n") {
		return body
	}
	return Marker + "\n" + body
}

// HasMarker reports whether a comment body starts with Marker.
func HasMarker(body string) bool {
	return strings.HasPrefix(strings.TrimLeft(body, " \t\r\n"), Marker)
}

// CommentCreator creates issue and PR comments; *github.IssuesService is one.
type CommentCreator interface {
	CreateComment(ctx context.Context, owner, repo string, number int, comment *github.IssueComment) (*github.IssueComment, *github.Response, error)
}

// PostComment comments body, led by Marker, on issue or PR number. The
// returned comment's NodeID belongs in the exclusion set of MinimizeOutdated
// for the rest of the run.
func PostComment(ctx context.Context, issues CommentCreator, owner, repo string, number int, body string) (*github.IssueComment, error) {
	body = WithMarker(body)
	c, _, err := issues.CreateComment(ctx, owner, repo, number, &github.IssueComment{Body: &body})
	if err != nil {
		return nil, Classify(fmt.Errorf("commenting on %s/%s#%d: %w", owner, repo, number, err))
	}
	return c, nil
}
