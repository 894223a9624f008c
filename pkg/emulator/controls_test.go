package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v52/github"
	"github.com/telefonistka/telefonistka/pkg/emulator"
)

func newRepoEmulator(t *testing.T, opts emulator.Options) (*emulator.Emulator, *github.Client) {
	t.Helper()
	e := startEmulator(t, opts)
	if err := e.CreateRepo("acme", "gitops", seedFiles()); err != nil {
		t.Fatal(err)
	}
	return e, clientFor(t, e.URL(), botToken)
}

const treesRoute = "/repos/{owner}/{repo}/git/trees"

func createTree(c *github.Client) error {
	_, _, err := c.Git.CreateTree(context.Background(), "acme", "gitops", "", []*github.TreeEntry{
		{Path: str("a.txt"), Mode: str("100644"), Type: str("blob"), Content: str("a")}})
	return err
}

func TestInjectedFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault emulator.Fault
		check func(t *testing.T, err error)
	}{
		{"server error", emulator.Fault{Method: "POST", Route: treesRoute, Kind: emulator.FaultServerError, Status: 503}, func(t *testing.T, err error) {
			expectStatus(t, err, http.StatusServiceUnavailable, "")
		}},
		{"secondary rate limit", emulator.Fault{Route: treesRoute, Kind: emulator.FaultSecondaryRateLimit, RetryAfter: 7}, func(t *testing.T, err error) {
			var abuse *github.AbuseRateLimitError
			if !errors.As(err, &abuse) || abuse.GetRetryAfter() != 7*time.Second {
				t.Fatalf("error = %T %v, want a secondary rate limit with Retry-After 7s", err, err)
			}
		}},
		{"primary rate limit", emulator.Fault{Method: "*", Route: treesRoute, Kind: emulator.FaultPrimaryRateLimit, ResetIn: 30}, func(t *testing.T, err error) {
			var rl *github.RateLimitError
			if !errors.As(err, &rl) || rl.Rate.Remaining != 0 || time.Until(rl.Rate.Reset.Time) < 20*time.Second {
				t.Fatalf("error = %T %v, want an exhausted primary limit resetting in ~30s", err, err)
			}
		}},
		{"dropped connection", emulator.Fault{Method: "POST", Route: treesRoute, Kind: emulator.FaultDrop}, func(t *testing.T, err error) {
			var er *github.ErrorResponse
			if err == nil || errors.As(err, &er) {
				t.Fatalf("error = %v, want a transport error", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, client := newRepoEmulator(t, emulator.Options{})
			f := tt.fault
			f.Count = 2
			if err := e.InjectFault(f); err != nil {
				t.Fatal(err)
			}
			// Other routes and methods are unaffected.
			if _, _, err := client.Repositories.Get(context.Background(), "acme", "gitops"); err != nil {
				t.Fatalf("unrelated call failed: %v", err)
			}
			tt.check(t, createTree(client))
			fresh := clientFor(t, e.URL(), botToken) // go-github remembers rate limits per client
			tt.check(t, createTree(fresh))
			if err := createTree(clientFor(t, e.URL(), botToken)); err != nil {
				t.Fatalf("third call still fails: %v", err)
			}
			if n := e.Count("POST " + treesRoute); n != 3 {
				t.Errorf("counter = %d, want 3", n)
			}
			if len(e.Faults()) != 0 {
				t.Errorf("faults left: %v", e.Faults())
			}
		})
	}
	e := startEmulator(t, emulator.Options{})
	if err := e.InjectFault(emulator.Fault{Kind: "meteor"}); err == nil {
		t.Error("unknown fault kind accepted")
	}
}

func TestLatencyAndCounters(t *testing.T) {
	e, client := newRepoEmulator(t, emulator.Options{})
	ctx := context.Background()
	e.SetRouteLatency("GET /repos/{owner}/{repo}", 150*time.Millisecond)
	start := time.Now()
	if _, _, err := client.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("call took %v, want at least the injected 150ms", d)
	}
	e.ClearLatency()
	for i := 0; i < 3; i++ {
		if _, _, err := client.Git.GetRef(ctx, "acme", "gitops", "heads/main"); err != nil {
			t.Fatal(err)
		}
	}
	counters := e.Counters()
	if counters["GET /repos/{owner}/{repo}/git/ref/*"] != 3 || counters["GET /repos/{owner}/{repo}"] != 1 {
		t.Errorf("counters = %v", counters)
	}
	e.ResetCounters()
	if len(e.Counters()) != 0 {
		t.Errorf("counters after reset = %v", e.Counters())
	}
}

// emulatorWithPR returns an emulator with acme/gitops and an open PR from
// branch f, and its number.
func emulatorWithPR(t *testing.T) (*emulator.Emulator, *github.Client, int) {
	t.Helper()
	e, client := newRepoEmulator(t, emulator.Options{})
	if _, err := e.Push("acme/gitops", "f", "alice", "x", map[string]*string{"x": emulator.Content("x")}); err != nil {
		t.Fatal(err)
	}
	n, err := e.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: "x", Head: "f"})
	if err != nil {
		t.Fatal(err)
	}
	return e, client, n
}

func TestFailNextMerge(t *testing.T) {
	e, client, n := emulatorWithPR(t)
	e.FailNextMerge()
	_, _, err := client.PullRequests.Merge(context.Background(), "acme", "gitops", n, "", nil)
	expectStatus(t, err, http.StatusMethodNotAllowed, "Base branch was modified. Review and try the merge again.")
	if res, _, err := client.PullRequests.Merge(context.Background(), "acme", "gitops", n, "", nil); err != nil || !res.GetMerged() {
		t.Fatalf("retry after the injected failure: %v", err)
	}
}

func TestFaultOnOnePath(t *testing.T) {
	e, client := newRepoEmulator(t, emulator.Options{})
	ctx := context.Background()
	head, _, err := client.Git.GetRef(ctx, "acme", "gitops", "heads/main")
	if err != nil {
		t.Fatal(err)
	}
	sha := head.GetObject().GetSHA()
	if err := e.InjectFault(emulator.Fault{Method: "GET", Route: treesRoute + "/{sha}", Path: "/repos/acme/gitops/git/trees/" + sha,
		Kind: emulator.FaultServerError, Count: 5}); err != nil {
		t.Fatal(err)
	}
	// Another tree of the same route is served.
	commit, _, err := client.Git.GetCommit(ctx, "acme", "gitops", sha)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Git.GetTree(ctx, "acme", "gitops", commit.GetTree().GetSHA(), false); err != nil {
		t.Fatalf("a tree on another path failed: %v", err)
	}
	_, _, err = client.Git.GetTree(ctx, "acme", "gitops", sha, true)
	expectStatus(t, err, http.StatusBadGateway, "")
	if f := e.Faults(); len(f) != 1 || f[0].Count != 4 {
		t.Fatalf("faults left: %+v", f)
	}
}

func TestOnNextRunsBeforeTheCallIsHandled(t *testing.T) {
	e, client, n := emulatorWithPR(t)
	pr, err := e.GetPullRequest("acme/gitops", n)
	if err != nil {
		t.Fatal(err)
	}
	// Someone pushes to the branch between the client's read of the head
	// and its merge: the merge of the head it read is refused.
	pushed := false
	e.OnNext("PUT", "/repos/{owner}/{repo}/pulls/{number}/merge", func() {
		if _, err := e.Push("acme/gitops", "f", "mallory", "y", map[string]*string{"y": emulator.Content("y")}); err != nil {
			t.Error(err)
		}
		pushed = true
	})
	ctx := context.Background()
	_, _, err = client.PullRequests.Merge(ctx, "acme", "gitops", n, "", &github.PullRequestOptions{SHA: pr.HeadSHA})
	expectStatus(t, err, http.StatusConflict, "Head branch was modified. Review and try the merge again.")
	if !pushed {
		t.Fatal("the hook did not run")
	}
	// The hook ran once: the next merge of the new head goes through.
	pr, err = e.GetPullRequest("acme/gitops", n)
	if err != nil {
		t.Fatal(err)
	}
	if res, _, err := client.PullRequests.Merge(ctx, "acme", "gitops", n, "", &github.PullRequestOptions{SHA: pr.HeadSHA}); err != nil || !res.GetMerged() {
		t.Fatalf("merging the current head: %v", err)
	}
}

func TestEnforcedRateLimit(t *testing.T) {
	_, client := newRepoEmulator(t, emulator.Options{RateLimit: 3, EnforceRateLimit: true})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_, resp, err := client.Repositories.Get(ctx, "acme", "gitops")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Rate.Remaining != 2-i {
			t.Errorf("remaining after call %d = %d", i+1, resp.Rate.Remaining)
		}
	}
	_, _, err := client.Repositories.Get(ctx, "acme", "gitops")
	var rl *github.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("fourth call = %v, want a rate limit error", err)
	}
}

func TestUnenforcedRateLimitNeverReachesZero(t *testing.T) {
	_, client := newRepoEmulator(t, emulator.Options{RateLimit: 2})
	for i := 0; i < 5; i++ {
		_, resp, err := client.Repositories.Get(context.Background(), "acme", "gitops")
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if resp.Rate.Remaining <= 0 {
			t.Errorf("remaining = %d", resp.Rate.Remaining)
		}
	}
}

func controlCall(t *testing.T, e *emulator.Emulator, method, path string, body any) *http.Response {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	root := strings.TrimSuffix(e.URL(), "/api/v3/")
	req, _ := http.NewRequest(method, root+path, &buf)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestHTTPControls(t *testing.T) {
	e, client := newRepoEmulator(t, emulator.Options{})
	resp := controlCall(t, e, "POST", "/_emulator/faults", map[string]any{"method": "POST", "route": treesRoute, "kind": "5xx", "count": 1})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST faults = %d", resp.StatusCode)
	}
	expectStatus(t, createTree(client), http.StatusBadGateway, "")
	if resp := controlCall(t, e, "POST", "/_emulator/faults", map[string]any{"kind": "nope"}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad fault = %d", resp.StatusCode)
	}

	var counters map[string]int
	_ = json.NewDecoder(controlCall(t, e, "GET", "/_emulator/counters", nil).Body).Decode(&counters)
	if counters["POST "+treesRoute] != 1 {
		t.Errorf("counters = %v", counters)
	}
	controlCall(t, e, "DELETE", "/_emulator/counters", nil)
	if len(e.Counters()) != 0 {
		t.Error("DELETE /_emulator/counters did not reset")
	}

	controlCall(t, e, "PUT", "/_emulator/latency", map[string]any{"default_ms": 0, "routes": map[string]int{"GET /repos/{owner}/{repo}": 100}})
	start := time.Now()
	if _, _, err := client.Repositories.Get(context.Background(), "acme", "gitops"); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Error("route latency set over HTTP was not applied")
	}
	controlCall(t, e, "DELETE", "/_emulator/latency", nil)

	if _, err := e.Push("acme/gitops", "main", "alice", "x", map[string]*string{"x": emulator.Content("x")}); err != nil {
		t.Fatal(err)
	}
	waitHooks(t, e)
	var deliveries []emulator.Delivery
	_ = json.NewDecoder(controlCall(t, e, "GET", "/_emulator/deliveries?event=push", nil).Body).Decode(&deliveries)
	if len(deliveries) != 1 || deliveries[0].Event != "push" || len(deliveries[0].Payload) == 0 {
		t.Fatalf("deliveries = %+v", deliveries)
	}
	resp = controlCall(t, e, "POST", "/_emulator/deliveries/"+deliveries[0].GUID+"/redeliver", nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("redeliver = %d", resp.StatusCode)
	}
	waitHooks(t, e)
	if all := e.Deliveries(); len(all) != 2 || all[1].GUID != deliveries[0].GUID || !all[1].Redelivery {
		t.Errorf("after redelivery: %d deliveries", len(all))
	}
	if resp := controlCall(t, e, "POST", "/_emulator/deliveries/999/redeliver", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("redeliver unknown = %d", resp.StatusCode)
	}

	controlCall(t, e, "POST", "/_emulator/fail-next-merge", nil)
	if _, err := e.Push("acme/gitops", "f", "alice", "y", map[string]*string{"y": emulator.Content("y")}); err != nil {
		t.Fatal(err)
	}
	n, _ := e.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: "y", Head: "f"})
	if _, err := e.MergePullRequest("acme/gitops", n, "alice"); err == nil || !strings.Contains(err.Error(), "Base branch was modified") {
		t.Errorf("merge after fail-next-merge = %v", err)
	}

	controlCall(t, e, "POST", "/_emulator/tokens", map[string]string{"token": "late", "login": "latecomer"})
	if u, _, err := clientFor(t, e.URL(), "late").Users.Get(context.Background(), ""); err != nil || u.GetLogin() != "latecomer" {
		t.Errorf("token added over HTTP: %v %v", u.GetLogin(), err)
	}
	if resp := controlCall(t, e, "POST", "/_emulator/repos", map[string]any{"owner": "acme", "name": "second", "files": map[string]string{"a": "b"}}); resp.StatusCode != http.StatusCreated {
		t.Errorf("create repo = %d", resp.StatusCode)
	}
	if got, err := e.ReadFile("acme/second", "main", "a"); err != nil || got != "b" {
		t.Errorf("repo created over HTTP: %q %v", got, err)
	}
}

func TestUnknownRoutesLookLikeGitHub(t *testing.T) {
	e, _ := newRepoEmulator(t, emulator.Options{})
	req, _ := http.NewRequest("GET", e.URL()+"repos/acme/gitops/no/such/route", nil)
	req.Header.Set("Authorization", "token "+botToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusNotFound || body["message"] != "Not Found" || body["documentation_url"] == nil {
		t.Errorf("unknown route = %d %v", resp.StatusCode, body)
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "" || resp.Header.Get("X-GitHub-Request-Id") == "" {
		t.Errorf("404 lacks GitHub headers: %v", resp.Header)
	}
	if e.Count("GET <unmatched>") != 1 {
		t.Errorf("counters = %v", e.Counters())
	}
}
