package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/ingress"
)

// Hostile input through ingress and the services behind it: each test
// sends signed webhooks (the emulator's, or one it sent replayed with other
// headers or a re-signed payload) and checks that the input is refused and
// that nothing else breaks.

// postSigned sends body to ingress signed with the harness secret and
// returns the status code.
func (h *Harness) postSigned(event, delivery string, body []byte) int {
	h.T.Helper()
	req, err := http.NewRequest(http.MethodPost, h.WebhookURL(), bytes.NewReader(body))
	if err != nil {
		h.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", ingress.Sign([]byte(Secret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.T.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// ingressGet returns the status of GET path on ingress's listener.
func (h *Harness) ingressGet(path string) int {
	h.T.Helper()
	resp, err := http.Get(strings.TrimSuffix(h.WebhookURL(), "/webhook") + path)
	if err != nil {
		h.T.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// lastPayload returns the payload of the emulator's last delivery of event.
func (h *Harness) lastPayload(event string) map[string]any {
	h.T.Helper()
	ds := h.GitHub.Deliveries()
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Event != event {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(ds[i].Payload, &p); err != nil {
			h.T.Fatal(err)
		}
		return p
	}
	h.T.Fatalf("the emulator sent no %s webhook", event)
	return nil
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A captured delivery replayed with values GitHub never sends in the parts
// that become the NATS subject (the event header is not signed) is refused
// with 400, and the bus stays up: the emulator's next webhook is stored.
func TestHostileSubjectValuesAreRefusedAndTheBusStaysUp(t *testing.T) {
	h := Start(t, Options{Services: []string{"ingress"}})
	h.OpenChange("first", Change{"README.md": Set("one\n")})
	if err := h.GitHub.WaitWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	captured := h.lastPayload("pull_request")
	body := mustJSON(t, captured)

	withRepo := func(owner, name string) []byte {
		p := mustJSON(t, captured)
		var m map[string]any
		_ = json.Unmarshal(p, &m)
		repo := m["repository"].(map[string]any)
		repo["name"] = name
		repo["owner"].(map[string]any)["login"] = owner
		return mustJSON(t, m)
	}
	withAction := func(action string) []byte {
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		m["action"] = action
		return mustJSON(t, m)
	}
	hostile := []struct {
		name  string
		event string
		body  []byte
	}{
		{"5,000-byte event header", strings.Repeat("e", 5000), body},
		{"4,200-byte event header", strings.Repeat("pull_request", 350), body},
		{"event not GitHub's", "pull_request_x", body},
		{"event with a dot", "pull.request", body},
		{"event wildcard", "*", body},
		{"event with a space", "pull request", body},
		{"5,000-byte action", "pull_request", withAction(strings.Repeat("a", 5000))},
		{"action with a dot", "pull_request", withAction("closed.x")},
		{"action with upper case", "pull_request", withAction("Closed")},
		{"5,000-byte repository name", "pull_request", withRepo("acme", strings.Repeat("r", 5000))},
		{"repository name of 101 bytes", "pull_request", withRepo("acme", strings.Repeat("r", 101))},
		{"owner of 40 bytes", "pull_request", withRepo(strings.Repeat("o", 40), "gitops")},
		{"repository name with a slash", "pull_request", withRepo("acme", "git/ops")},
		{"owner with a dot", "pull_request", withRepo("ac.me", "gitops")},
		{"repository name with a newline", "pull_request", withRepo("acme", "git\nops")},
		{"repository name ..", "pull_request", withRepo("acme", "..")},
	}
	for i, c := range hostile {
		if got := h.postSigned(c.event, fmt.Sprintf("hostile-%d", i), c.body); got != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", c.name, got)
		}
	}
	// What GitHub does send still passes: the longest names it allows.
	if got := h.postSigned("pull_request", "longest-names", withRepo(strings.Repeat("o", 39), strings.Repeat("r.", 50))); got != http.StatusAccepted {
		t.Errorf("owner of 39 and repository of 100 bytes: status %d, want 202", got)
	}
	if got := h.postSigned("pull_request", "new-action", withAction("some_new_action")); got != http.StatusAccepted {
		t.Errorf("a well-formed action GitHub may add: status %d, want 202", got)
	}

	if got := h.ingressGet("/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz after the hostile deliveries: %d", got)
	}
	h.OpenChange("second", Change{"README.md": Set("two\n")})
	if err := h.GitHub.WaitWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	ds := h.GitHub.Deliveries()
	if last := ds[len(ds)-1]; last.StatusCode != http.StatusAccepted {
		t.Fatalf("the next webhook of the emulator got %d (%s), want 202", last.StatusCode, last.Error)
	}
}

// endpoint is a webhook receiver on loopback that records what it got.
type endpoint struct {
	mu    sync.Mutex
	calls []http.Header
	srv   *httptest.Server
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.calls = append(e.calls, r.Header.Clone())
		e.mu.Unlock()
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) received() []http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]http.Header(nil), e.calls...)
}

// hostPort is the endpoint's 127.0.0.1:port.
func (e *endpoint) hostPort() string { return strings.TrimPrefix(e.srv.URL, "http://") }

// fanoutOutcomes waits until the FANOUT stream holds n outcome events
// (delivered, failed or rejected) and returns them by type.
func (h *Harness) fanoutOutcomes(n int) map[string][]*events.Envelope {
	h.T.Helper()
	var out map[string][]*events.Envelope
	h.Eventually("fan-out outcomes", 30*time.Second, func() error {
		out = map[string][]*events.Envelope{}
		count := 0
		for _, env := range h.streamEvents(events.StreamFanout) {
			switch env.Type {
			case events.TypeFanoutDelivered, events.TypeFanoutFailed, events.TypeFanoutRejected:
				out[env.Type] = append(out[env.Type], env)
				count++
			}
		}
		if count < n {
			return fmt.Errorf("%d outcomes, want %d", count, n)
		}
		return nil
	})
	return out
}

// streamEvents reads every event stored on a stream.
func (h *Harness) streamEvents(stream string) []*events.Envelope {
	h.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := h.Conn.JS.Stream(ctx, stream)
	if err != nil {
		h.T.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		h.T.Fatal(err)
	}
	var out []*events.Envelope
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		if env, err := events.Decode(m.Data); err == nil {
			out = append(out, env)
		}
	}
	return out
}

const fanoutRule = "webhookEndpointRegexs:\n  - expression: '^clusters/([^/]+)/'\n    replacements: ['%s']\n"

// Changed file names that turn an allowed-looking URL into one for another
// host (user info and "#", or "?", before the allowed name) are refused:
// the allowlist is matched against the parsed host, so the endpoint on
// 127.0.0.1 is never called.
func TestFanoutAllowlistIsMatchedAgainstTheParsedHost(t *testing.T) {
	target := newEndpoint(t)
	h := Start(t, Options{Services: []string{"fanout", "ingress"}, RepoFiles: map[string]string{
		"telefonistka.yaml": fmt.Sprintf(fanoutRule, "http://${1}.argocd.example.com/api/webhook"),
	}, Env: map[string]string{"FANOUT_ALLOWED_URL_REGEX": `http://[^/]+\.argocd\.example\.com/api/webhook`}})
	hp := target.hostPort()
	if _, err := h.GitHub.Push(h.Repo, "main", Human, "hostile file names", Change{
		"clusters/x@" + hp + "#/a.yaml": Set("a\n"),
		"clusters/" + hp + "?/b.yaml":   Set("b\n"),
	}); err != nil {
		t.Fatal(err)
	}
	out := h.fanoutOutcomes(2)
	if n := len(target.received()); n != 0 {
		t.Fatalf("the endpoint on %s was called %d times through URLs that only looked allowed", hp, n)
	}
	if len(out[events.TypeFanoutRejected]) != 2 {
		t.Fatalf("outcomes %v, want 2 rejections", out)
	}
}

// With no allowlist, loopback (and link-local, metadata) addresses are
// refused unless FANOUT_ALLOW_LOCAL_ADDRESSES opts in.
func TestFanoutRefusesLocalAddressesByDefault(t *testing.T) {
	target := newEndpoint(t)
	h := Start(t, Options{Services: []string{"fanout", "ingress"}, RepoFiles: map[string]string{
		"telefonistka.yaml": fmt.Sprintf(fanoutRule, target.srv.URL+"/hook/${1}"),
	}})
	if _, err := h.GitHub.Push(h.Repo, "main", Human, "change", Change{"clusters/eu/a.yaml": Set("a\n")}); err != nil {
		t.Fatal(err)
	}
	out := h.fanoutOutcomes(1)
	if len(target.received()) != 0 || len(out[events.TypeFanoutRejected]) != 1 {
		t.Fatalf("endpoint called %d times, outcomes %v; want one rejection", len(target.received()), out)
	}
	var r events.FanoutRejected
	if err := out[events.TypeFanoutRejected][0].DecodeData(&r); err != nil || !strings.Contains(r.Reason, "FANOUT_ALLOW_LOCAL_ADDRESSES") {
		t.Fatalf("rejection %+v (%v) does not name the opt-in", r, err)
	}
}

// Credentials that reached ingress with a signed delivery (Authorization,
// Cookie, X-Api-Key) are not passed on to the endpoints, and the outcome
// events do not show the endpoint URL's user info or query values.
func TestFanoutForwardsNoCredentials(t *testing.T) {
	target := newEndpoint(t)
	withSecrets := strings.Replace(target.srv.URL, "http://", "http://hook-user:pa55word@", 1) + "/hook?token=t0ken"
	h := Start(t, Options{Services: []string{"fanout", "ingress"}, RepoFiles: map[string]string{
		"telefonistka.yaml": fmt.Sprintf(fanoutRule, withSecrets),
	}, Env: map[string]string{"FANOUT_ALLOW_LOCAL_ADDRESSES": "true"}})
	if _, err := h.GitHub.Push(h.Repo, "main", Human, "change", Change{"clusters/eu/a.yaml": Set("a\n")}); err != nil {
		t.Fatal(err)
	}
	if err := h.GitHub.WaitWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.fanoutOutcomes(1)
	// The same push again, signed, through a proxy that added credentials.
	body := mustJSON(t, h.lastPayload("push"))
	req, _ := http.NewRequest(http.MethodPost, h.WebhookURL(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "with-credentials")
	req.Header.Set("X-Hub-Signature-256", ingress.Sign([]byte(Secret), body))
	req.Header.Set("Authorization", "Bearer for-telefonistka-only")
	req.Header.Set("Cookie", "session=for-telefonistka-only")
	req.Header.Set("X-Api-Key", "for-telefonistka-only")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("signed push: %d", resp.StatusCode)
	}
	out := h.fanoutOutcomes(2)
	calls := target.received()
	if len(calls) != 2 || len(out[events.TypeFanoutDelivered]) != 2 {
		t.Fatalf("%d calls, outcomes %v; want both pushes delivered", len(calls), out)
	}
	for _, c := range calls {
		if c.Get("X-GitHub-Delivery") != "with-credentials" {
			continue
		}
		if strings.Contains(fmt.Sprint(c), "for-telefonistka-only") || c.Get("Authorization") != "Basic aG9vay11c2VyOnBhNTV3b3Jk" {
			t.Fatalf("the endpoint got Telefonistka's credentials: %v", c)
		}
	}
	for _, env := range out[events.TypeFanoutDelivered] {
		if s := string(env.Data); strings.Contains(s, "pa55word") || strings.Contains(s, "t0ken") {
			t.Fatalf("fanout.delivered shows a URL secret: %s", s)
		}
	}
}

// Comment commands obey repository rights: someone without write access
// (author_association NONE) can neither flip a commit status nor re-run
// the checks, and is told so once; a collaborator with write access still
// can.
func TestCommentCommandsNeedWriteAccess(t *testing.T) {
	h := startDrift(t)
	for login, role := range map[string]string{"mallory": "none", "reader": "read"} {
		if err := h.GitHub.SetPermission(h.Repo, login, role); err != nil {
			t.Fatal(err)
		}
	}
	pr, head := driftOpen(h, "bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": Set("replicas: 1\nimage: nginx:1.26\n")})
	driftFinal(h, head, 1)
	h.WaitSettled(30 * time.Second)
	if err := h.GitHub.SetStatus(h.Repo, head, Human, "failure", "manual/approved", "CI says no"); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ login, body string }{
		{"mallory", "/retrigger"}, {"mallory", "ready: /approve"}, {"reader", "/retrigger"},
	} {
		if _, err := h.GitHub.Comment(h.Repo, pr, c.login, c.body); err != nil {
			t.Fatal(err)
		}
	}
	h.Eventually("three refusals", 30*time.Second, func() error {
		if _, replies := driftComments(h, pr, "needs write access to "+h.Repo); len(replies) != 3 {
			return fmt.Errorf("%d refusals", len(replies))
		}
		return nil
	})
	h.WaitSettled(30 * time.Second)
	if got := driftStates(h, head, "manual/approved"); strings.Join(got, ",") != "failure" {
		t.Fatalf("manual/approved states after comments without rights = %v, want failure only", got)
	}
	if got := driftStates(h, head, "telefonistka"); strings.Join(got, ",") != "pending,success" {
		t.Fatalf("telefonistka states after /retrigger without rights = %v: the checks ran again", got)
	}
	_, replies := driftComments(h, pr, "needs write access")
	if !strings.Contains(replies[0].Body, "@mallory, `/retrigger` needs write access to acme/gitops and you have `none`") {
		t.Fatalf("refusal reads:\n%s", replies[0].Body)
	}
	// A redelivered comment is not answered twice.
	h.RedeliverAll(1)
	h.WaitSettled(30 * time.Second)
	if _, replies := driftComments(h, pr, "needs write access"); len(replies) != 3 {
		t.Fatalf("%d refusals after redelivery, want 3", len(replies))
	}

	// Alice (write access) may.
	if _, err := h.GitHub.Comment(h.Repo, pr, Human, "ready: /approve"); err != nil {
		t.Fatal(err)
	}
	h.Eventually("the toggle", 30*time.Second, func() error {
		if got := driftStates(h, head, "manual/approved"); strings.Join(got, ",") != "failure,success" {
			return fmt.Errorf("states %v", got)
		}
		return nil
	})
}

// botComments returns the bodies of the bot's comments on PR n.
func (h *Harness) botComments(n int) []string {
	h.T.Helper()
	cs, err := h.GitHub.Comments(h.Repo, n)
	if err != nil {
		h.T.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		if c.Author == BotLogin {
			out = append(out, c.Body)
		}
	}
	return out
}

// waitConfigError waits (briefly: a configuration error is permanent and
// reported at once) for the bot's comment on PR n that contains want, and
// for the error status of head.
func (h *Harness) waitConfigError(n int, head string, want ...string) string {
	h.T.Helper()
	var body string
	h.Eventually("the configuration error on the PR", 20*time.Second, func() error {
		for _, c := range h.botComments(n) {
			if strings.Contains(c, want[0]) {
				body = c
				return nil
			}
		}
		return fmt.Errorf("comments %q", h.botComments(n))
	})
	for _, w := range want[1:] {
		if !strings.Contains(body, w) {
			h.T.Errorf("the comment does not say %q:\n%s", w, body)
		}
	}
	h.Eventually("the error status", 20*time.Second, func() error {
		if st := h.Status(head); st != "error" {
			return fmt.Errorf("status %q", st)
		}
		return nil
	})
	return body
}

// Targets in git's own directory (any case), with a newline, or inside a
// component of their own source are refused: the merge gets one
// configuration-error comment naming each, and nothing is promoted.
func TestHostileTargetsAreRefusedOnThePR(t *testing.T) {
	h := Start(t, Options{RepoFiles: map[string]string{
		"telefonistka.yaml": `promotionPaths:
  - sourcePath: "workspace/"
    conditions:
      autoMerge: true
    promotionPrs:
      - targetPaths: [".git/", ".GIT/", "clusters/.git/hooks/", "clusters/prod\nx/"]
  - sourcePath: "a/"
    conditions:
      autoMerge: true
    promotionPrs:
      - targetPaths: ["a/b/"]
`,
		"workspace/app/values.yaml": "replicas: 1\n",
		"a/app/values.yaml":         "replicas: 1\n",
	}})
	n, merge := h.MergeChange("hostile", Change{"workspace/app/values.yaml": Set("replicas: 2\n"), "a/app/values.yaml": Set("replicas: 2\n")})
	h.waitConfigError(n, h.PR(n).HeadSHA, `target path ".git/" must not contain a ".git" segment`,
		`".GIT/" must not contain a ".GIT" segment`, `"clusters/.git/hooks/" must not contain a ".git" segment`,
		`must not contain control characters`, `target "a/b/" lies inside component "a/b"`)
	h.WaitSettled(30 * time.Second)
	if prs := h.PromotionPRs(); len(prs) != 0 {
		t.Fatalf("%d promotion PRs opened from an invalid configuration (merge %s)", len(prs), merge)
	}
}

// A telefonistka.yaml over 1 MB is a configuration error reported on the PR
// at once, not a transient failure retried for minutes.
func TestOversizedConfigurationIsReportedAtOnce(t *testing.T) {
	big := "promotionPaths:\n  - sourcePath: \"workspace/\"\n    promotionPrs:\n      - targetPaths: [\"clusters/prod/\"]\n# " +
		strings.Repeat("x", 1<<20) + "\n"
	h := Start(t, Options{RepoFiles: map[string]string{"telefonistka.yaml": big, "workspace/app/values.yaml": "replicas: 1\n"}})
	n, _ := h.MergeChange("change", Change{"workspace/app/values.yaml": Set("replicas: 2\n")})
	h.waitConfigError(n, h.PR(n).HeadSHA, "over the limit of 1048576 bytes")
	h.WaitSettled(30 * time.Second)
}

// A flow with 500 targets that all drifted makes a few drift comments,
// each filled up to GitHub's size limit, not one per target.
func TestDriftOfManyTargetsIsOneCommentSplitBySize(t *testing.T) {
	files := map[string]string{"env/staging/nginx/values.yaml": "replicas: 1\n"}
	var targets []string
	for i := 0; i < 500; i++ {
		dir := fmt.Sprintf("env/prod-%03d/", i)
		targets = append(targets, `"`+dir+`"`)
		files[dir+"nginx/values.yaml"] = "replicas: 3\n"
	}
	files["telefonistka.yaml"] = "promotionPaths:\n  - sourcePath: \"env/staging/\"\n    promotionPrs:\n      - targetPaths: [" +
		strings.Join(targets, ", ") + "]\n"
	h := Start(t, Options{RepoFiles: files, Services: []string{"drift", "ingress"}, EventTimeout: 60 * time.Second})
	pr, head := driftOpen(h, "bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": Set("replicas: 1\nimage: x\n")})
	driftFinal(h, head, 1)
	h.WaitSettled(60 * time.Second)
	all, _ := driftComments(h, pr, driftWarning)
	if len(all) == 0 || len(all) > 5 {
		t.Fatalf("%d drift comments for 500 drifted targets, want a few", len(all))
	}
	joined := ""
	for _, c := range all {
		joined += c.Body
	}
	for i := 0; i < 500; i++ {
		if n := strings.Count(joined, fmt.Sprintf("`env/prod-%03d/nginx`", i)); n != 1 {
			t.Fatalf("target %d appears %d times in the drift comments", i, n)
		}
	}
	t.Logf("500 drifted targets: %d comments", len(all))
}

// pullPayload returns the emulator's last pull_request delivery of PR n.
func (h *Harness) pullPayload(n int) map[string]any {
	h.T.Helper()
	ds := h.GitHub.Deliveries()
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Event != "pull_request" {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(ds[i].Payload, &p); err != nil {
			h.T.Fatal(err)
		}
		if num, _ := p["number"].(float64); int(num) == n {
			return p
		}
	}
	h.T.Fatalf("no pull_request delivery of #%d", n)
	return nil
}

// postMerged posts, signed, PR n's last pull_request payload turned into
// a "closed, merged" event with the given merge commit.
func (h *Harness) postMerged(n int, delivery, mergeCommit string) int {
	h.T.Helper()
	p := h.pullPayload(n)
	p["action"] = "closed"
	pr := p["pull_request"].(map[string]any)
	pr["merged"], pr["state"], pr["merge_commit_sha"] = true, "closed", mergeCommit
	return h.postSigned("pull_request", delivery, mustJSON(h.T.(*testing.T), p))
}

// The planner asks GitHub whether a PR is merged into the default branch
// and promotes GitHub's merge commit: a signed "merged" event for a PR that
// is still open promotes nothing, and one naming another merge commit
// promotes the real one.
func TestPlannerTrustsGitHubNotThePayload(t *testing.T) {
	h := Start(t, Options{})
	open := h.OpenChange("from-a-fork", Change{workspaceNginx + "/deployment.yaml": Set("fork: contents\n")})
	if err := h.GitHub.WaitWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	forkHead := h.PR(open).HeadSHA
	if got := h.postMerged(open, "forged-merge", forkHead); got != http.StatusAccepted {
		t.Fatalf("forged merge: %d", got)
	}
	h.WaitSettled(30 * time.Second)
	if prs := h.PromotionPRs(); len(prs) != 0 {
		t.Fatalf("%d promotion PRs from a PR that is not merged", len(prs))
	}
	if st := h.Status(forkHead); st != "" {
		t.Fatalf("the open PR got status %q", st)
	}

	// A real merge, then its event again naming the open PR's commit.
	merged, merge := h.MergeChange("real", Change{workspaceNginx + "/deployment.yaml": Set("real: contents\n")})
	h.WaitRun(merge, runTimeout)
	h.WaitSettled(30 * time.Second) // the whole chain
	before := len(h.PromotionPRs())
	if got := h.postMerged(merged, "merged-with-another-commit", forkHead); got != http.StatusAccepted {
		t.Fatalf("merge event with another commit: %d", got)
	}
	h.WaitSettled(30 * time.Second)
	if after := len(h.PromotionPRs()); after != before {
		t.Fatalf("%d promotion PRs after the event named another commit, %d before", after, before)
	}
	for _, pr := range h.PromotionPRs() {
		if strings.Contains(fmt.Sprint(h.Files(pr.HeadSHA, "")), "fork: contents") {
			t.Fatalf("promotion PR #%d carries the unmerged commit's contents", pr.Number)
		}
	}
}

// A default branch deleted (or renamed) between the merge and the
// promotion is a permanent failure, reported at once, not retried for
// minutes.
func TestDeletedDefaultBranchFailsAtOnce(t *testing.T) {
	h := Start(t, Options{Services: []string{"planner", "ingress"}})
	_, merge := h.MergeChange("change", Change{workspaceNginx + "/deployment.yaml": Set("replicas: 5\n")})
	h.Eventually("the promotion planned", 30*time.Second, func() error {
		if len(h.Recorder.Envelopes(events.TypePromotionPlanned)) == 0 {
			return errNotYet
		}
		return nil
	})
	if err := h.GitHub.DeleteBranch(h.Repo, "main", Human); err != nil {
		t.Fatal(err)
	}
	h.StartService("promoter")
	h.Eventually("the promotion failure", 20*time.Second, func() error {
		for _, f := range Payloads[*events.PromotionFailed](h.Recorder, events.TypePromotionFailed) {
			if f.MergeCommit == merge && strings.Contains(f.Error, "default branch main") {
				return nil
			}
		}
		return errNotYet
	})
	// The promise cannot hold without the default branch; it was kept in
	// the only way left: the failure was reported.
	h.mu.Lock()
	h.promiseChecked = true
	h.mu.Unlock()
}
