package emulator

import (
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

// On-disk form of a repository's non-git state.

type repoState struct {
	ID            int64                    `json:"id"`
	Owner         string                   `json:"owner"`
	Name          string                   `json:"name"`
	CreatedAt     time.Time                `json:"created_at"`
	PushedAt      time.Time                `json:"pushed_at"`
	DefaultBranch string                   `json:"default_branch"`
	NextNumber    int                      `json:"next_number"`
	Labels        []labelState             `json:"labels"`
	Issues        []issueState             `json:"issues"`
	Statuses      map[string][]statusState `json:"statuses"`
	Verified      []string                 `json:"verified"`
}

type labelState struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description,omitempty"`
}

type commentState struct {
	ID        int64     `json:"id"`
	User      string    `json:"user"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Minimized string    `json:"minimized,omitempty"`
}

type reviewState struct {
	ID          int64     `json:"id"`
	User        string    `json:"user"`
	Body        string    `json:"body"`
	State       string    `json:"state"`
	CommitID    string    `json:"commit_id"`
	SubmittedAt time.Time `json:"submitted_at"`
}

type pullState struct {
	ID       int64         `json:"id"`
	HeadRef  string        `json:"head_ref"`
	BaseRef  string        `json:"base_ref"`
	HeadSHA  string        `json:"head_sha"`
	BaseSHA  string        `json:"base_sha"`
	Draft    bool          `json:"draft"`
	Merged   bool          `json:"merged"`
	MergedAt *time.Time    `json:"merged_at,omitempty"`
	MergedBy string        `json:"merged_by,omitempty"`
	MergeSHA string        `json:"merge_sha,omitempty"`
	DiffBase string        `json:"diff_base,omitempty"`
	Reviews  []reviewState `json:"reviews"`
}

type issueState struct {
	Number    int            `json:"number"`
	ID        int64          `json:"id"`
	Title     string         `json:"title"`
	Body      string         `json:"body"`
	User      string         `json:"user"`
	State     string         `json:"state"`
	Labels    []string       `json:"labels"`
	Assignees []string       `json:"assignees"`
	Comments  []commentState `json:"comments"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	ClosedAt  *time.Time     `json:"closed_at,omitempty"`
	ClosedBy  string         `json:"closed_by,omitempty"`
	Pull      *pullState     `json:"pull,omitempty"`
}

type statusState struct {
	ID          int64     `json:"id"`
	State       string    `json:"state"`
	TargetURL   string    `json:"target_url,omitempty"`
	Description string    `json:"description,omitempty"`
	Context     string    `json:"context"`
	Creator     string    `json:"creator"`
	CreatedAt   time.Time `json:"created_at"`
}

func loginOrEmpty(u *user) string {
	if u == nil {
		return ""
	}
	return u.Login
}

func hashOrEmpty(h hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}

// snapshot captures r's state; the caller holds r.mu.
func snapshot(r *repo) repoState {
	st := repoState{ID: r.id, Owner: r.owner.Login, Name: r.name, CreatedAt: r.createdAt, PushedAt: r.pushedAt,
		DefaultBranch: r.defaultBranch, NextNumber: r.nextNumber, Statuses: map[string][]statusState{}}
	for _, l := range r.labels {
		st.Labels = append(st.Labels, labelState{l.id, l.name, l.color, l.description})
	}
	for _, is := range r.sortedIssues() {
		s := issueState{Number: is.number, ID: is.id, Title: is.title, Body: is.body, User: is.user.Login, State: is.state,
			CreatedAt: is.createdAt, UpdatedAt: is.updatedAt, ClosedAt: is.closedAt, ClosedBy: loginOrEmpty(is.closedBy)}
		for _, l := range is.labels {
			s.Labels = append(s.Labels, l.name)
		}
		for _, u := range is.assignees {
			s.Assignees = append(s.Assignees, u.Login)
		}
		for _, c := range is.comments {
			s.Comments = append(s.Comments, commentState{c.id, c.user.Login, c.body, c.createdAt, c.updatedAt, c.minimized})
		}
		if p := is.pr; p != nil {
			ps := &pullState{ID: p.id, HeadRef: p.headRef, BaseRef: p.baseRef, HeadSHA: p.headSHA.String(), BaseSHA: hashOrEmpty(p.baseSHA),
				Draft: p.draft, Merged: p.merged, MergedAt: p.mergedAt, MergedBy: loginOrEmpty(p.mergedBy),
				MergeSHA: hashOrEmpty(p.mergeSHA), DiffBase: hashOrEmpty(p.diffBase)}
			for _, rv := range p.reviews {
				ps.Reviews = append(ps.Reviews, reviewState{rv.id, rv.user.Login, rv.body, rv.state, rv.commitID.String(), rv.submittedAt})
			}
			s.Pull = ps
		}
		st.Issues = append(st.Issues, s)
	}
	for h, list := range r.statuses {
		for _, s := range list {
			st.Statuses[h.String()] = append(st.Statuses[h.String()], statusState{s.id, s.state, s.targetURL, s.description, s.context, s.creator.Login, s.createdAt})
		}
	}
	for h := range r.verified {
		st.Verified = append(st.Verified, h.String())
	}
	return st
}

func hashOf(s string) hash {
	h, _ := parseHash(s)
	return h
}

// restore rebuilds a repository from its snapshot and git store.
func (e *Emulator) restore(st repoState, store *gitstore.Store) *repo {
	r := newRepo(st.ID, e.users.getAs(st.Owner, "Organization"), st.Name, store)
	r.createdAt, r.pushedAt, r.defaultBranch, r.nextNumber = st.CreatedAt, st.PushedAt, st.DefaultBranch, st.NextNumber
	byName := map[string]*label{}
	for _, l := range st.Labels {
		lb := &label{id: l.ID, name: l.Name, color: l.Color, description: l.Description}
		r.labels[lowerKey(l.Name)] = lb
		byName[l.Name] = lb
	}
	optUser := func(login string) *user {
		if login == "" {
			return nil
		}
		return e.users.get(login)
	}
	for _, s := range st.Issues {
		is := &issue{number: s.Number, id: s.ID, title: s.Title, body: s.Body, user: e.users.get(s.User), state: s.State,
			createdAt: s.CreatedAt, updatedAt: s.UpdatedAt, closedAt: s.ClosedAt, closedBy: optUser(s.ClosedBy)}
		for _, n := range s.Labels {
			if lb, ok := byName[n]; ok {
				is.labels = append(is.labels, lb)
			}
		}
		for _, a := range s.Assignees {
			is.assignees = append(is.assignees, e.users.get(a))
		}
		for _, c := range s.Comments {
			cm := &comment{id: c.ID, issue: s.Number, user: e.users.get(c.User), body: c.Body, createdAt: c.CreatedAt, updatedAt: c.UpdatedAt, minimized: c.Minimized}
			is.comments = append(is.comments, cm)
			r.comments[cm.id] = cm
		}
		if ps := s.Pull; ps != nil {
			p := &pull{id: ps.ID, headRef: ps.HeadRef, baseRef: ps.BaseRef, headSHA: hashOf(ps.HeadSHA), baseSHA: hashOf(ps.BaseSHA),
				draft: ps.Draft, merged: ps.Merged, mergedAt: ps.MergedAt, mergedBy: optUser(ps.MergedBy),
				mergeSHA: hashOf(ps.MergeSHA), diffBase: hashOf(ps.DiffBase)}
			for _, rv := range ps.Reviews {
				p.reviews = append(p.reviews, &review{rv.ID, e.users.get(rv.User), rv.Body, rv.State, hashOf(rv.CommitID), rv.SubmittedAt})
			}
			is.pr = p
		}
		r.issues[is.number] = is
	}
	for sha, list := range st.Statuses {
		for _, s := range list {
			r.statuses[hashOf(sha)] = append(r.statuses[hashOf(sha)], &status{s.ID, s.State, s.TargetURL, s.Description, s.Context, e.users.get(s.Creator), s.CreatedAt, s.CreatedAt})
		}
	}
	for _, h := range st.Verified {
		r.verified[hashOf(h)] = true
	}
	for _, ref := range store.Refs("refs/") {
		r.seen[ref.Hash] = true
	}
	return r
}
