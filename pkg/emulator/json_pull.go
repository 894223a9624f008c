package emulator

import (
	"fmt"
)

type jPullBranch struct {
	Label string `json:"label"`
	Ref   string `json:"ref"`
	SHA   string `json:"sha"`
	User  *jUser `json:"user"`
	Repo  *jRepo `json:"repo"`
}

type jPull struct {
	URL                string      `json:"url"`
	ID                 int64       `json:"id"`
	NodeID             string      `json:"node_id"`
	HTMLURL            string      `json:"html_url"`
	DiffURL            string      `json:"diff_url"`
	PatchURL           string      `json:"patch_url"`
	IssueURL           string      `json:"issue_url"`
	CommitsURL         string      `json:"commits_url"`
	CommentsURL        string      `json:"comments_url"`
	StatusesURL        string      `json:"statuses_url"`
	Number             int         `json:"number"`
	State              string      `json:"state"`
	Locked             bool        `json:"locked"`
	Title              string      `json:"title"`
	User               *jUser      `json:"user"`
	Body               *string     `json:"body"`
	Labels             []jLabel    `json:"labels"`
	Milestone          any         `json:"milestone"`
	ActiveLockReason   *string     `json:"active_lock_reason"`
	CreatedAt          string      `json:"created_at"`
	UpdatedAt          string      `json:"updated_at"`
	ClosedAt           *string     `json:"closed_at"`
	MergedAt           *string     `json:"merged_at"`
	MergeCommitSHA     *string     `json:"merge_commit_sha"`
	Assignee           *jUser      `json:"assignee"`
	Assignees          []*jUser    `json:"assignees"`
	RequestedReviewers []*jUser    `json:"requested_reviewers"`
	RequestedTeams     []any       `json:"requested_teams"`
	Head               jPullBranch `json:"head"`
	Base               jPullBranch `json:"base"`
	AuthorAssociation  string      `json:"author_association"`
	AutoMerge          any         `json:"auto_merge"`
	Draft              bool        `json:"draft"`
}

type jPullFull struct {
	jPull
	Merged              bool   `json:"merged"`
	Mergeable           *bool  `json:"mergeable"`
	Rebaseable          *bool  `json:"rebaseable"`
	MergeableState      string `json:"mergeable_state"`
	MergedBy            *jUser `json:"merged_by"`
	Comments            int    `json:"comments"`
	ReviewComments      int    `json:"review_comments"`
	MaintainerCanModify bool   `json:"maintainer_can_modify"`
	Commits             int    `json:"commits"`
	Additions           int    `json:"additions"`
	Deletions           int    `json:"deletions"`
	ChangedFiles        int    `json:"changed_files"`
}

// pullJSON describes a pull request as the list endpoint (full=false) or the single-PR
// endpoint and webhooks (full=true) show it. The caller holds r.mu.
func (e *Emulator) pullJSON(r *repo, is *issue, full bool) any {
	p := is.pr
	base := e.apiURL() + "/repos/" + r.fullName()
	html := fmt.Sprintf("%s/%s/pull/%d", e.opts.HTMLURL, r.fullName(), is.number)
	repoJ := e.repoJSON(r, false)
	baseSHA := p.baseSHA
	if is.state == "open" {
		if h, ok := r.git.Ref("refs/heads/" + p.baseRef); ok {
			baseSHA = h
		}
	}
	j := jPull{
		URL: fmt.Sprintf("%s/pulls/%d", base, is.number), ID: p.id, NodeID: nodeID("PR", r.id, p.id),
		HTMLURL: html, DiffURL: html + ".diff", PatchURL: html + ".patch",
		IssueURL:    fmt.Sprintf("%s/issues/%d", base, is.number),
		CommitsURL:  fmt.Sprintf("%s/pulls/%d/commits", base, is.number),
		CommentsURL: fmt.Sprintf("%s/issues/%d/comments", base, is.number),
		StatusesURL: fmt.Sprintf("%s/statuses/%s", base, p.headSHA),
		Number:      is.number, State: is.state, Title: is.title, User: e.userJSON(is.user),
		Body: optString(is.body), Labels: e.labelsJSON(r, is.labels),
		CreatedAt: ts(is.createdAt), UpdatedAt: ts(is.updatedAt), ClosedAt: tsPtr(is.closedAt),
		MergedAt: tsPtr(p.mergedAt), Assignees: e.usersJSON(is.assignees),
		RequestedReviewers: []*jUser{}, RequestedTeams: []any{},
		Head: jPullBranch{Label: r.owner.Login + ":" + p.headRef, Ref: p.headRef, SHA: p.headSHA.String(),
			User: e.userJSON(r.owner), Repo: repoJ},
		Base: jPullBranch{Label: r.owner.Login + ":" + p.baseRef, Ref: p.baseRef, SHA: baseSHA.String(),
			User: e.userJSON(r.owner), Repo: repoJ},
		AuthorAssociation: association(r, is.user), Draft: p.draft,
	}
	if !p.mergeSHA.IsZero() {
		s := p.mergeSHA.String()
		j.MergeCommitSHA = &s
	}
	if len(is.assignees) > 0 {
		j.Assignee = e.userJSON(is.assignees[0])
	}
	if !full {
		return &j
	}
	f := &jPullFull{jPull: j, Merged: p.merged, MergedBy: e.userJSON(p.mergedBy), Comments: len(is.comments),
		MaintainerCanModify: false, MergeableState: "unknown"}
	if is.state == "open" {
		if m := p.mergeable; m.known && m.base == baseSHA && m.head == p.headSHA {
			clean := m.clean
			f.Mergeable, f.Rebaseable = &clean, &clean
			f.MergeableState = e.mergeableState(r, is, clean)
		}
	}
	if st, err := e.pullStats(r, is); err == nil {
		f.Commits, f.Additions, f.Deletions, f.ChangedFiles = st.commits, st.additions, st.deletions, st.files
	} else {
		e.log.Error("computing pull request stats", "repo", r.fullName(), "pr", is.number, "error", err)
	}
	return f
}

func (e *Emulator) mergeableState(r *repo, is *issue, clean bool) string {
	switch {
	case is.pr.draft:
		return "draft"
	case !clean:
		return "dirty"
	}
	if st := r.statuses[is.pr.headSHA]; len(st) > 0 && combinedState(latestByContext(st)) != "success" {
		return "unstable"
	}
	return "clean"
}
