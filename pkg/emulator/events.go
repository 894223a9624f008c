package emulator

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

// maxPushCommits is how many commits GitHub lists in a push payload.
const maxPushCommits = 20

// emit queues one webhook event for r with the repository, sender and installation fields
// GitHub adds to every payload. The caller holds r.mu so events keep the order of changes.
func (e *Emulator) emit(r *repo, event, action string, sender *user, payload map[string]any) {
	if action != "" {
		payload["action"] = action
	}
	if _, ok := payload["repository"]; !ok {
		payload["repository"] = e.repoJSON(r, false)
	}
	payload["sender"] = e.userJSON(sender)
	if len(e.auth.appOrder) > 0 {
		in := e.auth.installationFor(e.auth.appOrder[0], r.owner)
		payload["installation"] = map[string]any{"id": in.ID, "node_id": nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", in.ID)}
	}
	data, err := json.Marshal(payload)
	if err != nil {
		e.log.Error("encoding webhook payload", "event", event, "error", err)
		return
	}
	e.hooks.Enqueue(event, action, r.fullName(), data)
}

func (e *Emulator) emitPull(r *repo, is *issue, action string, sender *user, extra map[string]any) {
	payload := map[string]any{"number": is.number, "pull_request": e.pullJSON(r, is, true)}
	for k, v := range extra {
		payload[k] = v
	}
	e.emit(r, "pull_request", action, sender, payload)
}

func (e *Emulator) emitIssueComment(r *repo, is *issue, c *comment, action string, sender *user, extra map[string]any) {
	payload := map[string]any{"issue": e.issueJSON(r, is), "comment": e.commentJSON(r, c)}
	for k, v := range extra {
		payload[k] = v
	}
	e.emit(r, "issue_comment", action, sender, payload)
}

type pushCommit struct {
	ID        string         `json:"id"`
	TreeID    string         `json:"tree_id"`
	Distinct  bool           `json:"distinct"`
	Message   string         `json:"message"`
	Timestamp string         `json:"timestamp"`
	URL       string         `json:"url"`
	Author    map[string]any `json:"author"`
	Committer map[string]any `json:"committer"`
	Added     []string       `json:"added"`
	Removed   []string       `json:"removed"`
	Modified  []string       `json:"modified"`
}

func (e *Emulator) pushCommitJSON(r *repo, c *gitstore.Commit, distinct bool) (*pushCommit, error) {
	var parentTree hash
	if len(c.Parents) > 0 {
		p, err := r.git.Commit(c.Parents[0])
		if err != nil {
			return nil, err
		}
		parentTree = p.Tree
	}
	changes, err := r.git.DiffTrees(parentTree, c.Tree)
	if err != nil {
		return nil, err
	}
	pc := &pushCommit{
		ID: c.Hash.String(), TreeID: c.Tree.String(), Distinct: distinct, Message: c.Message,
		Timestamp: c.Committer.When.Format("2006-01-02T15:04:05Z07:00"),
		URL:       fmt.Sprintf("%s/%s/commit/%s", e.opts.HTMLURL, r.fullName(), c.Hash),
		Author:    sigJSON(c.Author), Committer: sigJSON(c.Committer),
		Added: []string{}, Removed: []string{}, Modified: []string{},
	}
	for _, ch := range changes {
		switch {
		case ch.Added():
			pc.Added = append(pc.Added, ch.Path)
		case ch.Removed():
			pc.Removed = append(pc.Removed, ch.Path)
		default:
			pc.Modified = append(pc.Modified, ch.Path)
		}
	}
	return pc, nil
}

func sigJSON(s gitstore.Signature) map[string]any {
	m := map[string]any{"name": s.Name, "email": s.Email}
	if login, ok := strings.CutSuffix(s.Email, "@users.noreply.github.com"); ok {
		if _, l, found := strings.Cut(login, "+"); found {
			login = l
		}
		m["username"] = login
	}
	return m
}

// emitPush sends the push event for one ref update; the caller holds r.mu.
func (e *Emulator) emitPush(r *repo, pusher *user, ref string, before, after hash) {
	created, deleted := before.IsZero(), after.IsZero()
	forced := false
	var listed []hash
	if !deleted {
		// A new branch lists the commits that are not on the default branch.
		exclude := []hash{before}
		if created {
			exclude = nil
			if head, ok := r.git.Ref("refs/heads/" + r.defaultBranch); ok {
				exclude = []hash{head}
			}
		} else if ok, err := r.git.IsAncestor(before, after); err == nil && !ok {
			forced = true
		}
		var err error
		if len(exclude) == 0 || exclude[0] != after {
			listed, err = r.git.Exclusive(after, exclude, 2048)
		}
		if err != nil {
			e.log.Error("listing pushed commits", "repo", r.fullName(), "ref", ref, "error", err)
		}
	}
	commits := []*pushCommit{}
	var head *pushCommit
	for i := len(listed) - 1; i >= 0; i-- { // oldest first
		h := listed[i]
		distinct := !r.seen[h]
		r.seen[h] = true
		if i >= maxPushCommits && h != after {
			continue
		}
		c, err := r.git.Commit(h)
		if err != nil {
			continue
		}
		pc, err := e.pushCommitJSON(r, c, distinct)
		if err != nil {
			continue
		}
		commits = append(commits, pc)
		if h == after {
			head = pc
		}
	}
	if head == nil && !deleted {
		if c, err := r.git.Commit(after); err == nil {
			head, _ = e.pushCommitJSON(r, c, false)
		}
	}
	short := func(h hash) string { return h.String()[:12] }
	compare := fmt.Sprintf("%s/%s/compare/%s...%s", e.opts.HTMLURL, r.fullName(), short(before), short(after))
	if created {
		compare = fmt.Sprintf("%s/%s/commit/%s", e.opts.HTMLURL, r.fullName(), short(after))
	}
	payload := map[string]any{
		"ref": ref, "before": before.String(), "after": after.String(),
		"created": created, "deleted": deleted, "forced": forced, "base_ref": nil, "compare": compare,
		"commits": commits, "head_commit": head, "repository": e.repoJSON(r, true),
		"pusher": map[string]any{"name": pusher.Login, "email": pusher.Login + "@users.noreply.github.com"},
	}
	if deleted {
		payload["head_commit"] = nil
	}
	e.emit(r, "push", "", pusher, payload)
}
