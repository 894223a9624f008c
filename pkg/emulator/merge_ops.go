package emulator

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

// userSignature is how GitHub signs commits made on a user's behalf.
func userSignature(u *user) gitstore.Signature {
	return gitstore.Signature{Name: u.Login, Email: fmt.Sprintf("%d+%s@users.noreply.github.com", u.ID, u.Login), When: now()}
}

// webFlow is the committer of commits GitHub makes itself (merges, web edits).
func webFlow() gitstore.Signature {
	return gitstore.Signature{Name: "GitHub", Email: "noreply@github.com", When: now()}
}

func (e *Emulator) writeCommit(r *repo, c gitstore.Commit, verified bool) (hash, *apiError) {
	h, err := r.git.WriteCommit(c)
	if err != nil {
		return hash{}, errStatus(http.StatusInternalServerError, err.Error())
	}
	if verified {
		r.verified[h] = true
	}
	return h, nil
}

func (e *Emulator) mergeCommit(r *repo, actor *user, is *issue, baseHead hash, in mergeRequest) (hash, *apiError) {
	tree, conflicts, err := e.mergeCommits(r, baseHead, is.pr.headSHA)
	if err != nil {
		return hash{}, errStatus(http.StatusInternalServerError, err.Error())
	}
	if len(conflicts) > 0 {
		return hash{}, errConflict
	}
	title := in.CommitTitle
	if title == "" {
		title = fmt.Sprintf("Merge pull request #%d from %s/%s", is.number, r.owner.Login, is.pr.headRef)
	}
	body := in.CommitMessage
	if body == "" {
		body = is.title
	}
	return e.writeCommit(r, gitstore.Commit{
		Tree: tree, Parents: []hash{baseHead, is.pr.headSHA},
		Author: userSignature(actor), Committer: webFlow(), Message: title + "\n\n" + body,
	}, true)
}

func (e *Emulator) squashCommit(r *repo, actor *user, is *issue, baseHead, from hash, in mergeRequest) (hash, *apiError) {
	tree, conflicts, err := e.mergeCommits(r, baseHead, is.pr.headSHA)
	if err != nil {
		return hash{}, errStatus(http.StatusInternalServerError, err.Error())
	}
	if len(conflicts) > 0 {
		return hash{}, errConflict
	}
	title := in.CommitTitle
	if title == "" {
		title = fmt.Sprintf("%s (#%d)", is.title, is.number)
	}
	body := in.CommitMessage
	if body == "" {
		commits, err := r.git.Exclusive(is.pr.headSHA, []hash{from}, 0)
		if err != nil {
			return hash{}, errStatus(http.StatusInternalServerError, err.Error())
		}
		var lines []string
		for i := len(commits) - 1; i >= 0; i-- {
			if c, err := r.git.Commit(commits[i]); err == nil {
				lines = append(lines, "* "+strings.TrimSpace(c.Message))
			}
		}
		body = strings.Join(lines, "\n\n")
	}
	return e.writeCommit(r, gitstore.Commit{
		Tree: tree, Parents: []hash{baseHead},
		Author: userSignature(is.user), Committer: webFlow(), Message: strings.TrimSpace(title + "\n\n" + body),
	}, true)
}

// rebaseCommits replays the PR's commits, oldest first, on top of the base branch.
func (e *Emulator) rebaseCommits(r *repo, is *issue, baseHead, from hash) (hash, *apiError) {
	commits, err := r.git.Exclusive(is.pr.headSHA, []hash{from}, 0)
	if err != nil {
		return hash{}, errStatus(http.StatusInternalServerError, err.Error())
	}
	cur := baseHead
	for i := len(commits) - 1; i >= 0; i-- {
		c, err := r.git.Commit(commits[i])
		if err != nil {
			return hash{}, errStatus(http.StatusInternalServerError, err.Error())
		}
		if len(c.Parents) > 1 {
			return hash{}, errStatus(http.StatusMethodNotAllowed, "This branch can't be rebased")
		}
		var parentTree hash
		if len(c.Parents) == 1 {
			pc, err := r.git.Commit(c.Parents[0])
			if err != nil {
				return hash{}, errStatus(http.StatusInternalServerError, err.Error())
			}
			parentTree = pc.Tree
		}
		curCommit, err := r.git.Commit(cur)
		if err != nil {
			return hash{}, errStatus(http.StatusInternalServerError, err.Error())
		}
		tree, conflicts, err := r.git.MergeTrees(parentTree, curCommit.Tree, c.Tree)
		if err != nil {
			return hash{}, errStatus(http.StatusInternalServerError, err.Error())
		}
		if len(conflicts) > 0 {
			return hash{}, errStatus(http.StatusMethodNotAllowed, "This branch can't be rebased")
		}
		var aerr *apiError
		cur, aerr = e.writeCommit(r, gitstore.Commit{
			Tree: tree, Parents: []hash{cur}, Author: c.Author, Committer: webFlow(), Message: c.Message,
		}, true)
		if aerr != nil {
			return hash{}, aerr
		}
	}
	return cur, nil
}
