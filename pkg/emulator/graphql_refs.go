package emulator

import (
	"context"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/graphql"
)

// gqlRef is a Ref (defaultBranchRef).
type gqlRef struct {
	e    *Emulator
	r    *repo
	name string
}

func (g *gqlRef) TypeName() string { return "Ref" }

func (g *gqlRef) Resolve(_ context.Context, field string, _ map[string]any) (any, error) {
	switch field {
	case "name":
		return g.name, nil
	case "prefix":
		return "refs/heads/", nil
	case "id":
		return nodeID("REF", g.r.id, int64(len(g.name))), nil
	case "target":
		h, ok := g.r.git.Ref("refs/heads/" + g.name)
		if !ok {
			return nil, nil
		}
		return &gqlCommit{oid: h.String()}, nil
	}
	return nil, nil
}

// gqlCommit is a Commit known by its object id.
type gqlCommit struct{ oid string }

func (g *gqlCommit) TypeName() string { return "Commit" }

func (g *gqlCommit) Resolve(_ context.Context, field string, _ map[string]any) (any, error) {
	switch field {
	case "oid":
		return g.oid, nil
	case "abbreviatedOid":
		return g.oid[:min(7, len(g.oid))], nil
	}
	return nil, nil
}

// gqlLabel is a Label.
type gqlLabel struct{ l *label }

func (g *gqlLabel) TypeName() string { return "Label" }

func (g *gqlLabel) Resolve(_ context.Context, field string, _ map[string]any) (any, error) {
	switch field {
	case "name":
		return g.l.name, nil
	case "color":
		return strings.TrimPrefix(g.l.color, "#"), nil
	}
	return nil, nil
}

// labels is a PullRequest's labels connection (first N, no cursors).
func (g *gqlPull) labels(args map[string]any) any {
	all := g.is.labels
	if n, ok := argInt(args, "first"); ok && n < len(all) {
		all = all[:n]
	}
	nodes := make([]graphql.Object, len(all))
	for i, l := range all {
		nodes[i] = &gqlLabel{l}
	}
	return &gqlObject{typ: "LabelConnection", fields: map[string]any{
		"nodes": nodes, "totalCount": len(g.is.labels),
		"pageInfo": &gqlObject{typ: "PageInfo", fields: map[string]any{"hasNextPage": len(all) < len(g.is.labels)}},
	}}
}
