package emulator

import (
	"context"
	"fmt"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/graphql"
)

type gqlActor struct {
	e *Emulator
	u *user
}

func (a *gqlActor) TypeName() string {
	if a.u.Type == "Bot" {
		return "Bot"
	}
	return "User"
}

func (a *gqlActor) Resolve(_ context.Context, field string, _ map[string]any) (any, error) {
	switch field {
	case "login":
		return a.u.Login, nil
	case "name":
		return a.u.Login, nil
	case "avatarUrl":
		return a.e.userJSON(a.u).AvatarURL, nil
	case "url":
		return a.e.opts.HTMLURL + "/" + a.u.Login, nil
	case "resourcePath":
		return "/" + a.u.Login, nil
	case "id":
		return a.e.userJSON(a.u).NodeID, nil
	case "databaseId":
		return a.u.ID, nil
	}
	return nil, nil
}

type gqlRepo struct {
	e      *Emulator
	r      *repo
	viewer *user
}

func (g *gqlRepo) TypeName() string { return "Repository" }

func (g *gqlRepo) Resolve(_ context.Context, field string, args map[string]any) (any, error) {
	r := g.r
	switch field {
	case "id":
		return nodeID("R", r.id), nil
	case "databaseId":
		return r.id, nil
	case "name":
		return r.name, nil
	case "nameWithOwner":
		return r.fullName(), nil
	case "url":
		return g.e.opts.HTMLURL + "/" + r.fullName(), nil
	case "owner":
		return &gqlActor{g.e, r.owner}, nil
	case "defaultBranchRef":
		r.mu.RLock()
		name := r.defaultBranch
		r.mu.RUnlock()
		return &gqlRef{e: g.e, r: r, name: name}, nil
	case "pullRequest":
		n, _ := argInt(args, "number")
		r.mu.RLock()
		is, ok := r.issues[n]
		r.mu.RUnlock()
		if !ok || is.pr == nil {
			return nil, notFound(fmt.Sprintf("Could not resolve to a PullRequest with the number of %d.", n))
		}
		return &gqlPull{e: g.e, r: r, is: is, viewer: g.viewer}, nil
	}
	return nil, nil
}

type gqlPull struct {
	e      *Emulator
	r      *repo
	is     *issue
	viewer *user
}

func (g *gqlPull) TypeName() string { return "PullRequest" }

func (g *gqlPull) Resolve(_ context.Context, field string, args map[string]any) (any, error) {
	g.r.mu.RLock()
	defer g.r.mu.RUnlock()
	is, p := g.is, g.is.pr
	switch field {
	case "id":
		return nodeID("PR", g.r.id, p.id), nil
	case "databaseId":
		return p.id, nil
	case "number":
		return is.number, nil
	case "title":
		return is.title, nil
	case "body":
		return is.body, nil
	case "state":
		if p.merged {
			return "MERGED", nil
		}
		return strings.ToUpper(is.state), nil
	case "url":
		return fmt.Sprintf("%s/%s/pull/%d", g.e.opts.HTMLURL, g.r.fullName(), is.number), nil
	case "author":
		return &gqlActor{g.e, is.user}, nil
	case "headRefName":
		return p.headRef, nil
	case "baseRefName":
		return p.baseRef, nil
	case "headRefOid":
		return p.headSHA.String(), nil
	case "merged":
		return p.merged, nil
	case "mergeCommit":
		if p.mergeSHA.IsZero() {
			return nil, nil
		}
		return &gqlCommit{oid: p.mergeSHA.String()}, nil
	case "labels":
		return g.labels(args), nil
	case "changedFiles":
		st, err := g.e.pullStats(g.r, is)
		if err != nil {
			return nil, err
		}
		return st.files, nil
	case "comments":
		return g.comments(args)
	}
	return nil, nil
}

// comments pages through the PR's comments with GraphQL cursors (first/after, last/before).
func (g *gqlPull) comments(args map[string]any) (any, error) {
	all := g.is.comments
	start, end := 0, len(all)
	if a := argString(args, "after"); a != "" {
		i, err := parseCursor(a)
		if err != nil {
			return nil, err
		}
		start = min(max(i+1, 0), len(all))
	}
	if b := argString(args, "before"); b != "" {
		i, err := parseCursor(b)
		if err != nil {
			return nil, err
		}
		end = min(max(i, start), end)
	}
	first, hasFirst := argInt(args, "first")
	last, hasLast := argInt(args, "last")
	if !hasFirst && !hasLast {
		return nil, &graphql.ResolveError{Type: "MISSING_PAGINATION_BOUNDARIES",
			Message: "You must provide a `first` or `last` value to properly paginate the `comments` connection."}
	}
	if (hasFirst && (first < 0 || first > 100)) || (hasLast && (last < 0 || last > 100)) {
		return nil, &graphql.ResolveError{Type: "EXCESSIVE_PAGINATION",
			Message: "Requesting more than 100 records on the `comments` connection is not supported."}
	}
	if hasFirst && end-start > first {
		end = start + first
	}
	if hasLast && end-start > last {
		start = end - last
	}
	nodes := make([]graphql.Object, 0, end-start)
	edges := make([]graphql.Object, 0, end-start)
	for i := start; i < end; i++ {
		c := &gqlComment{e: g.e, r: g.r, c: *all[i], viewer: g.viewer}
		nodes = append(nodes, c)
		edges = append(edges, &gqlObject{typ: "IssueCommentEdge", fields: map[string]any{"cursor": cursor(i), "node": c}})
	}
	var startCursor, endCursor any
	if end > start {
		startCursor, endCursor = cursor(start), cursor(end-1)
	}
	pageInfo := &gqlObject{typ: "PageInfo", fields: map[string]any{
		"hasNextPage": end < len(all), "hasPreviousPage": start > 0, "startCursor": startCursor, "endCursor": endCursor,
	}}
	return &gqlObject{typ: "IssueCommentConnection", fields: map[string]any{
		"nodes": nodes, "edges": edges, "pageInfo": pageInfo, "totalCount": len(all),
	}}, nil
}

// gqlComment resolves a copy of a comment taken under the repository lock.
type gqlComment struct {
	e      *Emulator
	r      *repo
	c      comment
	viewer *user
}

func (g *gqlComment) TypeName() string { return "IssueComment" }

func (g *gqlComment) Resolve(_ context.Context, field string, _ map[string]any) (any, error) {
	c := g.c
	switch field {
	case "id":
		return nodeID("IC", g.r.id, c.id), nil
	case "databaseId":
		return c.id, nil
	case "body":
		return c.body, nil
	case "isMinimized":
		return c.minimized != "", nil
	case "minimizedReason":
		if c.minimized == "" {
			return nil, nil
		}
		return c.minimized, nil
	case "author":
		return &gqlActor{g.e, c.user}, nil
	case "createdAt":
		return ts(c.createdAt), nil
	case "updatedAt":
		return ts(c.updatedAt), nil
	case "url":
		return fmt.Sprintf("%s/%s/pull/%d#issuecomment-%d", g.e.opts.HTMLURL, g.r.fullName(), c.issue, c.id), nil
	case "viewerDidAuthor":
		return g.viewer == c.user, nil
	case "viewerCanMinimize":
		return true, nil
	}
	return nil, nil
}
