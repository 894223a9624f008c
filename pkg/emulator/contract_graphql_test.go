package emulator_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shurcooL/githubv4"
)

func (env *contractEnv) graphql() *githubv4.Client {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: tokenTransport{env.token}}
	return githubv4.NewEnterpriseClient(env.graphqlURL, hc)
}

type commentsQuery struct {
	Repository struct {
		PullRequest struct {
			Comments struct {
				Nodes []struct {
					ID              githubv4.ID
					DatabaseID      int64
					Body            string
					IsMinimized     bool
					MinimizedReason *string
					Author          struct{ Login string }
					CreatedAt       githubv4.DateTime
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   *githubv4.String
				}
				TotalCount int
			} `graphql:"comments(first: $first, after: $after)"`
		} `graphql:"pullRequest(number: $number)"`
	} `graphql:"repository(owner: $owner, name: $name)"`
}

func TestContractGraphQL(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	gql := env.graphql()

	var viewer struct{ Viewer struct{ Login string } }
	if err := gql.Query(ctx, &viewer, nil); err != nil || viewer.Viewer.Login != env.botLogin {
		t.Fatalf("viewer = %q, %v", viewer.Viewer.Login, err)
	}

	pr, _ := env.openPR(t, map[string]*string{"gql/a.txt": str("a\n")})
	restIDs := map[int64]string{}
	for _, body := range []string{"one", "two", "three"} {
		id, err := env.comment(pr.GetNumber(), body)
		if err != nil {
			t.Fatal(err)
		}
		restIDs[id.GetID()] = id.GetNodeID()
	}
	var bodies []string
	var target githubv4.ID
	vars := map[string]any{"owner": githubv4.String(env.owner), "name": githubv4.String(env.repo),
		"number": githubv4.Int(pr.GetNumber()), "first": githubv4.Int(2), "after": (*githubv4.String)(nil)}
	for page := 0; ; page++ {
		var q commentsQuery
		if err := gql.Query(ctx, &q, vars); err != nil {
			t.Fatal(err)
		}
		c := q.Repository.PullRequest.Comments
		if c.TotalCount != 3 {
			t.Errorf("totalCount = %d", c.TotalCount)
		}
		for _, n := range c.Nodes {
			bodies = append(bodies, n.Body)
			if restIDs[n.DatabaseID] != n.ID.(string) {
				t.Errorf("GraphQL id %v does not match REST node_id %q of comment %d", n.ID, restIDs[n.DatabaseID], n.DatabaseID)
			}
			if n.Author.Login != env.botLogin || n.IsMinimized || n.MinimizedReason != nil {
				t.Errorf("comment %d author %s minimized %v", n.DatabaseID, n.Author.Login, n.IsMinimized)
			}
			if n.Body == "two" {
				target = n.ID
			}
		}
		if !c.PageInfo.HasNextPage {
			break
		}
		if page > 3 {
			t.Fatal("pagination does not end")
		}
		vars["after"] = c.PageInfo.EndCursor
	}
	if strings.Join(bodies, ",") != "one,two,three" {
		t.Errorf("comments via GraphQL = %v", bodies)
	}

	var m struct {
		MinimizeComment struct {
			MinimizedComment struct {
				IsMinimized     bool
				MinimizedReason string
			}
		} `graphql:"minimizeComment(input: $input)"`
	}
	err := gql.Mutate(ctx, &m, githubv4.MinimizeCommentInput{SubjectID: target, Classifier: githubv4.ReportedContentClassifiersOutdated}, nil)
	if err != nil || !m.MinimizeComment.MinimizedComment.IsMinimized || !strings.EqualFold(m.MinimizeComment.MinimizedComment.MinimizedReason, "outdated") {
		t.Fatalf("minimize = %+v, %v", m, err)
	}
	var after commentsQuery
	vars["after"], vars["first"] = (*githubv4.String)(nil), githubv4.Int(10)
	if err := gql.Query(ctx, &after, vars); err != nil {
		t.Fatal(err)
	}
	for _, n := range after.Repository.PullRequest.Comments.Nodes {
		if (n.Body == "two") != n.IsMinimized {
			t.Errorf("comment %q minimized = %v", n.Body, n.IsMinimized)
		}
	}
	var badCursor commentsQuery
	vars["after"] = githubv4.NewString("not-a-cursor")
	err = gql.Query(ctx, &badCursor, vars)
	if err == nil || !strings.Contains(err.Error(), "`not-a-cursor` does not appear to be a valid cursor.") {
		t.Errorf("invalid cursor error = %v", err)
	}

	var unknown struct {
		Viewer struct{ NoSuchField string }
	}
	err = gql.Query(ctx, &unknown, nil)
	if err == nil || !strings.Contains(err.Error(), "noSuchField") {
		t.Errorf("unknown field error = %v", err)
	}
	var missing struct {
		Repository struct{ Name string } `graphql:"repository(owner: $owner, name: $name)"`
	}
	err = gql.Query(ctx, &missing, map[string]any{"owner": githubv4.String(env.owner), "name": githubv4.String("missing-" + uniqueName("r"))})
	if err == nil || !strings.Contains(err.Error(), "Could not resolve to a Repository") {
		t.Errorf("missing repository error = %v", err)
	}
}

// TestContractGraphQLEmptyConnection reads a PR without comments with a non-pointer
// cursor field, as pkg/githubapi does: endCursor is null and must decode.
func TestContractGraphQLEmptyConnection(t *testing.T) {
	env := newContractEnv(t)
	pr, _ := env.openPR(t, map[string]*string{"gql/empty.txt": str("e\n")})
	var q struct {
		Repository struct {
			PullRequest struct {
				Comments struct {
					Nodes    []struct{ ID githubv4.ID }
					PageInfo struct {
						HasNextPage bool
						EndCursor   githubv4.String
					}
				} `graphql:"comments(first: 100, after: $cursor)"`
			} `graphql:"pullRequest(number: $number)"`
		} `graphql:"repository(owner: $owner, name: $name)"`
	}
	err := env.graphql().Query(context.Background(), &q, map[string]any{"owner": githubv4.String(env.owner), "name": githubv4.String(env.repo),
		"number": githubv4.Int(pr.GetNumber()), "cursor": (*githubv4.String)(nil)})
	if err != nil || len(q.Repository.PullRequest.Comments.Nodes) != 0 || q.Repository.PullRequest.Comments.PageInfo.HasNextPage {
		t.Fatalf("empty connection = %+v, %v", q, err)
	}
}
