package githubapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v52/github"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fakeComment struct {
	ID, Login, Body string
	Minimized       bool
}

// fakeGraphQL serves the comment listing (two pages) and minimizeComment,
// failing the test on any request of another shape.
type fakeGraphQL struct {
	t         *testing.T
	pages     [][]fakeComment
	failOn    string
	mu        sync.Mutex
	minimized []string
	queries   int
}

const (
	wantListQuery = `query($cursor:String$name:String!$number:Int!$owner:String!){repository(owner: $owner, name: $name){pullRequest(number: $number){comments(first: 100, after: $cursor){nodes{id,isMinimized,body,author{login}},pageInfo{hasNextPage,endCursor}}}}}`
	wantMutation  = `mutation($input:MinimizeCommentInput!){minimizeComment(input: $input){minimizedComment{isMinimized}}}`
)

func (g *fakeGraphQL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/graphql" {
		g.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		g.t.Errorf("bad GraphQL body: %v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch req.Query {
	case wantListQuery:
		g.queries++
		if req.Variables["owner"] != "acme" || req.Variables["name"] != "gitops" || req.Variables["number"] != float64(33) {
			g.t.Errorf("list variables = %v", req.Variables)
		}
		page := 0
		switch req.Variables["cursor"] {
		case nil:
		case "cursor-1":
			page = 1
		default:
			g.t.Errorf("unexpected cursor %v", req.Variables["cursor"])
		}
		nodes := []map[string]any{}
		for _, c := range g.pages[page] {
			nodes = append(nodes, map[string]any{"id": c.ID, "isMinimized": c.Minimized, "body": c.Body, "author": map[string]any{"login": c.Login}})
		}
		hasNext := page+1 < len(g.pages)
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"repository": map[string]any{"pullRequest": map[string]any{
			"comments": map[string]any{"nodes": nodes, "pageInfo": map[string]any{"hasNextPage": hasNext, "endCursor": "cursor-1"}}}}}})
	case wantMutation:
		input, _ := req.Variables["input"].(map[string]any)
		if input["classifier"] != "OUTDATED" || len(input) != 2 {
			g.t.Errorf("mutation input = %v", input)
		}
		id, _ := input["subjectId"].(string)
		if id == g.failOn {
			writeJSON(w, http.StatusOK, map[string]any{"data": nil, "errors": []map[string]any{{"message": "Could not resolve to a node"}}})
			return
		}
		g.minimized = append(g.minimized, id)
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"minimizeComment": map[string]any{"minimizedComment": map[string]any{"isMinimized": true}}}})
	default:
		g.t.Errorf("unexpected GraphQL document:\n%s", req.Query)
		w.WriteHeader(http.StatusBadRequest)
	}
}

func commentFixture() [][]fakeComment {
	m := Marker + "\n"
	return [][]fakeComment{
		{
			{ID: "IC_old_diff", Login: "octo-bot", Body: m + "Argo CD diff ..."},
			{ID: "IC_hidden", Login: "octo-bot", Body: m + "older", Minimized: true},
			{ID: "IC_human_quote", Login: "alice", Body: m + "copied from the bot"},
			{ID: "IC_bot_unmarked", Login: "octo-bot", Body: "no marker here"},
			{ID: "IC_tracker", Login: "octo-bot", Body: m + TrackerMarker + "\n### Promotion of #33"},
		},
		{
			{ID: "IC_this_run", Login: "octo-bot", Body: m + "Argo CD diff, new"},
			{ID: "IC_old_drift", Login: "octo-bot[bot]", Body: m + "drift detected"},
			{ID: "IC_old_plan", Login: "Octo-Bot", Body: "\n" + m + "plan"},
		},
	}
}

func minimizeSetup(t *testing.T) (*Factory, *fakeGraphQL) {
	gh := newFakeGitHub(t, 0, nil)
	gql := &fakeGraphQL{t: t, pages: commentFixture()}
	gh.extra = gql
	f, _ := newTestFactory(t, Config{OAuthToken: Secret(gh.token), URL: gh.restURL()})
	return f, gql
}

func TestMinimizeOutdated(t *testing.T) {
	f, gql := minimizeSetup(t)
	ctx := context.Background()
	client, err := f.GraphQLForOwner(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	login, err := f.BotLogin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := MinimizeOutdated(ctx, client, "acme", "gitops", 33, MinimizeOptions{
		BotLogin: login,
		Exclude:  map[string]bool{"IC_this_run": true},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"IC_old_diff", "IC_old_drift", "IC_old_plan"}
	if n != len(want) || !slices.Equal(gql.minimized, want) {
		t.Errorf("minimised %d: %v, want %v", n, gql.minimized, want)
	}
	if gql.queries != 2 {
		t.Errorf("listing read %d pages, want 2", gql.queries)
	}
	// The bot login lookup (viewer), two list pages, three minimisations.
	if got := testutil.ToFloat64(f.Metrics().operations.WithLabelValues("graphql", "", "", "200", "POST")); got != 6 {
		t.Errorf("graphql operations = %v, want 6", got)
	}
}

func TestMinimizeOutdatedOfOneKind(t *testing.T) {
	f, gql := minimizeSetup(t)
	ctx := context.Background()
	client, _ := f.GraphQLForOwner(ctx, "acme")
	onlyDrift := func(body string) bool { return strings.Contains(body, "drift") }
	if _, err := MinimizeOutdated(ctx, client, "acme", "gitops", 33, MinimizeOptions{BotLogin: "octo-bot", Match: onlyDrift}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gql.minimized, []string{"IC_old_drift"}) {
		t.Errorf("minimised %v, want only the drift comment", gql.minimized)
	}
}

// The tracker's comment is edited in place for the whole journey: other
// services' minimising leaves it alone, the tracker's own touches only it.
func TestMinimizeOutdatedTrackerComments(t *testing.T) {
	f, gql := minimizeSetup(t)
	ctx := context.Background()
	client, _ := f.GraphQLForOwner(ctx, "acme")
	if _, err := MinimizeOutdated(ctx, client, "acme", "gitops", 33, MinimizeOptions{BotLogin: "octo-bot", Tracker: true}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gql.minimized, []string{"IC_tracker"}) {
		t.Errorf("minimised %v, want only the tracker comment", gql.minimized)
	}
	for body, want := range map[string]bool{
		Marker + "\n" + TrackerMarker + "\nx": true, "\n " + Marker + "\n" + TrackerMarker: true,
		Marker + "\nx " + TrackerMarker: false, TrackerMarker: false, Marker: false,
	} {
		if IsTrackerComment(body) != want {
			t.Errorf("IsTrackerComment(%q) = %v", body, !want)
		}
	}
}

func TestMinimizeOutdatedKeepsGoingAfterAFailure(t *testing.T) {
	f, gql := minimizeSetup(t)
	gql.failOn = "IC_old_diff"
	ctx := context.Background()
	client, _ := f.GraphQLForOwner(ctx, "acme")
	n, err := MinimizeOutdated(ctx, client, "acme", "gitops", 33, MinimizeOptions{BotLogin: "octo-bot"})
	if err == nil || !strings.Contains(err.Error(), "IC_old_diff") || !strings.Contains(err.Error(), "Could not resolve to a node") {
		t.Errorf("err = %v, want the failing comment and GitHub's message", err)
	}
	if n != 3 || len(gql.minimized) != 3 {
		t.Errorf("minimised %d (%v), want the other 3", n, gql.minimized)
	}
	if _, err := MinimizeOutdated(ctx, client, "acme", "gitops", 33, MinimizeOptions{}); err == nil {
		t.Error("an empty bot login was accepted")
	}
}

func TestWithMarker(t *testing.T) {
	cases := map[string]string{
		"hello":                   Marker + "\nhello",
		"":                        Marker + "\n",
		Marker + "\nhello":        Marker + "\nhello",
		Marker + "hello":          Marker + "\n" + Marker + "hello",
		"hello\n" + Marker + "\n": Marker + "\nhello\n" + Marker + "\n",
	}
	for in, want := range cases {
		if got := WithMarker(in); got != want {
			t.Errorf("WithMarker(%q) = %q, want %q", in, got, want)
		}
		if !HasMarker(WithMarker(in)) {
			t.Errorf("HasMarker(WithMarker(%q)) = false", in)
		}
	}
	if HasMarker("quoted " + Marker) {
		t.Error("a marker in the middle counts")
	}
}

func TestPostComment(t *testing.T) {
	gh := newFakeGitHub(t, 0, nil)
	var body string
	gh.extra = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v3/repos/acme/gitops/issues/33/comments" {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		var c struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&c)
		body = c.Body
		writeJSON(w, http.StatusCreated, map[string]any{"id": 5, "node_id": "IC_new", "body": c.Body})
	})
	f, _ := newTestFactory(t, Config{OAuthToken: Secret(gh.token), URL: gh.restURL()})
	client, _ := f.ForOwner(context.Background(), "acme")
	c, err := PostComment(context.Background(), client.Issues, "acme", "gitops", 33, "Failed to get configuration")
	if err != nil {
		t.Fatal(err)
	}
	if body != Marker+"\nFailed to get configuration" || c.GetNodeID() != "IC_new" {
		t.Errorf("posted %q, got node id %q", body, c.GetNodeID())
	}
	_, err = PostComment(context.Background(), client.Issues, "acme", "gitops", 404, "x")
	var resp *github.ErrorResponse
	if !isPermanent(err) || !errors.As(err, &resp) {
		t.Errorf("comment on a missing PR gives %v, want permanent *github.ErrorResponse", err)
	}
}
