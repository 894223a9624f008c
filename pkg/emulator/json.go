package emulator

import (
	"fmt"
	"strings"
)

// JSON shapes of GitHub's REST resources (the fields clients read; all in GitHub's names).

type jUser struct {
	Login      string `json:"login"`
	ID         int64  `json:"id"`
	NodeID     string `json:"node_id"`
	AvatarURL  string `json:"avatar_url"`
	GravatarID string `json:"gravatar_id"`
	URL        string `json:"url"`
	HTMLURL    string `json:"html_url"`
	Type       string `json:"type"`
	SiteAdmin  bool   `json:"site_admin"`
	// Name and Email appear in push payloads' repository owner.
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

func (e *Emulator) userJSON(u *user) *jUser {
	if u == nil {
		return nil
	}
	prefix := map[string]string{"Bot": "BOT", "Organization": "O"}[u.Type]
	if prefix == "" {
		prefix = "U"
	}
	return &jUser{
		Login: u.Login, ID: u.ID, NodeID: nodeID(prefix, u.ID),
		AvatarURL: fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", u.ID),
		URL:       e.apiURL() + "/users/" + u.Login, HTMLURL: e.opts.HTMLURL + "/" + u.Login,
		Type: u.Type,
	}
}

func (e *Emulator) usersJSON(us []*user) []*jUser {
	out := make([]*jUser, 0, len(us))
	for _, u := range us {
		out = append(out, e.userJSON(u))
	}
	return out
}

type jRepo struct {
	ID                  int64           `json:"id"`
	NodeID              string          `json:"node_id"`
	Name                string          `json:"name"`
	FullName            string          `json:"full_name"`
	Private             bool            `json:"private"`
	Owner               *jUser          `json:"owner"`
	HTMLURL             string          `json:"html_url"`
	Description         *string         `json:"description"`
	Fork                bool            `json:"fork"`
	URL                 string          `json:"url"`
	PullsURL            string          `json:"pulls_url"`
	GitURL              string          `json:"git_url"`
	CloneURL            string          `json:"clone_url"`
	SSHURL              string          `json:"ssh_url"`
	CreatedAt           any             `json:"created_at"`
	UpdatedAt           string          `json:"updated_at"`
	PushedAt            any             `json:"pushed_at"`
	Size                int             `json:"size"`
	Visibility          string          `json:"visibility"`
	Archived            bool            `json:"archived"`
	Disabled            bool            `json:"disabled"`
	OpenIssuesCount     int             `json:"open_issues_count"`
	Topics              []string        `json:"topics"`
	DefaultBranch       string          `json:"default_branch"`
	MasterBranch        string          `json:"master_branch,omitempty"`
	Permissions         map[string]bool `json:"permissions,omitempty"`
	AllowMergeCommit    bool            `json:"allow_merge_commit"`
	AllowSquashMerge    bool            `json:"allow_squash_merge"`
	AllowRebaseMerge    bool            `json:"allow_rebase_merge"`
	DeleteBranchOnMerge bool            `json:"delete_branch_on_merge"`
}

// repoJSON describes r; the caller holds r.mu. forPush uses the push payload's variant
// (unix timestamps, owner with name and email).
func (e *Emulator) repoJSON(r *repo, forPush bool) *jRepo {
	open := 0
	for _, is := range r.issues {
		if is.state == "open" {
			open++
		}
	}
	j := &jRepo{
		ID: r.id, NodeID: nodeID("R", r.id), Name: r.name, FullName: r.fullName(),
		Owner: e.userJSON(r.owner), HTMLURL: e.opts.HTMLURL + "/" + r.fullName(),
		URL: e.apiURL() + "/repos/" + r.fullName(), PullsURL: e.apiURL() + "/repos/" + r.fullName() + "/pulls{/number}",
		GitURL:    "git://" + hostOf(e.opts.HTMLURL) + "/" + r.fullName() + ".git",
		CloneURL:  e.opts.HTMLURL + "/" + r.fullName() + ".git",
		SSHURL:    "git@" + hostOf(e.opts.HTMLURL) + ":" + r.fullName() + ".git",
		CreatedAt: ts(r.createdAt), UpdatedAt: ts(r.pushedAt), PushedAt: ts(r.pushedAt),
		Visibility: "public", OpenIssuesCount: open, Topics: []string{}, DefaultBranch: r.defaultBranch,
		Permissions:      map[string]bool{"admin": true, "maintain": true, "push": true, "triage": true, "pull": true},
		AllowMergeCommit: true, AllowSquashMerge: true, AllowRebaseMerge: true,
	}
	if forPush {
		j.CreatedAt, j.PushedAt = r.createdAt.Unix(), r.pushedAt.Unix()
		j.MasterBranch = r.defaultBranch
		j.Permissions = nil
		j.Owner.Name, j.Owner.Email = r.owner.Login, r.owner.Login+"@users.noreply."+hostOf(e.opts.HTMLURL)
	}
	return j
}

func hostOf(url string) string {
	if _, rest, ok := strings.Cut(url, "://"); ok {
		url = rest
	}
	host, _, _ := strings.Cut(url, "/")
	return host
}

type jLabel struct {
	ID          int64   `json:"id"`
	NodeID      string  `json:"node_id"`
	URL         string  `json:"url"`
	Name        string  `json:"name"`
	Color       string  `json:"color"`
	Default     bool    `json:"default"`
	Description *string `json:"description"`
}

func (e *Emulator) labelJSON(r *repo, l *label) jLabel {
	var desc *string
	if l.description != "" {
		desc = &l.description
	}
	return jLabel{ID: l.id, NodeID: nodeID("LA", r.id, l.id), URL: e.apiURL() + "/repos/" + r.fullName() + "/labels/" + l.name,
		Name: l.name, Color: l.color, Description: desc}
}

func (e *Emulator) labelsJSON(r *repo, ls []*label) []jLabel {
	out := make([]jLabel, 0, len(ls))
	for _, l := range ls {
		out = append(out, e.labelJSON(r, l))
	}
	return out
}

type jIssuePR struct {
	URL      string  `json:"url"`
	HTMLURL  string  `json:"html_url"`
	DiffURL  string  `json:"diff_url"`
	PatchURL string  `json:"patch_url"`
	MergedAt *string `json:"merged_at"`
}

type jIssue struct {
	URL               string    `json:"url"`
	RepositoryURL     string    `json:"repository_url"`
	CommentsURL       string    `json:"comments_url"`
	HTMLURL           string    `json:"html_url"`
	ID                int64     `json:"id"`
	NodeID            string    `json:"node_id"`
	Number            int       `json:"number"`
	Title             string    `json:"title"`
	User              *jUser    `json:"user"`
	Labels            []jLabel  `json:"labels"`
	State             string    `json:"state"`
	StateReason       *string   `json:"state_reason"`
	Locked            bool      `json:"locked"`
	Assignee          *jUser    `json:"assignee"`
	Assignees         []*jUser  `json:"assignees"`
	Milestone         any       `json:"milestone"`
	Comments          int       `json:"comments"`
	CreatedAt         string    `json:"created_at"`
	UpdatedAt         string    `json:"updated_at"`
	ClosedAt          *string   `json:"closed_at"`
	ClosedBy          *jUser    `json:"closed_by,omitempty"`
	AuthorAssociation string    `json:"author_association"`
	Body              *string   `json:"body"`
	PullRequest       *jIssuePR `json:"pull_request,omitempty"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func association(r *repo, u *user) string {
	if u != nil && strings.EqualFold(u.Login, r.owner.Login) {
		return "OWNER"
	}
	if u != nil {
		switch r.role(u.Login) {
		case "none", "read", "triage":
			return "NONE"
		}
	}
	return "COLLABORATOR"
}

func (e *Emulator) issueJSON(r *repo, is *issue) *jIssue {
	base := e.apiURL() + "/repos/" + r.fullName()
	j := &jIssue{
		URL: fmt.Sprintf("%s/issues/%d", base, is.number), RepositoryURL: base,
		CommentsURL: fmt.Sprintf("%s/issues/%d/comments", base, is.number),
		HTMLURL:     fmt.Sprintf("%s/%s/issues/%d", e.opts.HTMLURL, r.fullName(), is.number),
		ID:          is.id, NodeID: nodeID("I", r.id, is.id), Number: is.number, Title: is.title,
		User: e.userJSON(is.user), Labels: e.labelsJSON(r, is.labels), State: is.state,
		Assignees: e.usersJSON(is.assignees), Comments: len(is.comments),
		CreatedAt: ts(is.createdAt), UpdatedAt: ts(is.updatedAt), ClosedAt: tsPtr(is.closedAt),
		AuthorAssociation: association(r, is.user), Body: optString(is.body),
	}
	if len(is.assignees) > 0 {
		j.Assignee = e.userJSON(is.assignees[0])
	}
	if is.state == "closed" {
		reason := "completed"
		j.StateReason = &reason
		j.ClosedBy = e.userJSON(is.closedBy)
	}
	if is.pr != nil {
		j.HTMLURL = fmt.Sprintf("%s/%s/pull/%d", e.opts.HTMLURL, r.fullName(), is.number)
		j.PullRequest = &jIssuePR{
			URL: fmt.Sprintf("%s/pulls/%d", base, is.number), HTMLURL: j.HTMLURL,
			DiffURL: j.HTMLURL + ".diff", PatchURL: j.HTMLURL + ".patch", MergedAt: tsPtr(is.pr.mergedAt),
		}
	}
	return j
}

type jComment struct {
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	IssueURL          string `json:"issue_url"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	User              *jUser `json:"user"`
	CreatedAt         string `json:"created_at"`
	UpdatedAt         string `json:"updated_at"`
	AuthorAssociation string `json:"author_association"`
	Body              string `json:"body"`
}

func (e *Emulator) commentJSON(r *repo, c *comment) *jComment {
	kind := "issues"
	if is := r.issues[c.issue]; is != nil && is.pr != nil {
		kind = "pull"
	}
	return &jComment{
		URL:      fmt.Sprintf("%s/repos/%s/issues/comments/%d", e.apiURL(), r.fullName(), c.id),
		HTMLURL:  fmt.Sprintf("%s/%s/%s/%d#issuecomment-%d", e.opts.HTMLURL, r.fullName(), kind, c.issue, c.id),
		IssueURL: fmt.Sprintf("%s/repos/%s/issues/%d", e.apiURL(), r.fullName(), c.issue),
		ID:       c.id, NodeID: nodeID("IC", r.id, c.id), User: e.userJSON(c.user),
		CreatedAt: ts(c.createdAt), UpdatedAt: ts(c.updatedAt), AuthorAssociation: association(r, c.user), Body: c.body,
	}
}
