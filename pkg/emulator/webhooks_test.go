package emulator_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v52/github"
	"github.com/telefonistka/telefonistka/pkg/emulator"
)

type received struct {
	guid, kind, action, userAgent string
	event                         any
}

// hookReceiver verifies signatures with go-github's ValidatePayload and parses events with
// ParseWebHook, as a production receiver does.
type hookReceiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []received
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	payload, err := github.ValidatePayload(r, []byte(h.secret))
	if err != nil {
		h.mu.Lock()
		h.bad++
		h.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	ev, err := github.ParseWebHook(github.WebHookType(r), payload)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := ""
	if a, ok := ev.(interface{ GetAction() string }); ok {
		action = a.GetAction()
	}
	h.mu.Lock()
	h.got = append(h.got, received{github.DeliveryID(r), github.WebHookType(r), action, r.UserAgent(), ev})
	h.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (h *hookReceiver) events() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

func kinds(rs []received) []string {
	var out []string
	for _, r := range rs {
		k := r.kind
		if r.action != "" {
			k += "." + r.action
		}
		out = append(out, k)
	}
	return out
}

func waitHooks(t *testing.T, e *emulator.Emulator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWebhooksEndToEnd(t *testing.T) {
	recv := &hookReceiver{t: t, secret: "hook-secret"}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	e := startEmulator(t, emulator.Options{WebhookURL: srv.URL, WebhookSecret: "hook-secret"})
	if err := e.CreateRepo("acme", "gitops", seedFiles()); err != nil {
		t.Fatal(err)
	}
	bot := clientFor(t, e.URL(), botToken)
	ctx := context.Background()
	const repo = "acme/gitops"

	// A person pushes a branch and opens a labelled PR.
	first, err := e.Push(repo, "feature", "alice", "change dev", map[string]*string{
		"env/dev/app/deployment.yaml": emulator.Content("replicas: 5\n"), "env/dev/app/new.yaml": emulator.Content("n\n"),
		"env/dev/app/service.yaml": nil})
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.OpenPullRequest(repo, emulator.PullRequestSpec{Author: "alice", Title: "Change dev", Head: "feature", Labels: []string{"promotion"}})
	if err != nil {
		t.Fatal(err)
	}
	// The bot comments, edits the comment, and alice pushes again.
	c, _, err := bot.Issues.CreateComment(ctx, "acme", "gitops", n, &github.IssueComment{Body: str("- [ ] tick me")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bot.Issues.EditComment(ctx, "acme", "gitops", c.GetID(), &github.IssueComment{Body: str("- [x] tick me")}); err != nil {
		t.Fatal(err)
	}
	second, err := e.Push(repo, "feature", "alice", "more", map[string]*string{"env/dev/app/new.yaml": emulator.Content("n2\n")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bot.PullRequests.Edit(ctx, "acme", "gitops", n, &github.PullRequest{Title: str("Change dev (v2)")}); err != nil {
		t.Fatal(err)
	}
	merge, _, err := bot.PullRequests.Merge(ctx, "acme", "gitops", n, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitHooks(t, e)

	got := recv.events()
	want := []string{"push", "push", "pull_request.opened", "pull_request.labeled", "issue_comment.created", "issue_comment.edited",
		"push", "pull_request.synchronize", "pull_request.edited", "push", "pull_request.closed"}
	if !slices.Equal(kinds(got), want) {
		t.Fatalf("events = %v\nwant     %v", kinds(got), want)
	}
	if recv.bad != 0 {
		t.Errorf("%d deliveries failed signature checks", recv.bad)
	}
	guids := map[string]bool{}
	for _, r := range got {
		if guids[r.guid] || r.guid == "" || !strings.HasPrefix(r.userAgent, "GitHub-Hookshot/") {
			t.Errorf("delivery id %q (duplicate or empty) user agent %q", r.guid, r.userAgent)
		}
		guids[r.guid] = true
	}

	created := got[0].event.(*github.PushEvent)
	if !created.GetCreated() || created.GetRef() != "refs/heads/feature" || len(created.Commits) != 0 || created.GetHeadCommit().GetID() == "" {
		t.Errorf("branch creation push = created %v ref %s commits %d", created.GetCreated(), created.GetRef(), len(created.Commits))
	}
	push := got[1].event.(*github.PushEvent)
	if push.GetAfter() != first || push.GetCreated() || push.GetForced() || len(push.Commits) != 1 {
		t.Fatalf("push = after %s created %v commits %d", push.GetAfter(), push.GetCreated(), len(push.Commits))
	}
	pc := push.Commits[0]
	if !slices.Equal(pc.Added, []string{"env/dev/app/new.yaml"}) || !slices.Equal(pc.Removed, []string{"env/dev/app/service.yaml"}) ||
		!slices.Equal(pc.Modified, []string{"env/dev/app/deployment.yaml"}) || pc.GetAuthor().GetLogin() != "alice" {
		t.Errorf("push commit added %v removed %v modified %v author %v", pc.Added, pc.Removed, pc.Modified, pc.GetAuthor())
	}
	if r := push.GetRepo(); r.GetFullName() != repo || r.GetDefaultBranch() != "main" || r.GetOwner().GetLogin() != "acme" ||
		r.GetOwner().GetName() != "acme" || r.GetHTMLURL() != "https://github.com/acme/gitops" {
		t.Errorf("push repository = %+v", r)
	}
	if push.GetSender().GetLogin() != "alice" || push.GetPusher().GetName() != "alice" || push.GetInstallation().GetID() == 0 {
		t.Errorf("push sender %s pusher %s installation %d", push.GetSender().GetLogin(), push.GetPusher().GetName(), push.GetInstallation().GetID())
	}

	opened := got[2].event.(*github.PullRequestEvent)
	if opened.GetNumber() != n || opened.GetPullRequest().GetUser().GetLogin() != "alice" || opened.GetRepo().GetFullName() != repo {
		t.Errorf("opened = %+v", opened)
	}
	if l := got[3].event.(*github.PullRequestEvent); l.GetLabel().GetName() != "promotion" || l.GetSender().GetLogin() != "alice" {
		t.Errorf("labeled with %q by %s", l.GetLabel().GetName(), l.GetSender().GetLogin())
	}
	ic := got[4].event.(*github.IssueCommentEvent)
	if ic.GetComment().GetID() != c.GetID() || !ic.GetIssue().IsPullRequest() || ic.GetSender().GetLogin() != "telefonistka-bot" {
		t.Errorf("issue_comment = %+v", ic)
	}
	edited := got[5].event.(*github.IssueCommentEvent)
	if edited.GetChanges().GetBody().GetFrom() != "- [ ] tick me" || edited.GetComment().GetBody() != "- [x] tick me" {
		t.Errorf("comment edit from %q to %q", edited.GetChanges().GetBody().GetFrom(), edited.GetComment().GetBody())
	}
	sync := got[7].event.(*github.PullRequestEvent)
	if sync.GetBefore() != first || sync.GetAfter() != second || sync.GetPullRequest().GetHead().GetSHA() != second {
		t.Errorf("synchronize before %s after %s", sync.GetBefore(), sync.GetAfter())
	}
	if ed := got[8].event.(*github.PullRequestEvent); ed.GetChanges().GetTitle().GetFrom() != "Change dev" {
		t.Errorf("edited changes = %+v", ed.GetChanges())
	}
	mainPush := got[9].event.(*github.PushEvent)
	if mainPush.GetRef() != "refs/heads/main" || mainPush.GetAfter() != merge.GetSHA() || len(mainPush.Commits) != 3 {
		t.Errorf("merge push ref %s after %s commits %d", mainPush.GetRef(), mainPush.GetAfter(), len(mainPush.Commits))
	}
	closed := got[10].event.(*github.PullRequestEvent)
	if !closed.GetPullRequest().GetMerged() || closed.GetPullRequest().GetMergeCommitSHA() != merge.GetSHA() ||
		closed.GetPullRequest().GetBase().GetRef() != "main" || closed.GetPullRequest().GetMergedBy().GetLogin() != "telefonistka-bot" {
		t.Errorf("closed = merged %v sha %s", closed.GetPullRequest().GetMerged(), closed.GetPullRequest().GetMergeCommitSHA())
	}

	t.Run("redelivery keeps the GUID", func(t *testing.T) {
		log := e.Deliveries()
		if len(log) != len(want) {
			t.Fatalf("log has %d deliveries", len(log))
		}
		for _, d := range log {
			if d.State != "delivered" || d.StatusCode != http.StatusAccepted || d.DeliveredAt == nil {
				t.Errorf("delivery %d: state %s status %d delivered at %v", d.ID, d.State, d.StatusCode, d.DeliveredAt)
			}
		}
		if _, err := e.Redeliver(fmt.Sprint(log[10].ID)); err != nil {
			t.Fatal(err)
		}
		waitHooks(t, e)
		all := recv.events()
		last := all[len(all)-1]
		if last.guid != got[10].guid || last.kind != "pull_request" || last.action != "closed" {
			t.Errorf("redelivered %s %s.%s, want GUID %s", last.guid, last.kind, last.action, got[10].guid)
		}
	})

	t.Run("closing without merge and reopening", func(t *testing.T) {
		if _, err := e.Push(repo, "other", "alice", "x", map[string]*string{"x.txt": emulator.Content("x\n")}); err != nil {
			t.Fatal(err)
		}
		n2, err := e.OpenPullRequest(repo, emulator.PullRequestSpec{Author: "alice", Title: "Other", Head: "other"})
		if err != nil {
			t.Fatal(err)
		}
		waitHooks(t, e)
		before := len(recv.events())
		if _, _, err := bot.PullRequests.Edit(ctx, "acme", "gitops", n2, &github.PullRequest{State: str("closed")}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := bot.PullRequests.Edit(ctx, "acme", "gitops", n2, &github.PullRequest{State: str("open")}); err != nil {
			t.Fatal(err)
		}
		if _, err := bot.Git.DeleteRef(ctx, "acme", "gitops", "heads/other"); err != nil {
			t.Fatal(err)
		}
		waitHooks(t, e)
		tail := recv.events()[before:]
		if !slices.Equal(kinds(tail), []string{"pull_request.closed", "pull_request.reopened", "push", "pull_request.closed"}) {
			t.Fatalf("events = %v", kinds(tail))
		}
		if tail[0].event.(*github.PullRequestEvent).GetPullRequest().GetMerged() {
			t.Error("closed without merge reports merged")
		}
		if del := tail[2].event.(*github.PushEvent); !del.GetDeleted() || del.HeadCommit != nil {
			t.Errorf("branch deletion push deleted=%v", del.GetDeleted())
		}
	})
}

func TestWebhookSetAtRunTime(t *testing.T) {
	e := startEmulator(t, emulator.Options{})
	if err := e.CreateRepo("acme", "gitops", seedFiles()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Push("acme/gitops", "main", "alice", "before hook", map[string]*string{"a": emulator.Content("a")}); err != nil {
		t.Fatal(err)
	}
	waitHooks(t, e)
	if d := e.Deliveries(); len(d) != 1 || d[0].State != "skipped" {
		t.Fatalf("deliveries without a URL = %d (first %s)", len(d), d[0].State)
	}
	recv := &hookReceiver{t: t, secret: "later"}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	e.SetWebhook(srv.URL, "later")
	if _, err := e.Redeliver(e.Deliveries()[0].GUID); err != nil {
		t.Fatal(err)
	}
	waitHooks(t, e)
	if got := recv.events(); len(got) != 1 || got[0].guid != e.Deliveries()[0].GUID {
		t.Fatalf("after setting the hook, received %v", kinds(got))
	}
}
