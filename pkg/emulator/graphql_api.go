package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/graphql"
)

func fields(names ...string) map[string]graphql.Field {
	m := map[string]graphql.Field{}
	for _, n := range names {
		name, typ, _ := strings.Cut(n, ":")
		m[name] = graphql.Field{Type: typ}
	}
	return m
}

func withArgs(m map[string]graphql.Field, field string, args ...string) map[string]graphql.Field {
	f := m[field]
	f.Args = args
	m[field] = f
	return m
}

var actorFields = []string{"login:String!", "avatarUrl:URI!", "url:URI!", "resourcePath:URI!", "id:ID!", "databaseId:Int"}

var gqlSchema = &graphql.Schema{
	Query:    "Query",
	Mutation: "Mutation",
	Types: map[string]graphql.Type{
		"Query": {Fields: withArgs(withArgs(fields("viewer:User!", "repository:Repository", "rateLimit:RateLimit"),
			"repository", "owner", "name", "followRenames"), "rateLimit", "dryRun")},
		"Mutation": {Fields: withArgs(withArgs(fields("minimizeComment:MinimizeCommentPayload", "unminimizeComment:UnminimizeCommentPayload"),
			"minimizeComment", "input"), "unminimizeComment", "input")},
		"Actor":     {Fields: fields(actorFields...)},
		"User":      {Fields: fields(append(actorFields, "name:String")...), Implements: []string{"Actor"}},
		"Bot":       {Fields: fields(actorFields...), Implements: []string{"Actor"}},
		"RateLimit": {Fields: fields("limit:Int!", "remaining:Int!", "used:Int!", "cost:Int!", "resetAt:DateTime!", "nodeCount:Int!")},
		"Repository": {Fields: withArgs(fields("id:ID!", "databaseId:Int", "name:String!", "nameWithOwner:String!", "url:URI!", "owner:Actor!",
			"pullRequest:PullRequest", "defaultBranchRef:Ref"), "pullRequest", "number")},
		"PullRequest": {Fields: withArgs(withArgs(fields("id:ID!", "databaseId:Int", "number:Int!", "title:String!", "body:String!", "state:PullRequestState!",
			"url:URI!", "author:Actor", "headRefName:String!", "baseRefName:String!", "headRefOid:GitObjectID!", "merged:Boolean!",
			"mergeCommit:Commit", "changedFiles:Int!", "labels:LabelConnection", "comments:IssueCommentConnection!"),
			"comments", "first", "last", "after", "before"), "labels", "first")},
		"Ref":                    {Fields: fields("id:ID!", "name:String!", "prefix:String!", "target:GitObject")},
		"GitObject":              {Fields: fields("oid:GitObjectID!", "abbreviatedOid:String!")},
		"Commit":                 {Fields: fields("oid:GitObjectID!", "abbreviatedOid:String!"), Implements: []string{"GitObject"}},
		"LabelConnection":        {Fields: fields("nodes:[Label]", "pageInfo:PageInfo!", "totalCount:Int!")},
		"Label":                  {Fields: fields("name:String!", "color:String!")},
		"IssueCommentConnection": {Fields: fields("nodes:[IssueComment]", "edges:[IssueCommentEdge]", "pageInfo:PageInfo!", "totalCount:Int!")},
		"IssueCommentEdge":       {Fields: fields("cursor:String!", "node:IssueComment")},
		"PageInfo":               {Fields: fields("hasNextPage:Boolean!", "hasPreviousPage:Boolean!", "startCursor:String", "endCursor:String")},
		"IssueComment": {Fields: fields("id:ID!", "databaseId:Int", "body:String!", "isMinimized:Boolean!", "minimizedReason:String",
			"author:Actor", "createdAt:DateTime!", "updatedAt:DateTime!", "url:URI!", "viewerDidAuthor:Boolean!", "viewerCanMinimize:Boolean!"),
			Implements: []string{"Minimizable", "Node"}},
		"Minimizable":              {Fields: fields("isMinimized:Boolean!", "minimizedReason:String", "viewerCanMinimize:Boolean!")},
		"MinimizeCommentPayload":   {Fields: fields("clientMutationId:String", "minimizedComment:Minimizable")},
		"UnminimizeCommentPayload": {Fields: fields("clientMutationId:String", "unminimizedComment:Minimizable")},
	},
}

func (e *Emulator) serveGraphQL(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	doc, err := graphql.Parse(in.Query, in.OperationName)
	if err != nil {
		ge := graphql.Error{Message: err.Error()}
		var se *graphql.SyntaxError
		if errors.As(err, &se) {
			ge.Locations = []graphql.Location{{Line: se.Line, Column: se.Col}}
		}
		writeJSON(w, http.StatusOK, graphql.Response{Errors: []graphql.Error{ge}})
		return
	}
	for _, s := range doc.Selections {
		e.ctl.mu.Lock()
		e.ctl.counters["GRAPHQL "+doc.Operation+" "+s.Name]++
		e.ctl.mu.Unlock()
	}
	resp := graphql.Execute(r.Context(), gqlSchema, doc, in.Variables, &gqlRoot{e: e, id: c.id})
	writeJSON(w, http.StatusOK, resp)
}

type gqlRoot struct {
	e  *Emulator
	id *identity
}

func (q *gqlRoot) TypeName() string { return "Query" }

func notFound(msg string) error { return &graphql.ResolveError{Type: "NOT_FOUND", Message: msg} }

func (q *gqlRoot) Resolve(ctx context.Context, field string, args map[string]any) (any, error) {
	switch field {
	case "viewer":
		return &gqlActor{e: q.e, u: q.id.user}, nil
	case "rateLimit":
		return &gqlRateLimit{q.e, q.id}, nil
	case "repository":
		owner, name := argString(args, "owner"), argString(args, "name")
		r, ok := q.e.repo(owner, name)
		if !ok || (q.id.inst != nil && !strings.EqualFold(q.id.inst.account.Login, owner)) {
			return nil, notFound(fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", owner, name))
		}
		return &gqlRepo{e: q.e, r: r, viewer: q.id.user}, nil
	case "minimizeComment", "unminimizeComment":
		return q.minimize(field == "minimizeComment", args)
	}
	return nil, nil
}

var classifiers = map[string]string{
	"SPAM": "spam", "ABUSE": "abuse", "OFF_TOPIC": "off-topic", "OUTDATED": "outdated", "DUPLICATE": "duplicate", "RESOLVED": "resolved",
}

func (q *gqlRoot) minimize(minimize bool, args map[string]any) (any, error) {
	in, _ := args["input"].(map[string]any)
	subject := argString(in, "subjectId")
	reason := ""
	if minimize {
		cls := argString(in, "classifier")
		var ok bool
		if reason, ok = classifiers[cls]; !ok {
			// GitHub's message, verbatim.
			return nil, &graphql.ResolveError{Message: fmt.Sprintf("Argument 'classifier' on InputObject 'MinimizeCommentInput' has an invalid value (%s). Expected type 'ReportedContentClassifiers!'.", cls)}
		}
	}
	prefix, ids, err := parseNodeID(subject)
	if err != nil || prefix != "IC" || len(ids) != 2 {
		return nil, notFound(fmt.Sprintf("Could not resolve to a node with the global id of '%s'", subject))
	}
	for _, r := range q.e.allRepos() {
		if r.id != ids[0] {
			continue
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		cm, ok := r.comments[ids[1]]
		if !ok {
			break
		}
		cm.minimized = reason
		q.e.changed(r)
		payload := &gqlObject{typ: "MinimizeCommentPayload", fields: map[string]any{"clientMutationId": argOrNil(in, "clientMutationId")}}
		key := "minimizedComment"
		if !minimize {
			payload.typ, key = "UnminimizeCommentPayload", "unminimizedComment"
		}
		payload.fields[key] = &gqlComment{e: q.e, r: r, c: *cm, viewer: q.id.user}
		return payload, nil
	}
	return nil, notFound(fmt.Sprintf("Could not resolve to a node with the global id of '%s'", subject))
}

func argString(args map[string]any, name string) string {
	s, _ := args[name].(string)
	return s
}

func argOrNil(args map[string]any, name string) any {
	if v, ok := args[name]; ok {
		return v
	}
	return nil
}

func argInt(args map[string]any, name string) (int, bool) {
	switch v := args[name].(type) {
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	}
	return 0, false
}

// gqlObject is a plain object with precomputed fields.
type gqlObject struct {
	typ    string
	fields map[string]any
}

func (o *gqlObject) TypeName() string { return o.typ }
func (o *gqlObject) Resolve(_ context.Context, field string, _ map[string]any) (any, error) {
	return o.fields[field], nil
}

type gqlRateLimit struct {
	e  *Emulator
	id *identity
}

func (g *gqlRateLimit) TypeName() string { return "RateLimit" }
func (g *gqlRateLimit) Resolve(_ context.Context, field string, _ map[string]any) (any, error) {
	used, reset := g.e.ctl.peek(g.id.key+"/graphql", now())
	switch field {
	case "limit":
		return g.e.opts.RateLimit, nil
	case "remaining":
		return g.e.opts.RateLimit - used, nil
	case "used":
		return used, nil
	case "cost", "nodeCount":
		return 1, nil
	case "resetAt":
		return ts(reset), nil
	}
	return nil, nil
}

func cursor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(i)))
}

func parseCursor(s string) (int, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(raw), "cursor:v2:") {
		// GitHub's message, verbatim.
		return 0, &graphql.ResolveError{Message: fmt.Sprintf("`%s` does not appear to be a valid cursor.", s)}
	}
	return strconv.Atoi(strings.TrimPrefix(string(raw), "cursor:v2:"))
}
